#include "deflate_extension_header.h"

#include "http.h"

namespace duplex::protocol {
namespace {

// A cursor over one header line. Each method consumes what it recognises and leaves the
// cursor where it failed otherwise, so errors can say where.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool atEnd() const { return pos_ == s_.size(); }
  char peek() const { return s_[pos_]; }
  size_t position() const { return pos_; }

  void skipWhitespace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }

  bool consume(char c) {
    if (atEnd() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  std::string_view token() {
    size_t start = pos_;
    while (pos_ < s_.size() && isTokenChar(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }

  // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE, unescaped into `out`.
  // qdtext is HTAB, SP and visible characters other than '"' and '\' (obs-text included).
  bool quotedString(std::string& out) {
    if (!consume('"')) return false;
    while (pos_ < s_.size()) {
      auto c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') return true;
      if (c == '\\') {
        if (pos_ == s_.size()) return false;
        c = static_cast<unsigned char>(s_[pos_++]);
      }
      if (c < 0x20 ? c != '\t' : c == 0x7f) return false;
      out.push_back(static_cast<char>(c));
    }
    return false;  // no closing quote
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

std::string at(const Scanner& scanner, std::string_view what) {
  return std::string(what) + " at offset " + std::to_string(scanner.position()) +
         " of Sec-WebSocket-Extensions";
}

bool parseParam(Scanner& scanner, ExtensionParam& param, std::string& error) {
  std::string_view name = scanner.token();
  if (name.empty()) {
    error = at(scanner, "expected a parameter name");
    return false;
  }
  param.name.assign(name);
  scanner.skipWhitespace();
  if (!scanner.consume('=')) return true;
  scanner.skipWhitespace();
  std::string value;
  if (!scanner.atEnd() && scanner.peek() == '"') {
    if (!scanner.quotedString(value)) {
      error = at(scanner, "unterminated or invalid quoted string");
      return false;
    }
    // RFC 6455 9.1: the unescaped value of a quoted-string must conform to 'token'.
    if (!isHttpToken(value)) {
      error = at(scanner, "quoted parameter value is not a token");
      return false;
    }
  } else {
    value.assign(scanner.token());
    if (value.empty()) {
      error = at(scanner, "expected a parameter value");
      return false;
    }
  }
  param.value = std::move(value);
  return true;
}

bool parseLine(std::string_view line, std::vector<ExtensionElement>& out, std::string& error) {
  Scanner scanner(line);
  for (;;) {
    scanner.skipWhitespace();
    if (scanner.atEnd()) return true;
    if (scanner.consume(',')) continue;  // empty list element

    ExtensionElement element;
    std::string_view name = scanner.token();
    if (name.empty()) {
      error = at(scanner, "expected an extension name");
      return false;
    }
    element.name.assign(name);
    for (;;) {
      scanner.skipWhitespace();
      if (!scanner.consume(';')) break;
      scanner.skipWhitespace();
      if (!parseParam(scanner, element.params.emplace_back(), error)) return false;
    }
    out.push_back(std::move(element));
    if (scanner.atEnd()) return true;
    if (!scanner.consume(',')) {
      error = at(scanner, "expected ',' or ';'");
      return false;
    }
  }
}

}  // namespace

bool isHttpToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isTokenChar(c)) return false;
  }
  return true;
}

bool parseExtensionHeader(std::span<const std::string_view> lines,
                          std::vector<ExtensionElement>& out, std::string& error) {
  for (std::string_view line : lines) {
    if (!parseLine(line, out, error)) return false;
  }
  return true;
}

}  // namespace duplex::protocol
