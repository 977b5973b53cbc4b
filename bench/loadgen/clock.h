#pragma once
// One clock for the whole generator: CLOCK_MONOTONIC in nanoseconds (vDSO, no syscall).
#include <cstdint>
#include <ctime>

namespace bench {

inline uint64_t monotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

inline constexpr uint64_t kNsPerSecond = 1'000'000'000u;

}  // namespace bench
