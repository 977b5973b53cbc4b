#include "client/url.h"

#include <cctype>
#include <charconv>

namespace duplex {

std::string WebSocketUrl::hostHeader() const {
  std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port == (secure ? 443 : 80)) return name;
  return name + ":" + std::to_string(port);
}

bool parseWebSocketUrl(std::string_view url, WebSocketUrl& out, std::string& error) {
  std::string_view rest;
  // RFC 3986 3.1: schemes are case-insensitive ("WS://" is ws://).
  auto hasScheme = [&](std::string_view scheme) {
    if (url.size() < scheme.size()) return false;
    for (size_t i = 0; i < scheme.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(url[i])) != scheme[i]) return false;
    }
    return true;
  };
  if (hasScheme("ws://")) {
    out.secure = false;
    rest = url.substr(5);
  } else if (hasScheme("wss://")) {
    out.secure = true;
    rest = url.substr(6);
  } else {
    error = "URL must start with ws:// or wss://";
    return false;
  }
  if (rest.find('#') != std::string_view::npos) {
    error = "a WebSocket URL must not have a fragment (RFC 6455 3)";
    return false;
  }
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (out.target.front() == '?') out.target.insert(0, "/");
  std::string_view portText;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated IPv6 address in URL";
      return false;
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (after.starts_with(":"))
      portText = after.substr(1);
    else if (!after.empty()) {
      error = "unexpected text after the IPv6 address";
      return false;
    }
  } else {
    size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    // An IPv6 literal must be bracketed (RFC 3986 3.2.2): "ws://::1/" is ambiguous.
    if (out.host.find(':') != std::string::npos) {
      error = "an IPv6 address in a URL must be in brackets, like ws://[::1]:9001/";
      return false;
    }
    if (colon != std::string_view::npos) portText = authority.substr(colon + 1);
  }
  if (out.host.empty()) {
    error = "URL has no host";
    return false;
  }
  out.port = out.secure ? 443 : 80;
  if (!portText.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), value);
    if (ec != std::errc() || end != portText.data() + portText.size() || value == 0 ||
        value > 65535) {
      error = "bad port in URL";
      return false;
    }
    out.port = static_cast<uint16_t>(value);
  }
  return true;
}

}  // namespace duplex
