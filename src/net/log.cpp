#include "net/log.h"

#include <atomic>
#include <cstdarg>
#include <ctime>
#include <string>

namespace duplex::log {
namespace {

std::atomic<int> currentLevel{static_cast<int>(Level::Warn)};
std::atomic<int> currentFormat{static_cast<int>(Format::Text)};

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

void setFormat(Format format) {
  currentFormat.store(static_cast<int>(format), std::memory_order_relaxed);
}

bool parseFormat(std::string_view text, Format& out) {
  if (text == "text" || text == "json") {
    out = text == "json" ? Format::Json : Format::Text;
    return true;
  }
  return false;
}

namespace {

// The message as a JSON string's contents: quotes, backslashes and control bytes escaped.
std::string jsonEscaped(const char* text) {
  std::string out;
  for (const char* p = text; *p; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", c);
      out += escape;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

void write(Level level, const char* format, ...) {
  char line[1024];
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc;
  gmtime_r(&now.tv_sec, &utc);
  char time[80];  // room for any int the compiler imagines in each field
  std::snprintf(time, sizeof time, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                now.tv_nsec / 1000000);
  const bool json = currentFormat.load(std::memory_order_relaxed) == static_cast<int>(Format::Json);
  int n = json ? 0 : std::snprintf(line, sizeof line, "%s %-5s ", time, name(level));
  va_list args;
  va_start(args, format);
  std::vsnprintf(line + n, sizeof line - static_cast<size_t>(n), format, args);
  va_end(args);
  if (json) {
    std::fprintf(stderr, "{\"time\":\"%s\",\"level\":\"%s\",\"message\":\"%s\"}\n", time,
                 name(level), jsonEscaped(line).c_str());
    return;
  }
  // One fputs per line: lines from several threads do not interleave mid-line.
  std::fprintf(stderr, "%s\n", line);
}

}  // namespace duplex::log
