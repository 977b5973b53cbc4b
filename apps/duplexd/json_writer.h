#pragma once
// Writing JSON (parsing is simdjson's job): just enough to build the demo's messages without a
// temporary per field.
#include <cstdint>
#include <string>
#include <string_view>

namespace duplexd {

// Appends `text` as a JSON string literal, quotes included (RFC 8259 7 escapes).
void appendJsonString(std::string& out, std::string_view text);

inline void appendJsonNumber(std::string& out, int64_t value) {
  out += std::to_string(value);
}

// {"type":"error","code":"...","message":"..."}
std::string errorMessage(std::string_view code, std::string_view message);

}  // namespace duplexd
