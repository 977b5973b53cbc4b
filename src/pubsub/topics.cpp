#include "pubsub/topics.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "net/log.h"
#include "protocol/frame.h"
#include "pubsub/topics_relay.h"

namespace duplex::pubsub {

// One topic: its subscribers, each with the connection's Subscriptions (to keep the index that
// entry has in this vector up to date when another entry moves into its place).
struct Topics::Topic {
  std::string name;
  struct Entry {
    WebSocket* ws;
    Subscriptions* subscriptions;
  };
  std::vector<Entry> subscribers;
};

// A connection's subscriptions: hung in the connection's observer chain, so the connection's
// end removes it from every topic without a lookup.
struct Topics::Subscriptions final : ConnectionObserver {
  Topics* owner;
  WebSocket* ws;
  struct Membership {
    Topic* topic;
    uint32_t index;   // position in topic->subscribers
    uint64_t missed;  // Drop policy: messages skipped since it last received one
  };
  std::vector<Membership> topics;

  Subscriptions(Topics* o, WebSocket* w) : owner(o), ws(w) {}
  Membership* find(const Topic* topic) {
    for (Membership& m : topics) {
      if (m.topic == topic) return &m;
    }
    return nullptr;
  }
  void connectionClosed(WebSocket&) override { owner->connectionClosed(*this); }
};

Topics::Topics(net::Loop& loop, TopicsOptions options)
    : loop_(loop), options_(std::move(options)) {}

Topics::Topics(const std::vector<net::Loop*>& loops, TopicsOptions options)
    : loop_(*loops.at(0)), options_(std::move(options)) {
  if (loops.size() > 1) relay_ = std::make_unique<Relay>(loops, options_);
}

Topics::~Topics() {
  std::vector<Subscriptions*> all;
  for (auto& [name, topic] : topics_) {
    for (Topic::Entry& entry : topic->subscribers) {
      if (entry.subscriptions->owner) {
        entry.subscriptions->ws->removeObserver(entry.subscriptions);
        entry.subscriptions->owner = nullptr;
        all.push_back(entry.subscriptions);
      }
    }
  }
  for (Subscriptions* s : all) delete s;
  if (packing_) loop_.buffers().release(packing_);
}

Topics::Subscriptions* Topics::subscriptionsOf(const WebSocket& ws) const {
  for (ConnectionObserver* o = ws.observers(); o; o = o->nextObserver()) {
    auto* s = dynamic_cast<Subscriptions*>(o);
    if (s && s->owner == this) return s;
  }
  return nullptr;
}

bool Topics::refusedInsidePublish(const char* call) {
  if (!publishing_) return false;
  ++stats_.refused;
  DUPLEX_LOG(Error,
             "pubsub: Topics::%s refused: called from inside a publish to \"%s\" (from onDropped, "
             "or a close it set off), where Topics is not re-entrant; defer it with Loop::defer",
             call, publishing_->name.c_str());
  return true;
}

bool Topics::subscribe(WebSocket& ws, std::string_view name) {
  if (relay_) return relay_->on(ws.loop()).subscribe(ws, name);
  // Refused inside a publish: a new subscriber would move the vector being walked.
  if (refusedInsidePublish("subscribe")) return false;
  if (!ws.isOpen()) return false;
  Subscriptions* subscriptions = subscriptionsOf(ws);
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    auto topic = std::make_unique<Topic>();
    topic->name = std::string(name);
    it = topics_.emplace(topic->name, std::move(topic)).first;
    // Before this returns (and the subscriber hears it is subscribed): see TopicInterest.
    if (interest_) interest_->add(name);
  }
  Topic* topic = it->second.get();
  if (subscriptions && subscriptions->find(topic)) return false;
  if (!subscriptions) {
    subscriptions = new Subscriptions(this, &ws);
    ws.addObserver(subscriptions);
  }
  subscriptions->topics.push_back({topic, static_cast<uint32_t>(topic->subscribers.size()), 0});
  topic->subscribers.push_back({&ws, subscriptions});
  return true;
}

void Topics::remove(Topic& topic, uint32_t index) {
  // Swap-remove keeps unsubscribing O(1) in the topic's size; the entry that moves tells its
  // connection its new index.
  auto& subscribers = topic.subscribers;
  if (index + 1 != subscribers.size()) {
    subscribers[index] = subscribers.back();
    subscribers[index].subscriptions->find(&topic)->index = index;
  }
  subscribers.pop_back();
  if (!subscribers.empty()) return;
  if (interest_) interest_->remove(topic.name);
  topics_.erase(topics_.find(topic.name));  // destroys the topic
}

bool Topics::unsubscribe(WebSocket& ws, std::string_view name) {
  if (relay_) return relay_->on(ws.loop()).unsubscribe(ws, name);
  if (refusedInsidePublish("unsubscribe")) return false;
  Subscriptions* subscriptions = subscriptionsOf(ws);
  auto it = topics_.find(name);
  if (!subscriptions || it == topics_.end()) return false;
  auto* membership = subscriptions->find(it->second.get());
  if (!membership) return false;
  uint32_t index = membership->index;
  *membership = subscriptions->topics.back();
  subscriptions->topics.pop_back();
  remove(*it->second, index);
  if (subscriptions->topics.empty()) {
    ws.removeObserver(subscriptions);
    delete subscriptions;
  }
  return true;
}

void Topics::unsubscribeAll(WebSocket& ws) {
  if (relay_) return relay_->on(ws.loop()).unsubscribeAll(ws);
  if (refusedInsidePublish("unsubscribeAll")) return;
  if (Subscriptions* subscriptions = subscriptionsOf(ws)) {
    ws.removeObserver(subscriptions);
    connectionClosed(*subscriptions);
  }
}

void Topics::connectionClosed(Subscriptions& subscriptions) {
  if (publishing_) {
    // Closed from inside a publish (onDropped): the walk must not see its topics' vectors
    // move. Blank its entries (the walk skips them) and remove them once the walk is over.
    for (auto& membership : subscriptions.topics) {
      membership.topic->subscribers[membership.index].ws = nullptr;
    }
    endedDuringPublish_.push_back(&subscriptions);
    return;
  }
  // Copy: remove() rewrites other connections' memberships, never this one's vector.
  for (auto& membership : subscriptions.topics) remove(*membership.topic, membership.index);
  delete &subscriptions;
}

bool Topics::isSubscribed(const WebSocket& ws, std::string_view name) const {
  if (relay_) return relay_->on(ws.loop()).isSubscribed(ws, name);
  Subscriptions* subscriptions = subscriptionsOf(ws);
  auto it = topics_.find(name);
  return subscriptions && it != topics_.end() && subscriptions->find(it->second.get());
}

void Topics::shareInterest() {
  if (relay_) {
    for (Relay::Shard& shard : relay_->shards) shard.topics->shareInterest();
    return;
  }
  if (interest_) return;
  interest_ = std::make_unique<TopicInterest>();
  for (const auto& [name, topic] : topics_) interest_->add(name);
}

size_t Topics::subscriberCount(std::string_view name) const {
  if (relay_) return relay_->subscriberCount(name);
  auto it = topics_.find(name);
  return it == topics_.end() ? 0 : it->second->subscribers.size();
}

size_t Topics::topicCount() const {
  return relay_ ? relay_->topicCount() : topics_.size();
}

const TopicsStats& Topics::stats() const {
  if (relay_) stats_ = relay_->stats();
  return stats_;
}

SharedFrame Topics::frame(std::string_view data, Opcode opcode, bool compressed) {
  protocol::FrameHeader header;
  header.opcode = opcode;
  header.rsv1 = compressed;  // RFC 7692 6
  header.payloadSize = data.size();
  size_t size = protocol::frameHeaderSize(data.size(), false) + data.size();
  net::BufferPool& pool = loop_.buffers();
  // Pack consecutive frames into one chunk: a slow subscriber holding many small queued frames
  // then pins a few chunks, not one 16 KiB chunk per message.
  if (!packing_ || packing_->capacity - packing_->used < size) {
    if (packing_) pool.release(packing_);
    packing_ = pool.acquire(size);
  }
  uint32_t offset = packing_->used;
  uint8_t* out = packing_->bytes() + offset;
  size_t headerSize = protocol::writeFrameHeader(out, header);
  if (!data.empty()) std::memcpy(out + headerSize, data.data(), data.size());
  packing_->used += static_cast<uint32_t>(size);
  // Held until the publish ends: building a second frame may retire this chunk from packing_
  // before every subscriber has queued the first.
  pool.retain(packing_);
  return {packing_, offset, static_cast<uint32_t>(size)};
}

// One publish's frames, each built the first time a subscriber needs it.
struct Topics::Publication {
  std::string_view data;
  Opcode opcode;
  SharedFrame plain;
  SharedFrame deflated;
  const Compression* deflatedFor = nullptr;  // whose settings `deflated` was made with
  bool deflatedIsCompressed = false;         // false: too short or not smaller, sent plain
};

// The frame `ws` can share, or null when it needs its own (compression with context takeover,
// or compression settings unlike those the shared compressed frame was made with).
const SharedFrame* Topics::sharedFrameFor(WebSocket& ws, Publication& p) {
  if (Compression* compression = ws.compression()) {
    if (!compression->sendsAlone()) return nullptr;
    if (!p.deflatedFor) {
      p.deflatedFor = compression;
      deflated_.clear();
      p.deflatedIsCompressed = compression->compress(p.data, deflated_);
      if (p.deflatedIsCompressed) {
        p.deflated = frame(deflated_, p.opcode, true);
        ++stats_.compressedOnce;
      }
    } else if (!compression->sameSendSettings(*p.deflatedFor)) {
      return nullptr;
    }
    if (p.deflatedIsCompressed) return &p.deflated;
  }
  if (!p.plain.chunk) p.plain = frame(p.data, p.opcode, false);
  return &p.plain;
}

size_t Topics::publish(std::string_view name, std::string_view data, Opcode opcode,
                       const WebSocket* except) {
  if (relay_) return relay_->publish(name, data, opcode, except);
  if (refusedInsidePublish("publish")) return 0;
  auto it = topics_.find(name);
  if (it == topics_.end()) return 0;
  Topic& topic = *it->second;
  Publication publication{data, opcode, {}, {}};
  size_t queued = 0;
  slow_.clear();
  // Nothing in this loop changes topic.subscribers' layout: sending does not close (we keep
  // slow subscribers below maxBackpressure), closing the slow ones waits until after the loop,
  // onDropped may not subscribe or unsubscribe (refused), and a connection it closes only
  // blanks its entry until the loop is over.
  publishing_ = &topic;
  for (Topic::Entry& entry : topic.subscribers) {
    WebSocket* ws = entry.ws;
    if (ws == except || !ws) continue;
    // The same measure sendShared uses to drop a peer, and never above its bound: a subscriber
    // must meet the policy here, not be terminated (and unsubscribed) inside this loop.
    size_t slowBytes = std::min(options_.slowSubscriberBytes, ws->behavior().maxBackpressure);
    if (ws->stalledAmount() > slowBytes) {
      if (options_.policy == SlowSubscriberPolicy::Close) {
        slow_.push_back(ws);
      } else {
        ++entry.subscriptions->find(&topic)->missed;
        ++stats_.dropped;
      }
      continue;
    }
    if (options_.policy == SlowSubscriberPolicy::Drop) {
      auto* membership = entry.subscriptions->find(&topic);
      if (membership->missed && options_.onDropped) {
        uint64_t missed = std::exchange(membership->missed, 0);
        options_.onDropped(*ws, topic.name, missed);
        // The application's code ran: the connection may have ended, or what it sent may have
        // put it over the bound again (then this message is missed too, and told later).
        if (!entry.ws) continue;
        if (ws->stalledAmount() > slowBytes) {
          ++entry.subscriptions->find(&topic)->missed;
          ++stats_.dropped;
          continue;
        }
      }
    }
    const SharedFrame* shared = options_.shareFrames ? sharedFrameFor(*ws, publication) : nullptr;
    if (shared ? ws->sendShared(*shared) : ws->send(data, opcode)) ++queued;
  }
  publishing_ = nullptr;
  if (!endedDuringPublish_.empty()) {
    // May destroy `topic` (its last subscriber gone): nothing below uses it.
    for (Subscriptions* ended : std::exchange(endedDuringPublish_, {})) connectionClosed(*ended);
  }
  for (const SharedFrame* built : {&publication.plain, &publication.deflated}) {
    if (built->chunk) loop_.buffers().release(built->chunk);
  }
  if (queued) ++stats_.published;
  stats_.delivered += queued;
  stats_.deliveredBytes += queued * data.size();
  if (!slow_.empty()) {
    // A close may end a connection at once (its queue over maxBackpressure), and its close
    // handler may publish again, which reuses slow_: walk a copy of our own.
    std::vector<WebSocket*> slow = std::exchange(slow_, {});
    for (WebSocket* ws : slow) {
      ++stats_.slowClosed;
      ws->close(CloseCode::TryAgainLater, "subscriber too slow");
    }
  }
  return queued;
}

void Topics::publishFromAnyThread(std::string topic, std::string data, Opcode opcode) {
  if (relay_) return relay_->publishFromAnyThread(std::move(topic), std::move(data), opcode);
  loop_.post([life = lifeline_.handle(), topic = std::move(topic), data = std::move(data), opcode] {
    if (Topics* topics = life.get()) topics->publish(topic, data, opcode);
  });
}

}  // namespace duplex::pubsub
