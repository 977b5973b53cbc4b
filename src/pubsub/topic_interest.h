#pragma once
// Which topics one loop's Topics has subscribers on, readable from the other loops' threads.
// A loop hands a batch of publishes (topics_relay.cpp) or pushes (the hub's engines) only to
// the loops that want one of its topics: a publish to a channel with subscribers on one loop
// of 32 wakes that loop, not 31.
//
// Written by the owning loop when a topic gets its first subscriber there or loses its last,
// before subscribe() returns: a publish made on another loop after that (after the subscriber
// was told it is subscribed) finds the topic here and reaches it. A reader may see a topic
// that has just lost its subscribers; that costs one needless post, never a lost message.
// The lock is taken on those transitions and once per batch and loop, never per message or
// per subscriber.
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "net/string_map.h"

namespace duplex::pubsub {

class TopicInterest {
 public:
  void add(std::string_view topic);     // the owning loop's thread
  void remove(std::string_view topic);  // ditto

  // Asks about several topics under one lock, for as long as it lives: keep it short.
  class Reader {
   public:
    explicit Reader(const TopicInterest& interest) : interest_(interest), lock_(interest.mutex_) {}
    bool wants(std::string_view topic) const {
      return interest_.topics_.find(topic) != interest_.topics_.end();
    }

   private:
    const TopicInterest& interest_;
    std::lock_guard<std::mutex> lock_;
  };

 private:
  mutable std::mutex mutex_;
  std::unordered_set<std::string, net::StringHash, std::equal_to<>> topics_;
};

}  // namespace duplex::pubsub
