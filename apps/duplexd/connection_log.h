#pragma once
// One info line per WebSocket connection when it ends: remote address, path, close code and
// how long it lasted ("ws 127.0.0.1:51234 /connection closed 1000 after 12.3 s"). Plain HTTP
// requests get their line from the server (src/server). Costs nothing below --log-level info.
#include <string>

#include "server/behavior.h"

namespace duplexd {

// `behavior` with its open and close handlers wrapped to log. The returned behavior refers to
// state that lives as long as the process (duplexd mounts it once).
duplex::WebSocketBehavior withConnectionLog(duplex::WebSocketBehavior behavior, std::string path);

}  // namespace duplexd
