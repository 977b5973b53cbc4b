#pragma once
// Where a JSON text stops being JSON, for error messages a person can act on ("at line 3,
// column 14"). simdjson says what went wrong but not where; this scanner is only run once a
// parse has failed, so the fast path pays nothing for it.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace duplex::hub {

struct JsonPlace {
  size_t offset = 0;  // bytes from the start
  size_t line = 1;    // from 1
  size_t column = 1;  // bytes from the line's start, from 1
};

// The place of the first byte that cannot continue a JSON text (RFC 8259), or the end when the
// text stops early; nullopt when the scanner finds the text well-formed (simdjson refused it
// for something else, such as invalid UTF-8 or nesting too deep).
std::optional<JsonPlace> findJsonError(std::string_view text);

// "PROBLEM at line L, column C (byte B)", or PROBLEM alone when no place is found.
std::string describeJsonError(std::string_view text, std::string_view problem);
// Appends " at line L, column C (byte B)" to `out` when a place is found. Allocates nothing
// when `out` has room (the command parser reuses its message buffer).
void appendJsonErrorPlace(std::string& out, std::string_view text);

}  // namespace duplex::hub
