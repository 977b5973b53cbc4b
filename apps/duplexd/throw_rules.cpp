#include "throw_rules.h"

#include <algorithm>
#include <memory>

namespace duplexd {
namespace {

size_t countCodePoints(std::string_view utf8) {
  return static_cast<size_t>(
      std::count_if(utf8.begin(), utf8.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// C0 controls and DEL (C1 controls are two-byte sequences starting 0xC2 0x80..0x9F). The text
// is valid UTF-8 already: simdjson validated it.
bool hasControlCharacter(std::string_view utf8) {
  for (size_t i = 0; i < utf8.size(); ++i) {
    auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < utf8.size() && static_cast<unsigned char>(utf8[i + 1]) < 0xA0) {
      return true;
    }
  }
  return false;
}

ThrowProblem problem(ThrowProblem::Field field, std::string message) {
  return {field, std::move(message)};
}

// Checks `kind` and the optional `text` of a throw.
std::optional<ThrowProblem> checkThrowFields(simdjson::dom::object fields) {
  using Field = ThrowProblem::Field;
  std::string_view kind;
  if (fields["kind"].get(kind) != simdjson::SUCCESS ||
      std::find(kThrowKinds.begin(), kThrowKinds.end(), kind) == kThrowKinds.end()) {
    return problem(Field::Kind, "kind must be one of tomato, candy, egg, cat");
  }
  auto textField = fields["text"];
  if (textField.error() == simdjson::NO_SUCH_FIELD) return std::nullopt;
  std::string_view text;
  if (textField.get(text) != simdjson::SUCCESS)
    return problem(Field::Text, "text must be a string");
  if (countCodePoints(text) > kMaxThrowTextChars) {
    return problem(Field::Text,
                   "text is at most " + std::to_string(kMaxThrowTextChars) + " characters");
  }
  if (hasControlCharacter(text)) {
    return problem(Field::Text, "text must not contain control characters");
  }
  return std::nullopt;
}

}  // namespace

std::optional<ThrowProblem> checkThrowData(simdjson::dom::parser& parser, std::string_view json) {
  using Field = ThrowProblem::Field;
  constexpr std::string_view kShape =
      R"(a throw is {"kind": "...", "text": "..."} (text optional))";
  simdjson::dom::object fields;
  if (parser.parse(json.data(), json.size()).get(fields) != simdjson::SUCCESS) {
    return problem(Field::Shape, std::string(kShape));
  }
  for (simdjson::dom::key_value_pair field : fields) {
    if (field.key != "kind" && field.key != "text") {
      // Keys are at most a few hundred bytes here: max_data_bytes bounds the whole data.
      return problem(Field::Shape,
                     "unknown key \"" + std::string(field.key) + "\": " + std::string(kShape));
    }
  }
  return checkThrowFields(fields);
}

duplex::hub::PublishValidator throwValidator() {
  // The hub calls it on every loop's thread: one parser per thread, reused by its calls.
  return [](std::string_view, std::string_view data) -> std::optional<duplex::hub::HubError> {
    thread_local simdjson::dom::parser parser;
    auto broken = checkThrowData(parser, data);
    if (!broken) return std::nullopt;
    return duplex::hub::HubError{duplex::hub::ErrorCode::BadRequest, std::move(broken->message)};
  };
}

}  // namespace duplexd
