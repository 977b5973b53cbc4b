#include "pubsub/topics_relay.h"

#include <stdexcept>
#include <utility>

namespace duplex::pubsub {

Topics::Relay::Relay(const std::vector<net::Loop*>& loops, const TopicsOptions& options) {
  shards.reserve(loops.size());
  for (net::Loop* loop : loops) {
    shards.push_back({loop, std::make_unique<Topics>(*loop, options), nullptr});
    shards.back().topics->shareInterest();
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
  Shard& here = shardOf(*current);
  size_t queued = here.topics->publish(topic, data, opcode, except);
  if (!here.outgoing) {
    here.outgoing = std::make_shared<Batch>();
    Shard* from = &here;
    here.loop->defer([this, from] { handOver(*from); });
  }
  Batch& batch = *here.outgoing;
  batch.items.push_back({batch.bytes.size(), topic.size(), data.size(), opcode});
  batch.bytes.append(topic);
  batch.bytes.append(data);
  return queued;
}

void Topics::Relay::handOver(Shard& from) {
  std::shared_ptr<const Batch> batch = std::move(from.outgoing);
  from.outgoing.reset();
  for (Shard& to : shards) {
    if (&to == &from || !wanted(*to.topics, *batch)) continue;
    // Read on `to`'s own thread, where its Topics lives: a Topics gone by then drops the batch.
    to.loop->post([life = to.topics->lifeline_.handle(), batch] {
      Topics* topics = life.get();
      if (!topics) return;
      std::string_view bytes = batch->bytes;
      for (const Batch::Item& item : batch->items) {
        topics->publish(bytes.substr(item.topic, item.topicSize),
                        bytes.substr(item.topic + item.topicSize, item.dataSize), item.opcode);
      }
    });
  }
}

bool Topics::Relay::wanted(const Topics& to, const Batch& batch) {
  const TopicInterest* interest = to.interest();
  if (!interest) return true;
  TopicInterest::Reader reader(*interest);
  std::string_view bytes = batch.bytes;
  for (const Batch::Item& item : batch.items) {
    if (reader.wants(bytes.substr(item.topic, item.topicSize))) return true;
  }
  return false;
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
