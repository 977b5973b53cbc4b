#include "pubsub/topics_relay.h"

#include <stdexcept>
#include <utility>

namespace duplex::pubsub {

Topics::Relay::Relay(const std::vector<net::Loop*>& loops, const TopicsOptions& options) {
  shards.reserve(loops.size());
  for (net::Loop* loop : loops) {
    shards.push_back({loop, std::make_unique<Topics>(*loop, options)});
    batches.addLoop(*loop, *shards.back().topics);
  }
}

Topics::Relay::Shard& Topics::Relay::shardOf(const net::Loop& loop) {
  // A handful of loops: a scan is cheaper than a lookup, and needs no shared state.
  for (Shard& shard : shards) {
    if (shard.loop == &loop) return shard;
  }
  throw std::logic_error("pubsub::Topics used with a connection of a loop it does not serve");
}

size_t Topics::Relay::publish(std::string_view topic, std::string_view data, Opcode opcode,
                              const WebSocket* except) {
  net::Loop* current = net::Loop::current();
  if (!current) {
    // Not on a loop's thread: every loop, the publisher's included, gets it through a post.
    publishFromAnyThread(std::string(topic), std::string(data), opcode);
    return 0;
  }
  size_t queued = shardOf(*current).topics->publish(topic, data, opcode, except);
  batches.send(*current, topic, data, opcode);
  return queued;
}

void Topics::Relay::publishFromAnyThread(std::string topic, std::string data, Opcode opcode) {
  auto message = std::make_shared<const std::pair<std::string, std::string>>(std::move(topic),
                                                                             std::move(data));
  for (Shard& shard : shards) {
    const TopicInterest* interest = shard.topics->interest();
    if (interest && !TopicInterest::Reader(*interest).wants(message->first)) continue;
    shard.loop->post([life = shard.topics->lifeline_.handle(), message, opcode] {
      if (Topics* topics = life.get()) topics->publish(message->first, message->second, opcode);
    });
  }
}

size_t Topics::Relay::subscriberCount(std::string_view topic) const {
  size_t count = 0;
  for (const Shard& shard : shards) count += shard.topics->subscriberCount(topic);
  return count;
}

size_t Topics::Relay::topicCount() const {
  // A topic with subscribers on several loops counts once per loop: good enough for a gauge.
  size_t count = 0;
  for (const Shard& shard : shards) count += shard.topics->topicCount();
  return count;
}

TopicsStats Topics::Relay::stats() const {
  TopicsStats sum;
  for (const Shard& shard : shards) {
    const TopicsStats& s = shard.topics->stats();
    sum.published += s.published;
    sum.delivered += s.delivered;
    sum.deliveredBytes += s.deliveredBytes;
    sum.dropped += s.dropped;
    sum.slowClosed += s.slowClosed;
    sum.compressedOnce += s.compressedOnce;
    sum.refused += s.refused;
  }
  return sum;
}

}  // namespace duplex::pubsub
