#pragma once
// Topics over several loops (internal to topics.cpp and topics_relay.cpp). Each loop has its own
// Topics, which keeps that loop's subscribers and builds that loop's frames; the relay carries
// publishes between them.
//
// The hand-off is per iteration, not per message: a loop appends what it publishes during an
// iteration to one batch, and at the end of the iteration (Loop::defer) posts that batch, shared
// read-only, to every other loop: one Loop::post, so one wake-up, per loop per batch. Batches
// leave a loop in order and a loop runs its posted tasks in order, so the messages of one
// publisher on one topic arrive everywhere in the order they were published. A loop that has
// no subscriber on any of a batch's topics (its Topics' TopicInterest) is not posted to.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/loop.h"
#include "pubsub/topics.h"

namespace duplex::pubsub {

struct Topics::Relay {
  // One iteration's publishes from one loop: topics and payloads packed into one string.
  struct Batch {
    struct Item {
      size_t topic;  // offset in bytes
      size_t topicSize;
      size_t dataSize;  // the payload follows the topic
      Opcode opcode;
    };
    std::string bytes;
    std::vector<Item> items;
  };

  struct Shard {
    net::Loop* loop;
    std::unique_ptr<Topics> topics;
    std::shared_ptr<Batch> outgoing;  // this iteration's publishes, not yet handed over
  };

  Relay(const std::vector<net::Loop*>& loops, const TopicsOptions& options);

  // The Topics of the loop `loop` (a connection's): the caller is on that loop's thread.
  Topics& on(const net::Loop& loop) { return *shardOf(loop).topics; }
  Shard& shardOf(const net::Loop& loop);

  size_t publish(std::string_view topic, std::string_view data, Opcode opcode,
                 const WebSocket* except);
  void publishFromAnyThread(std::string topic, std::string data, Opcode opcode);
  void handOver(Shard& from);
  // `to` has subscribers on one of the batch's topics, or keeps no interest to ask.
  static bool wanted(const Topics& to, const Batch& batch);

  size_t subscriberCount(std::string_view topic) const;
  size_t topicCount() const;
  TopicsStats stats() const;

  std::vector<Shard> shards;
};

}  // namespace duplex::pubsub
