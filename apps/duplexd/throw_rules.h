#pragma once
// What a throw is: the rules of the hub's `demo` namespace, where duplexd registers
// throwValidator() for publishes (docs/protocol.md, "duplexd's demo namespace").
//
// A throw has a `kind` (tomato, candy, egg or cat) and an optional `text`: a string of at most
// 64 Unicode code points with no control characters (C0, DEL, C1).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "hub/hub.h"

namespace duplexd {

inline constexpr std::array<std::string_view, 4> kThrowKinds = {"tomato", "candy", "egg", "cat"};
inline constexpr size_t kMaxThrowTextChars = 64;

// The rule a throw breaks and a message for the thrower.
struct ThrowProblem {
  enum class Field : uint8_t {
    Shape,  // not an object, or a key that is not kind or text
    Kind,
    Text,
  };
  Field field;
  std::string message;
};

// Checks the data of a publish to the hub's demo namespace: a JSON object with exactly `kind`
// and optionally `text`, nothing else (a key the page does not send is refused, so what is
// stored is what every page can show).
std::optional<ThrowProblem> checkThrowData(simdjson::dom::parser& parser, std::string_view json);

// checkThrowData as a hub validator: a broken rule is bad_request with its message. Keeps a
// simdjson parser per thread (the hub calls it on every loop's thread), reused by its calls.
duplex::hub::PublishValidator throwValidator();

}  // namespace duplexd
