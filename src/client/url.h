#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace duplex {

// ws://host[:port]/path?query and wss://... (RFC 6455 3). Fragments are not allowed there.
struct WebSocketUrl {
  bool secure = false;
  std::string host;    // without brackets for IPv6 literals
  uint16_t port = 0;   // 80 / 443 when absent
  std::string target;  // path + query, at least "/"

  // The Host header value: the port only when it is not the scheme's default.
  std::string hostHeader() const;
};

bool parseWebSocketUrl(std::string_view url, WebSocketUrl& out, std::string& error);

}  // namespace duplex
