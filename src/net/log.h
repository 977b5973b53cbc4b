#pragma once
// A small leveled logger to stderr. Connections that end badly say why at debug level; nothing
// is swallowed silently. One process-wide level, set once at startup (by a --log-level flag).
#include <cstdio>
#include <string_view>

namespace duplex::log {

enum class Level : int { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

void setLevel(Level level);
Level level();
// "debug", "info", "warn", "error", "off"; false for anything else.
bool parseLevel(std::string_view text, Level& out);

// Text: `2026-01-02T03:04:05.678Z info  message`. Json: one object per line,
// {"time":"2026-01-02T03:04:05.678Z","level":"info","message":"..."}, for log collectors.
enum class Format : int { Text, Json };
void setFormat(Format format);
// "text" or "json"; false for anything else.
bool parseFormat(std::string_view text, Format& out);

inline bool enabled(Level l) {
  return static_cast<int>(l) >= static_cast<int>(level());
}

// printf-style; the line gets a timestamp and the level.
void write(Level level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace duplex::log

#define DUPLEX_LOG(lvl, ...)                                        \
  do {                                                              \
    if (::duplex::log::enabled(::duplex::log::Level::lvl))          \
      ::duplex::log::write(::duplex::log::Level::lvl, __VA_ARGS__); \
  } while (0)
