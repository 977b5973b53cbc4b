// redis:// and rediss:// URLs (the IANA scheme registrations: redis://[[USER]:PASSWORD@]HOST
// [:PORT][/DB]). The error is one line meant for a person at a terminal, and never repeats the
// password.
#include <cctype>
#include <charconv>
#include <string>

#include "redis/redis.h"

namespace duplex::redis {
namespace {

bool startsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 2.1: a password holding '@', ':' or '/' is written percent-encoded.
bool percentDecode(std::string_view text, std::string& out) {
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return false;
    int high = hexValue(text[i + 1]);
    int low = hexValue(text[i + 2]);
    if (high < 0 || low < 0) return false;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return true;
}

template <class Int>
bool parseNumber(std::string_view text, Int& out) {
  if (text.empty() || text.size() > 9) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string Endpoint::text() const {
  std::string url = tls ? "rediss://" : "redis://";
  if (!user.empty()) url += user + "@";
  url += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  url += ":" + std::to_string(port);
  if (db != 0) url += "/" + std::to_string(db);
  return url;
}

std::optional<Endpoint> parseUrl(std::string_view url, std::string* error) {
  auto fail = [error](std::string why) -> std::optional<Endpoint> {
    if (error) *error = "bad Redis URL: " + why;
    return std::nullopt;
  };
  Endpoint endpoint;
  std::string_view rest;
  if (startsWithNoCase(url, "redis://")) {
    rest = url.substr(8);
  } else if (startsWithNoCase(url, "rediss://")) {
    endpoint.tls = true;
    rest = url.substr(9);
  } else {
    return fail(
        "it must start with redis:// or rediss:// (redis://[[USER]:PASSWORD@]HOST[:PORT][/DB])");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return fail("query strings and fragments are not supported");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);

  // The password may itself hold '@' when not encoded: the host follows the last one.
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return fail("the part before '@' must be USER:PASSWORD or :PASSWORD");
    }
    if (!percentDecode(userinfo.substr(0, colon), endpoint.user) ||
        !percentDecode(userinfo.substr(colon + 1), endpoint.password)) {
      return fail("bad percent-encoding in the user or password");
    }
    if (!endpoint.user.empty() && endpoint.password.empty()) {
      return fail("user '" + endpoint.user + "' has no password (USER:PASSWORD@HOST)");
    }
  }

  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated '[' in the host");
    endpoint.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("unexpected text after ']'");
      port = after.substr(1);
      if (port.empty()) return fail("empty port");
    }
  } else {
    size_t colon = authority.find(':');
    endpoint.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return fail("empty port");
    }
  }
  if (endpoint.host.empty()) return fail("no host");
  if (!port.empty()) {
    uint32_t number = 0;
    if (!parseNumber(port, number) || number == 0 || number > 65535) {
      return fail("port '" + std::string(port) + "' is not a number from 1 to 65535");
    }
    endpoint.port = static_cast<uint16_t>(number);
  }
  if (!path.empty()) {
    int db = 0;
    if (!parseNumber(path, db)) {
      return fail("database '" + std::string(path) + "' is not a number (/DB, 0 by default)");
    }
    endpoint.db = db;
  }
  return endpoint;
}

}  // namespace duplex::redis
