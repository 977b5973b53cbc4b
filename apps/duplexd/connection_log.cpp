#include "connection_log.h"

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

// Keyed by connection, beside ws.data() (which belongs to the behavior being wrapped).
struct Log {
  std::string path;
  std::unordered_map<duplex::WebSocket*, Opened> open;
};

}  // namespace

duplex::WebSocketBehavior withConnectionLog(duplex::WebSocketBehavior behavior, std::string path) {
  auto log = std::make_shared<Log>();
  log->path = std::move(path);
  auto open = std::move(behavior.open);
  auto close = std::move(behavior.close);
  behavior.open = [log, open](duplex::WebSocket& ws, const duplex::Request& request) {
    if (duplex::log::enabled(duplex::log::Level::Info)) {
      log->open[&ws] = {Clock::now(), request.remoteAddress()};
    }
    if (open) open(ws, request);
  };
  behavior.close = [log, close](duplex::WebSocket& ws, uint16_t code, std::string_view reason) {
    if (auto it = log->open.find(&ws); it != log->open.end()) {
      const double seconds = std::chrono::duration<double>(Clock::now() - it->second.at).count();
      duplex::log::write(duplex::log::Level::Info, "ws %s %s closed %u%s%.*s after %.3f s",
                         it->second.remote.c_str(), log->path.c_str(), code,
                         reason.empty() ? "" : " ", static_cast<int>(reason.size()), reason.data(),
                         seconds);
      log->open.erase(it);
    }
    if (close) close(ws, code, reason);
  };
  return behavior;
}

}  // namespace duplexd
