#pragma once
// One info line per WebSocket connection when it ends: remote address, path, close code and
// how long it lasted ("ws 127.0.0.1:51234 /connection closed 1000 after 12.3 s"). Plain HTTP
// requests get their line from the server (src/server). Costs nothing below --log-level info.
// At debug, also a line when it opens, naming the loop (thread) that serves it ("ws
// 127.0.0.1:51234 /connection open on loop 2"), which tests of several loops read to know
// where their connections landed.
#include <string>
#include <vector>

#include "net/loop.h"
#include "server/behavior.h"

namespace duplexd {

// `behavior` with its open and close handlers wrapped to log. The returned behavior refers to
// state that lives as long as the process (duplexd mounts it once). `loops`: the App's, loop 0
// first; each keeps its own connections' entries, so no lock is taken.
duplex::WebSocketBehavior withConnectionLog(duplex::WebSocketBehavior behavior, std::string path,
                                            std::vector<duplex::net::Loop*> loops);

}  // namespace duplexd
