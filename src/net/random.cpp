#include "net/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace duplex::net {
namespace {

void fillFromKernel(uint8_t* out, size_t size) {
  while (size > 0) {
    ssize_t n = getrandom(out, size, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    out += n;
    size -= static_cast<size_t>(n);
  }
}

}  // namespace

void secureRandom(void* out, size_t size) {
  thread_local uint8_t reserve[512];
  thread_local size_t available = 0;
  auto* target = static_cast<uint8_t*>(out);
  if (size > sizeof reserve) {
    fillFromKernel(target, size);
    return;
  }
  if (available < size) {
    fillFromKernel(reserve, sizeof reserve);
    available = sizeof reserve;
  }
  // Hand out bytes from the end and wipe them, so no byte is ever given twice.
  std::memcpy(target, reserve + available - size, size);
  std::memset(reserve + available - size, 0, size);
  available -= size;
}

}  // namespace duplex::net
