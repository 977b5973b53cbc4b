#include "metrics_process.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string_view>

namespace duplexd {
namespace {

uint64_t residentBytes() {
  unsigned long long pages = 0, resident = 0;
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (!statm) return 0;
  if (std::fscanf(statm, "%llu %llu", &pages, &resident) != 2) resident = 0;
  std::fclose(statm);
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

uint64_t openFds() {
  std::error_code error;
  uint64_t count = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
       it.increment(error)) {
    ++count;
  }
  return count > 0 ? count - 1 : 0;  // less the descriptor that lists the directory
}

// The process's start in Unix seconds: boot time plus its start in clock ticks since boot.
double startTimeSeconds() {
  static const double start = [] {
    FILE* stat = std::fopen("/proc/self/stat", "r");
    if (!stat) return 0.0;
    char buffer[1024] = {};
    const size_t n = std::fread(buffer, 1, sizeof buffer - 1, stat);
    std::fclose(stat);
    // Field 22 (starttime); fields after the ')' that ends the command's name.
    std::string_view line(buffer, n);
    size_t at = line.rfind(')');
    if (at == line.npos) return 0.0;
    for (int field = 2; field < 22 && at != line.npos; ++field) at = line.find(' ', at + 1);
    if (at == line.npos) return 0.0;
    const double ticks = std::strtod(buffer + at + 1, nullptr);
    timespec now, sinceBoot;
    clock_gettime(CLOCK_REALTIME, &now);
    clock_gettime(CLOCK_BOOTTIME, &sinceBoot);
    const double boot = static_cast<double>(now.tv_sec - sinceBoot.tv_sec) +
                        static_cast<double>(now.tv_nsec - sinceBoot.tv_nsec) / 1e9;
    return boot + ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }();
  return start;
}

}  // namespace

void writeProcessMetrics(PrometheusText& out) {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  out.family("process_cpu_seconds_total", "counter", "User and system CPU time spent.");
  out.sample("process_cpu_seconds_total", {}, seconds(usage.ru_utime) + seconds(usage.ru_stime));
  out.single("process_resident_memory_bytes", "gauge", "Resident memory size.", residentBytes());
  out.single("process_open_fds", "gauge", "Open file descriptors.", openFds());
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  out.single("process_max_fds", "gauge", "The limit on open file descriptors.",
             static_cast<uint64_t>(limit.rlim_cur));
  out.family("process_start_time_seconds", "gauge", "Start of the process, in Unix seconds.");
  out.sample("process_start_time_seconds", {}, startTimeSeconds());
}

}  // namespace duplexd
