#pragma once
// --log-level for the servers (duplexd, duplex-echo): debug, info, warn, error or off, set as
// soon as it is parsed so the rest of startup already logs at that level. Apart from flags.h
// because the benchmark tools that share the flag parser do not link src/net.
#include <string_view>

#include "flags.h"
#include "net/log.h"

namespace duplex::cli {

inline Flag logLevelFlag() {
  return checkedTextFlag("--log-level", [](std::string_view text) {
    log::Level level;
    if (!log::parseLevel(text, level)) return false;
    log::setLevel(level);
    return true;
  });
}

}  // namespace duplex::cli
