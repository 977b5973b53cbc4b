#pragma once
// Driving a net::Loop from a test until a condition holds.
#include <cstdint>
#include <functional>

#include "net/loop.h"

namespace duplex::hub::test {

// Runs the loop until done() holds (checked every millisecond), at most boundMs.
inline bool runUntilTrue(net::Loop& loop, const std::function<bool()>& done,
                         uint64_t boundMs = 5000) {
  if (done()) return true;
  bool timedOut = false;
  auto check = loop.setInterval(1, [&] {
    if (done()) loop.stop();
  });
  auto bound = loop.setTimeout(boundMs, [&] {
    timedOut = true;
    loop.stop();
  });
  loop.run();
  loop.cancelTimer(check);
  loop.cancelTimer(bound);
  return !timedOut && done();
}

}  // namespace duplex::hub::test
