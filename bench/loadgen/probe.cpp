#include "probe.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace bench {
namespace {

double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6;
}

// Value of "Key:   123 kB" from a /proc file of that shape, in bytes.
std::optional<uint64_t> readKbField(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0 && line.size() > key.size() &&
        line[key.size()] == ':') {
      return std::stoull(line.substr(key.size() + 1)) * 1024;
    }
  }
  return std::nullopt;
}

}  // namespace

CpuSample ServerProbe::cpu() const {
  CpuSample s;
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  s.generator = seconds(ru.ru_utime) + seconds(ru.ru_stime);
  if (pid_ <= 0) return s;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces; fields are counted after its closing ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  s.server = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return s;
}

std::optional<uint64_t> ServerProbe::residentBytes() const {
  if (pid_ <= 0) return std::nullopt;
  return readKbField("/proc/" + std::to_string(pid_) + "/status", "VmRSS");
}

uint64_t kernelSocketBytes() {
  uint64_t bytes = readKbField("/proc/meminfo", "Slab").value_or(0);
  std::ifstream in("/proc/net/sockstat");
  std::string word;
  while (in >> word) {
    if (word == "TCP:") {
      std::string key, value;
      while (in >> key >> value) {
        if (key == "mem") {
          bytes += std::stoull(value) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
          return bytes;
        }
      }
    }
  }
  return bytes;
}

}  // namespace bench
