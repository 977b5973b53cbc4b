#pragma once
// Helpers shared by the net, server and client tests: driving a Loop until a condition holds
// (never sleeping as a way to synchronise), and raw TCP peers for byte-level control.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "net/loop.h"

namespace duplex::test {

// Names the cases of a parameterised table after their `name` member.
struct CaseName {
  template <class Param>
  std::string operator()(const ::testing::TestParamInfo<Param>& param) const {
    return param.param.name;
  }
};

inline uint64_t monotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

// Runs `loop` until `done()` holds (checked every millisecond) or `boundMs` have passed; returns
// whether done() held. The bound only matters when something is broken, so it is generous.
inline bool runUntil(net::Loop& loop, const std::function<bool()>& done, uint64_t boundMs = 5000) {
  // done() may consume what it checks (a parsed response): it is never called again once true.
  bool satisfied = done();
  if (satisfied) return true;
  // Both timers only stop the loop: cancelling a timer from its own callback is not what these
  // helpers are here to test.
  net::Loop::TimerId poll = loop.setInterval(1, [&] {
    if (!satisfied && done()) {
      satisfied = true;
      loop.stop();
    }
  });
  net::Loop::TimerId bound = loop.setTimeout(boundMs, [&] { loop.stop(); });
  loop.run();
  loop.cancelTimer(poll);
  loop.cancelTimer(bound);
  return satisfied;
}

// Runs the loop for `ms` whatever happens (a measurement window, not a synchronisation).
inline void runFor(net::Loop& loop, uint64_t ms) {
  net::Loop::TimerId t = loop.setTimeout(ms, [&loop] { loop.stop(); });
  loop.run();
  loop.cancelTimer(t);
}

// Exactly one iteration: the events ready now, due timers, posted tasks, then the flush.
inline void runOnce(net::Loop& loop) {
  loop.post([&loop] { loop.stop(); });
  loop.run();
}

inline void setNonBlocking(int fd, bool on) {
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK));
}

inline sockaddr_in loopbackAddress(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// A port on 127.0.0.1 that nobody listens on now: bound, then let go. A connect to it is
// refused; a server started on it may find it taken meanwhile (then start it on another).
inline uint16_t unusedLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = loopbackAddress(0);
  socklen_t length = sizeof address;
  const bool bound = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
                     getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  if (fd >= 0) ::close(fd);
  if (!bound) ADD_FAILURE() << "no port on 127.0.0.1: " << std::strerror(errno);
  return bound ? ntohs(address.sin_port) : 0;
}

// A blocking TCP connection to 127.0.0.1:port (a listener on the same thread's loop is fine:
// the kernel completes the handshake into the backlog). `receiveBuffer` > 0 shrinks SO_RCVBUF
// before connecting, which keeps the advertised window small: a peer that does not read then
// pushes back after a few KiB.
inline int connectTcp(uint16_t port, int receiveBuffer = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (receiveBuffer > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  }
  sockaddr_in address = loopbackAddress(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

// Two connected TCP sockets on loopback: {a, b}, both blocking.
inline std::pair<int, int> tcpPair(int receiveBufferOfB = 0) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = loopbackAddress(0);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener, 1) != 0) {
    ::close(listener);
    return {-1, -1};
  }
  socklen_t length = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  int b = connectTcp(ntohs(address.sin_port), receiveBufferOfB);
  int a = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ::close(listener);
  return {a, b};
}

// The peer side of a connection under test, driven from the test's thread: sends are small
// enough for the kernel to take at once, reads never block (call pump() from a runUntil
// predicate).
class RawPeer {
 public:
  explicit RawPeer(int fd) : fd_(fd) {
    if (fd_ >= 0) setNonBlocking(fd_, true);
  }
  explicit RawPeer(uint16_t port, int receiveBuffer = 0)
      : RawPeer(connectTcp(port, receiveBuffer)) {}
  ~RawPeer() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;

  int fd() const { return fd_; }
  bool connected() const { return fd_ >= 0; }

  // Sends all of `bytes`, waiting up to 2 s for room; false when the kernel would not take them.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, 2000) <= 0) return false;
        continue;
      }
      return false;
    }
    return true;
  }
  // Sends as much as the kernel takes now; returns how much.
  size_t sendSome(std::string_view bytes) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n > 0 ? static_cast<size_t>(n) : 0;
  }

  // Reads whatever is available. Returns true when something new arrived or the end was seen.
  bool pump() {
    if (ended_) return false;
    bool progress = false;
    char buffer[65536];
    for (;;) {
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) {
        received_.append(buffer, static_cast<size_t>(n));
        progress = true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return progress;
      ended_ = true;
      endError_ = n == 0 ? 0 : errno;
      return true;
    }
  }

  std::string& received() { return received_; }
  // True once EOF (endError() == 0) or an error such as ECONNRESET was read.
  bool ended() const { return ended_; }
  int endError() const { return endError_; }

  void shutdownWrite() { ::shutdown(fd_, SHUT_WR); }
  // Closes with RST instead of FIN.
  void reset() {
    linger option{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &option, sizeof option);
    ::close(fd_);
    fd_ = -1;
  }
  void close() {
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  std::string received_;
  bool ended_ = false;
  int endError_ = 0;
};

// Deterministic bytes for large transfers, so that a lost or reordered block shows.
inline std::string pattern(size_t size, uint32_t seed = 1) {
  std::string out(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1103515245u + 12345u;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

}  // namespace duplex::test
