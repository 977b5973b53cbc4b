#pragma once
#include <cstdint>

namespace duplex::net {

// Anything registered with a Loop's epoll set: sockets, listeners, the loop's own eventfd and
// signalfd. The loop calls onEvents with the epoll event mask.
class Pollable {
 public:
  virtual void onEvents(uint32_t events) = 0;

 protected:
  ~Pollable() = default;  // never deleted through this interface
};

}  // namespace duplex::net
