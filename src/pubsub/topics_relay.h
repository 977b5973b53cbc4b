#pragma once
// Topics over several loops (internal to topics.cpp and topics_relay.cpp). Each loop has its own
// Topics, which keeps that loop's subscribers and builds that loop's frames; the relay carries
// publishes between them, in one batch per loop and iteration (CrossLoopBatches).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/loop.h"
#include "pubsub/cross_loop_batches.h"
#include "pubsub/topics.h"

namespace duplex::pubsub {

struct Topics::Relay {
  struct Shard {
    net::Loop* loop;
    std::unique_ptr<Topics> topics;
  };

  Relay(const std::vector<net::Loop*>& loops, const TopicsOptions& options);

  // The Topics of the loop `loop` (a connection's): the caller is on that loop's thread.
  Topics& on(const net::Loop& loop) { return *shardOf(loop).topics; }
  Shard& shardOf(const net::Loop& loop);

  size_t publish(std::string_view topic, std::string_view data, Opcode opcode,
                 const WebSocket* except);
  void publishFromAnyThread(std::string topic, std::string data, Opcode opcode);

  size_t subscriberCount(std::string_view topic) const;
  size_t topicCount() const;
  TopicsStats stats() const;

  std::vector<Shard> shards;
  CrossLoopBatches batches;
};

}  // namespace duplex::pubsub
