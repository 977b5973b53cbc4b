#include "net/log.h"

#include <atomic>
#include <cstdarg>
#include <ctime>

namespace duplex::log {
namespace {

std::atomic<int> currentLevel{static_cast<int>(Level::Warn)};

const char* name(Level level) {
  switch (level) {
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info";
    case Level::Warn:
      return "warn";
    case Level::Error:
      return "error";
    case Level::Off:
      return "off";
  }
  return "?";
}

}  // namespace

void setLevel(Level level) {
  currentLevel.store(static_cast<int>(level), std::memory_order_relaxed);
}

Level level() {
  return static_cast<Level>(currentLevel.load(std::memory_order_relaxed));
}

bool parseLevel(std::string_view text, Level& out) {
  for (Level l : {Level::Debug, Level::Info, Level::Warn, Level::Error, Level::Off}) {
    if (text == name(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

void write(Level level, const char* format, ...) {
  char line[1024];
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc;
  gmtime_r(&now.tv_sec, &utc);
  int n = std::snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                        utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                        utc.tm_sec, now.tv_nsec / 1000000, name(level));
  va_list args;
  va_start(args, format);
  std::vsnprintf(line + n, sizeof line - static_cast<size_t>(n), format, args);
  va_end(args);
  // One fputs per line: lines from several threads do not interleave mid-line.
  std::fprintf(stderr, "%s\n", line);
}

}  // namespace duplex::log
