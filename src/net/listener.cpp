#include "net/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "net/address.h"

namespace duplex::net {

Listener::Listener(Loop& loop, std::string_view host, uint16_t port, AcceptHandler onAccept,
                   int backlog, bool reusePort)
    : loop_(loop), onAccept_(std::move(onAccept)) {
  sockaddr_storage address;
  socklen_t length;
  std::string error;
  if (!resolveAddress(host, port, address, length, error)) throw std::runtime_error(error);
  fd_ = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reusePort) setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(fd_, backlog) != 0) {
    int saved = errno;
    ::close(fd_);
    throw std::system_error(saved, std::generic_category(),
                            "cannot listen on " + std::string(host) + ":" + std::to_string(port));
  }
  sockaddr_storage bound{};
  socklen_t boundLength = sizeof bound;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &boundLength);
  port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                           : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  loop_.addListener(fd_, this);
}

Listener::~Listener() {
  close();
}

std::string Listener::address() const {
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  if (fd_ < 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &length) != 0) return {};
  return formatAddress(reinterpret_cast<sockaddr*>(&bound));
}

void Listener::close() {
  if (resumeTimer_) loop_.cancelTimer(resumeTimer_);
  resumeTimer_ = 0;
  if (fd_ < 0) return;
  if (!paused_) loop_.remove(fd_);
  ::close(fd_);
  fd_ = -1;
}

void Listener::onEvents(uint32_t) {
  // Accept a bounded batch per wakeup so a connection storm cannot starve established sockets.
  for (int i = 0; i < 256; ++i) {
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (acceptFailed(errno)) return;  // EAGAIN: drained
      continue;
    }
    accepted(fd);
    if (fd_ < 0) return;  // the handler closed us
  }
}

void Listener::accepted(int fd) {
  // We batch our own writes (corking), so Nagle's algorithm would only add latency.
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  onAccept_(fd);
}

bool Listener::acceptFailed(int error) {
  if (error == EINTR || error == ECONNABORTED) return false;
  if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) pause();
  return true;
}

void Listener::pause() {
  // Level-triggered epoll would report the pending connection again at once (and io_uring's
  // multishot accept would fail again): stop watching the listener until descriptors may have
  // been freed.
  if (paused_) return;
  paused_ = true;
  loop_.remove(fd_);
  resumeTimer_ = loop_.setTimeout(kBackoffMs, [this] {
    resumeTimer_ = 0;
    paused_ = false;
    if (fd_ >= 0) loop_.addListener(fd_, this);
  });
}

}  // namespace duplex::net
