#pragma once
// One node's share of a server-wide user disconnect (Engine::disconnectUser): who ends a
// user's connections on a loop (the Hub says, Engine::setUserDisconnector, possibly while the
// loops already run and another node's request arrives), and asking each of this node's loops
// on its own thread. Both engines keep one.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "hub/engine.h"
#include "net/loop.h"

namespace duplex::hub {

class LocalDisconnect {
 public:
  void set(UserDisconnector disconnector);
  // The one set last; null when none was (a node without a Hub yet ends nothing).
  std::shared_ptr<const UserDisconnector> get() const;

  // On a loop's thread: runs the disconnector on each of `loops` (on its thread) and hands the
  // number of connections they ended to `done`, later, on the calling loop.
  void onLoops(const std::vector<net::Loop*>& loops, std::string user,
               std::function<void(uint64_t)> done) const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const UserDisconnector> disconnector_;
};

}  // namespace duplex::hub
