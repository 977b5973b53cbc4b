#include "net/backend_epoll.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace duplex::net {

struct EpollBackend::Event : epoll_event {};

EpollBackend::EpollBackend() : fd_(epoll_create1(EPOLL_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  events_ = new Event[kMaxEvents];
}

EpollBackend::~EpollBackend() {
  delete[] events_;
  close(fd_);
}

void EpollBackend::add(int fd, uint32_t events, Pollable* target) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = target;
  if (epoll_ctl(fd_, EPOLL_CTL_ADD, fd, &ev) != 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl(ADD)");
}

void EpollBackend::modify(int fd, uint32_t events, Pollable* target) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = target;
  if (epoll_ctl(fd_, EPOLL_CTL_MOD, fd, &ev) != 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl(MOD)");
}

void EpollBackend::remove(int fd) {
  epoll_ctl(fd_, EPOLL_CTL_DEL, fd, nullptr);
}

int EpollBackend::waitEvents(int timeoutMs) {
  int n = epoll_wait(fd_, events_, kMaxEvents, timeoutMs);
  if (n < 0 && errno != EINTR)
    throw std::system_error(errno, std::generic_category(), "epoll_wait");
  return n < 0 ? 0 : n;
}

void EpollBackend::dispatch(int n) {
  for (int i = 0; i < n; ++i)
    static_cast<Pollable*>(events_[i].data.ptr)->onEvents(events_[i].events);
}

}  // namespace duplex::net
