#pragma once
#include <sys/epoll.h>  // the event masks (EPOLLIN, EPOLLOUT), whichever backend waits

#include <cstdint>

namespace duplex::net {

// Anything registered with a Loop: sockets, listeners, the loop's own eventfd and signalfd. The
// loop calls onEvents with epoll's event mask (the io_uring backend translates its polls).
class Pollable {
 public:
  virtual void onEvents(uint32_t events) = 0;

 protected:
  ~Pollable() = default;  // never deleted through this interface
};

}  // namespace duplex::net
