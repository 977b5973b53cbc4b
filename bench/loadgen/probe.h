#pragma once
// What the generator reads from /proc about the server it drives and about the kernel. The
// generator samples these itself, at the exact edges of each measured interval (after
// connection setup and warm-up, before the drain), rather than leaving it to the runner, which
// cannot see those edges.
#include <sys/types.h>
#include <cstdint>
#include <optional>

namespace bench {

struct CpuSample {
  double server = 0;     // utime + stime of the server process, seconds (0 without a pid)
  double generator = 0;  // this process, seconds
};

class ServerProbe {
 public:
  explicit ServerProbe(pid_t pid) : pid_(pid) {}
  bool enabled() const { return pid_ > 0; }

  CpuSample cpu() const;
  // VmRSS of the server, bytes.
  std::optional<uint64_t> residentBytes() const;

 private:
  pid_t pid_;
};

// Kernel memory that sockets cost, machine-wide (both ends of a loopback connection count):
// slab (socket structures) plus TCP buffer pages from /proc/net/sockstat.
uint64_t kernelSocketBytes();

}  // namespace bench
