#pragma once
// The epoll backend: level-triggered readiness, and the sockets do their own recv/sendmsg.
#include <cstdint>

#include "net/pollable.h"

namespace duplex::net {

class EpollBackend {
 public:
  EpollBackend();
  ~EpollBackend();
  EpollBackend(const EpollBackend&) = delete;
  EpollBackend& operator=(const EpollBackend&) = delete;

  int fd() const { return fd_; }
  void add(int fd, uint32_t events, Pollable* target);
  void modify(int fd, uint32_t events, Pollable* target);
  void remove(int fd);
  // Waits at most `timeoutMs` (-1: no limit) and hands each ready descriptor its events.
  // `beforeDispatch` runs between the wait and the first handler (the loop reads its clock).
  template <class F>
  void wait(int timeoutMs, F&& beforeDispatch) {
    int n = waitEvents(timeoutMs);
    beforeDispatch();
    dispatch(n);
  }

 private:
  static constexpr int kMaxEvents = 1024;
  int waitEvents(int timeoutMs);
  void dispatch(int n);

  int fd_ = -1;
  struct Event;
  Event* events_ = nullptr;
};

}  // namespace duplex::net
