#include "hub/json_error_position.h"

#include <algorithm>
#include <cstdio>

namespace duplex::hub {
namespace {

// A recursive-descent checker of RFC 8259's grammar that stops at the first misfit, `at`
// then pointing there. Depth is bounded so that a hostile text cannot exhaust the stack.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool document() {
    if (!value(0)) return false;
    space();
    return at == text_.size();
  }

  size_t at = 0;

 private:
  static constexpr int kMaxDepth = 1024;

  bool more() const { return at < text_.size(); }
  char peek() const { return text_[at]; }

  void space() {
    while (more() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++at;
  }

  bool value(int depth) {
    space();
    if (!more() || depth > kMaxDepth) return false;
    switch (peek()) {
      case '{':
        return container(depth, '}', true);
      case '[':
        return container(depth, ']', false);
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }

  bool container(int depth, char close, bool object) {
    ++at;
    space();
    if (more() && peek() == close) {
      ++at;
      return true;
    }
    for (;;) {
      if (object) {
        space();
        if (!more() || peek() != '"' || !string()) return false;
        space();
        if (!more() || peek() != ':') return false;
        ++at;
      }
      if (!value(depth + 1)) return false;
      space();
      if (!more()) return false;
      if (peek() == close) {
        ++at;
        return true;
      }
      if (peek() != ',') return false;
      ++at;
    }
  }

  bool string() {
    ++at;
    while (more()) {
      const unsigned char c = static_cast<unsigned char>(peek());
      if (c == '"') {
        ++at;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        ++at;
        if (!more()) return false;
        const char e = peek();
        if (e == 'u') {
          for (int i = 0; i < 4; ++i) {
            ++at;
            if (!more() || !isHex(peek())) return false;
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
      }
      ++at;
    }
    return false;
  }

  bool literal(std::string_view word) {
    for (char c : word) {
      if (!more() || peek() != c) return false;
      ++at;
    }
    return true;
  }

  bool number() {
    if (more() && peek() == '-') ++at;
    if (!more()) return false;
    if (peek() == '0') {
      ++at;
    } else if (!digits()) {
      return false;
    }
    if (more() && peek() == '.') {
      ++at;
      if (!digits()) return false;
    }
    if (more() && (peek() == 'e' || peek() == 'E')) {
      ++at;
      if (more() && (peek() == '+' || peek() == '-')) ++at;
      if (!digits()) return false;
    }
    return true;
  }

  bool digits() {
    const size_t start = at;
    while (more() && peek() >= '0' && peek() <= '9') ++at;
    return at > start;
  }

  static bool isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  std::string_view text_;
};

}  // namespace

std::optional<JsonPlace> findJsonError(std::string_view text) {
  Scanner scanner(text);
  if (scanner.document()) return std::nullopt;
  JsonPlace place;
  place.offset = scanner.at;
  for (size_t i = 0; i < place.offset; ++i) {
    if (text[i] == '\n') {
      ++place.line;
      place.column = 1;
    } else {
      ++place.column;
    }
  }
  return place;
}

void appendJsonErrorPlace(std::string& out, std::string_view text) {
  auto place = findJsonError(text);
  if (!place) return;
  char where[96];
  const int n = std::snprintf(where, sizeof where, " at line %zu, column %zu (byte %zu)",
                              place->line, place->column, place->offset);
  if (n > 0) out.append(where, std::min(static_cast<size_t>(n), sizeof where - 1));
}

std::string describeJsonError(std::string_view text, std::string_view problem) {
  std::string out(problem);
  appendJsonErrorPlace(out, text);
  return out;
}

}  // namespace duplex::hub
