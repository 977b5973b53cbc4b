#pragma once
// Messages that one loop hands to the other loops' Topics: pubsub Topics over several loops
// (topics_relay.h), and the hub's pushes that store nothing (presence, channels without history).
//
// The hand-off is per iteration, not per message: a loop appends what it sends during an
// iteration to one batch, and at the end of the iteration (Loop::defer) posts that batch, shared
// read-only, to each other loop whose Topics has subscribers on one of its topics
// (TopicInterest): one Loop::post, so one wake-up, per such loop per batch, and none for a loop
// that wants none of it. Each loop then frames (and compresses) each message once for its own
// subscribers. Batches leave a loop in order and a loop runs its posted tasks in order, so the
// messages of one sender on one topic arrive everywhere in the order they were sent.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/loop.h"
#include "protocol/opcode.h"

namespace duplex::pubsub {

class Topics;

class CrossLoopBatches {
 public:
  // A loop and the Topics that serves it (one loop's Topics). Add every loop before any runs;
  // from the second on, every Topics keeps its TopicInterest.
  void addLoop(net::Loop& loop, Topics& topics);

  // On `from`'s thread (one of the added loops): `data` on `topic` for the subscribers on every
  // other loop, at the end of this iteration. The sender delivers to its own loop itself.
  void send(net::Loop& from, std::string_view topic, std::string_view data, Opcode opcode);

 private:
  // One iteration's messages from one loop: topics and payloads packed into one string.
  struct Batch {
    struct Item {
      size_t topicSize;
      size_t dataSize;  // the payload follows the topic in `bytes`
      Opcode opcode;
    };
    std::string bytes;
    std::vector<Item> items;
  };
  struct Member {
    net::Loop* loop;
    Topics* topics;
    std::shared_ptr<Batch> outgoing;  // this iteration's, not yet handed over; its thread only
  };

  Member& memberOf(const net::Loop& loop);
  void handOver(Member& from);
  // `to` has subscribers on one of the batch's topics, or keeps no interest to ask.
  static bool wanted(const Topics& to, const Batch& batch);

  std::vector<std::unique_ptr<Member>> members_;  // fixed once the loops run
};

}  // namespace duplex::pubsub
