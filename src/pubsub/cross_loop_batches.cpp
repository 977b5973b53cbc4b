#include "pubsub/cross_loop_batches.h"

#include <stdexcept>
#include <utility>

#include "pubsub/topics.h"

namespace duplex::pubsub {

void CrossLoopBatches::addLoop(net::Loop& loop, Topics& topics) {
  members_.push_back(std::make_unique<Member>(Member{&loop, &topics, nullptr}));
  if (members_.size() > 1) {
    for (auto& member : members_) member->topics->shareInterest();
  }
}

CrossLoopBatches::Member& CrossLoopBatches::memberOf(const net::Loop& loop) {
  // A handful of loops: a scan is cheaper than a lookup, and needs no shared state.
  for (auto& member : members_) {
    if (member->loop == &loop) return *member;
  }
  throw std::logic_error("pubsub: a loop that was not added (CrossLoopBatches::addLoop)");
}

void CrossLoopBatches::send(net::Loop& from, std::string_view topic, std::string_view data,
                            Opcode opcode) {
  if (members_.size() < 2) return;
  Member& here = memberOf(from);
  if (!here.outgoing) {
    here.outgoing = std::make_shared<Batch>();
    here.loop->defer([this, member = &here] { handOver(*member); });
  }
  Batch& batch = *here.outgoing;
  batch.items.push_back({topic.size(), data.size(), opcode});
  batch.bytes.append(topic);
  batch.bytes.append(data);
}

bool CrossLoopBatches::wanted(const Topics& to, const Batch& batch) {
  const TopicInterest* interest = to.interest();
  if (!interest) return true;
  TopicInterest::Reader reader(*interest);
  std::string_view bytes = batch.bytes;
  for (const Batch::Item& item : batch.items) {
    if (reader.wants(bytes.substr(0, item.topicSize))) return true;
    bytes.remove_prefix(item.topicSize + item.dataSize);
  }
  return false;
}

void CrossLoopBatches::handOver(Member& from) {
  std::shared_ptr<const Batch> batch = std::move(from.outgoing);
  from.outgoing.reset();
  for (auto& to : members_) {
    if (to.get() == &from || !wanted(*to->topics, *batch)) continue;
    // Read on `to`'s own thread, where its Topics lives: a Topics gone by then drops the batch.
    to->loop->post([life = to->topics->lifeline_.handle(), batch] {
      Topics* topics = life.get();
      if (!topics) return;
      std::string_view bytes = batch->bytes;
      for (const Batch::Item& item : batch->items) {
        topics->publish(bytes.substr(0, item.topicSize),
                        bytes.substr(item.topicSize, item.dataSize), item.opcode);
        bytes.remove_prefix(item.topicSize + item.dataSize);
      }
    });
  }
}

}  // namespace duplex::pubsub
