#include "pubsub/topic_interest.h"

namespace duplex::pubsub {

void TopicInterest::add(std::string_view topic) {
  std::lock_guard lock(mutex_);
  topics_.emplace(topic);
}

void TopicInterest::remove(std::string_view topic) {
  std::lock_guard lock(mutex_);
  if (auto it = topics_.find(topic); it != topics_.end()) topics_.erase(it);
}

}  // namespace duplex::pubsub
