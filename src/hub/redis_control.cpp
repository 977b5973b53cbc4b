// The Redis engine's word to every node (redis_engine.h): one pub/sub channel, duplex:control
// on the first shard, that each node subscribes to from its start. A user disconnect is
// published there; every other node ends the user's connections on its own loops. The asking
// node ends its own directly (no round trip, and it works with Redis down), and counts only
// those: the others are told, none answers (docs/scaling.md).
#include "hub/redis_engine.h"
#include "hub/redis_keys.h"

namespace duplex::hub {

void RedisEngine::setUserDisconnector(UserDisconnector disconnector) {
  localDisconnect_.set(std::move(disconnector));
}

void RedisEngine::disconnectUser(net::Loop& from, std::string user, Done<DisconnectResult> done) {
  LoopPart& caller = partOf(from);
  // Both halves complete on `from`'s thread, the only one touching this.
  struct Gathering {
    DisconnectResult result;
    int waiting = 2;
    Done<DisconnectResult> done;
  };
  auto gathering = std::make_shared<Gathering>();
  gathering->done = std::move(done);
  auto finished = [gathering] {
    if (--gathering->waiting == 0) gathering->done(std::move(gathering->result));
  };
  std::vector<net::Loop*> loops;
  for (auto& part : loops_) loops.push_back(part->loop);
  localDisconnect_.onLoops(loops, user, [gathering, finished](uint64_t count) {
    gathering->result.connections = count;
    finished();
  });
  toEngine(caller, [this, &caller, user = std::move(user), gathering, finished]() mutable {
    shards_.front().connection->command(
        {"PUBLISH", std::string(redis_keys::control()),
         redis_keys::encode('u', nodeId_, {}, 0, user)},
        [this, &caller, gathering, finished](redis::Result&& reply) mutable {
          std::string error;
          if (!reply.ok) error = std::move(reply.error);
          if (reply.ok && reply.reply.isError()) error = std::move(reply.reply.string);
          toLoop(caller, [gathering, finished, error = std::move(error)]() mutable {
            if (!error.empty()) {
              gathering->result.ok = false;
              gathering->result.error = std::move(error);
            }
            finished();
          });
        });
  });
}

void RedisEngine::onControl(std::string_view payload) {
  auto message = redis_keys::decode(payload);
  // This node's own request: its loops were asked directly.
  if (!message || message->node == nodeId_ || message->kind != 'u') return;
  auto disconnector = localDisconnect_.get();
  if (!disconnector) return;
  for (auto& part : loops_) {
    toLoop(*part, [disconnector, loop = part->loop, user = std::string(message->body)] {
      (*disconnector)(*loop, user);
    });
  }
}

}  // namespace duplex::hub
