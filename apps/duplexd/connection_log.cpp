#include "connection_log.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <unordered_map>
#include <utility>

#include "net/log.h"
#include "server/request.h"
#include "server/websocket.h"

namespace duplexd {
namespace {

using Clock = std::chrono::steady_clock;

struct Opened {
  Clock::time_point at;
  std::string remote;
};

// Keyed by connection, beside ws.data() (which belongs to the behavior being wrapped); one map
// per loop, touched on that loop's thread only.
struct Log {
  std::string path;
  std::vector<duplex::net::Loop*> loops;
  std::vector<std::unordered_map<duplex::WebSocket*, Opened>> open;  // by loop

  size_t indexOf(const duplex::net::Loop& loop) const {
    for (size_t i = 0; i < loops.size(); ++i) {
      if (loops[i] == &loop) return i;
    }
    return 0;  // unreachable: connections are on the App's loops
  }
};

}  // namespace

duplex::WebSocketBehavior withConnectionLog(duplex::WebSocketBehavior behavior, std::string path,
                                            std::vector<duplex::net::Loop*> loops) {
  auto log = std::make_shared<Log>();
  log->path = std::move(path);
  log->loops = std::move(loops);
  log->open.resize(std::max<size_t>(log->loops.size(), 1));
  auto open = std::move(behavior.open);
  auto close = std::move(behavior.close);
  behavior.open = [log, open](duplex::WebSocket& ws, const duplex::Request& request) {
    if (duplex::log::enabled(duplex::log::Level::Info)) {
      const size_t loop = log->indexOf(ws.loop());
      log->open[loop][&ws] = {Clock::now(), request.remoteAddress()};
      if (duplex::log::enabled(duplex::log::Level::Debug)) {
        duplex::log::write(duplex::log::Level::Debug, "ws %s %s open on loop %zu",
                           request.remoteAddress().c_str(), log->path.c_str(), loop);
      }
    }
    if (open) open(ws, request);
  };
  behavior.close = [log, close](duplex::WebSocket& ws, uint16_t code, std::string_view reason) {
    auto& opened = log->open[log->indexOf(ws.loop())];
    if (auto it = opened.find(&ws); it != opened.end()) {
      const double seconds = std::chrono::duration<double>(Clock::now() - it->second.at).count();
      duplex::log::write(duplex::log::Level::Info, "ws %s %s closed %u%s%.*s after %.3f s",
                         it->second.remote.c_str(), log->path.c_str(), code,
                         reason.empty() ? "" : " ", static_cast<int>(reason.size()), reason.data(),
                         seconds);
      opened.erase(it);
    }
    if (close) close(ws, code, reason);
  };
  return behavior;
}

}  // namespace duplexd
