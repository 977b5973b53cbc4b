#pragma once
// The tomato demo: every throw is validated (throw_rules.h), persisted (one transaction per loop
// iteration: group commit), and only then broadcast; a page that connects gets the stored history
// first and the live throws after it, with no gap and no duplicate. Wire format:
// docs/demo-protocol.md.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "hub/history_store.h"
#include "pubsub/topics.h"
#include "server/websocket.h"

namespace duplexd {

struct RoomOptions {
  size_t maxMessageBytes = 1024;  // larger throws get "too_large" (the route closes at 64 KiB)
  double throwsPerSecond = 10;    // per connection, token bucket
  double burst = 20;
  size_t historyChunk = 1000;  // items per history message
};

struct RoomStats {
  uint64_t throws = 0;    // stored and broadcast
  uint64_t rejected = 0;  // answered with an error
  uint64_t messagesIn = 0;
  uint64_t bytesIn = 0;
  uint64_t directOut = 0;  // history and error messages sent to one connection
  uint64_t directBytesOut = 0;
};

class ThrowRoom {
 public:
  static constexpr std::string_view kTopic = "throws";

  ThrowRoom(duplex::net::Loop& loop, duplex::pubsub::Topics& topics,
            duplex::hub::HistoryStore& store, RoomOptions options = {});

  // A page connected, having seen everything up to `since`: history, then live throws.
  void join(duplex::WebSocket& ws, uint64_t since);
  void message(duplex::WebSocket& ws, std::string_view data, duplex::Opcode opcode);
  // Forget a connection's pending throws (it closed before its batch was committed).
  void leave(duplex::WebSocket& ws);

  const RoomStats& stats() const { return stats_; }

 private:
  struct Pending {
    duplex::WebSocket* thrower;
    std::string kind;
    std::string text;
    int64_t atMs;
  };
  void reject(duplex::WebSocket& ws, std::string_view code, std::string_view message);
  void sendDirect(duplex::WebSocket& ws, std::string_view data);
  bool takeToken(duplex::WebSocket& ws);
  void commit();
  void scheduleTrim();

  duplex::net::Loop& loop_;
  duplex::pubsub::Topics& topics_;
  duplex::hub::HistoryStore& store_;
  RoomOptions options_;
  simdjson::dom::parser parser_;
  std::vector<Pending> pending_;  // this iteration's throws, committed together
  std::vector<duplex::hub::NewItem> batch_;
  std::string scratch_;
  bool commitScheduled_ = false;
  bool trimScheduled_ = false;
  RoomStats stats_;
};

}  // namespace duplexd
