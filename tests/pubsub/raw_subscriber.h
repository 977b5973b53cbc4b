#pragma once
// A subscriber that never reads unless told to, for the Topics tests of slow subscribers: it
// completes the handshake on /t/<topic> (the route both pubsub fixtures subscribe by path) with a
// small receive buffer, so its kernel buffers fill up soon and the server's queue for it grows.
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "net_test_util.h"
#include "ws_test_util.h"

namespace duplex::test {

// The connected socket (blocking), or -1.
inline int rawSubscriber(uint16_t port, std::string_view topic) {
  int fd = connectTcp(port, 4096);
  if (fd < 0) return -1;
  std::string request = upgradeRequest("/t/" + std::string(topic));
  ::send(fd, request.data(), request.size(), 0);
  return fd;
}

}  // namespace duplex::test
