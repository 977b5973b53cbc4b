#pragma once
// Topics with broadcast: connections subscribe to named topics, and a publish reaches every
// subscriber. The frame is built once, into a reference-counted chunk, and the same bytes are
// queued on every subscriber, where they leave corked with everything else that socket gets
// in the same loop iteration: no per-subscriber copy of the payload, no per-subscriber
// allocation. Under permessage-deflate the same holds for subscribers that compress each
// message alone (no server context takeover, duplex's default): the message is compressed once
// and that frame shared; a subscriber with its own context gets its own compressed frame. A
// subscriber that stops reading is dealt with by policy, never by letting its queue grow; the
// publisher never waits for it.
//
// Across loops (an App with several threads): one Topics serves every loop. Each loop keeps its
// own subscribers and builds (and compresses) each frame once for them; a publish on one loop
// reaches its own subscribers at once and the other loops' at the end of the iteration, in one
// batch per iteration handed to each other loop with one post (one wake-up), whatever the
// number of messages and subscribers, and only to the loops that have subscribers on one of the
// batch's topics (TopicInterest). Messages of one publisher on one topic arrive in order
// everywhere. With one loop none of this exists: the publish path has no lock and no atomic.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/lifeline.h"
#include "net/loop.h"
#include "net/string_map.h"
#include "protocol/opcode.h"
#include "pubsub/topic_interest.h"
#include "server/websocket.h"

namespace duplex::pubsub {

enum class SlowSubscriberPolicy : uint8_t {
  Close,  // close it (1013 Try Again Later): it reconnects and catches up from history
  Drop,   // skip messages while it is behind, and tell it how many it missed (onDropped)
};

// A publish walks a topic's subscribers and may call onDropped on the way; everything onDropped
// sets off (a close handler of a connection it closes, too) runs inside that walk. Topics is not
// re-entrant there: publish, subscribe, unsubscribe and unsubscribeAll called from inside a
// publish are refused in every build (they return 0 / false, log an error and count in
// TopicsStats::refused). Defer such work with Loop::defer. A connection that closes during the
// walk is unsubscribed when it ends.
struct TopicsOptions {
  // A subscriber with more than this queued and unread is "slow". Keep it below the route's
  // maxBackpressure, which drops the connection outright.
  size_t slowSubscriberBytes = 1 << 20;
  SlowSubscriberPolicy policy = SlowSubscriberPolicy::Close;
  // Drop policy: called before the next message a subscriber receives once it has caught up,
  // with the number of messages it missed on that topic, so the application can say so (with
  // ws.send). It runs inside publish(): see above for what it may not call.
  std::function<void(WebSocket&, std::string_view topic, uint64_t missed)> onDropped;
  // Benchmark/diagnostic knob, not a tuning one: false builds (and compresses) the frame once
  // per subscriber with WebSocket::send, as a server without shared frames would. It exists to
  // measure what sharing buys (docs/performance.md); leave it on.
  bool shareFrames = true;
};

struct TopicsStats {
  uint64_t published = 0;       // publish() calls that reached at least one subscriber
  uint64_t delivered = 0;       // frames queued on subscribers
  uint64_t deliveredBytes = 0;  // their payload bytes (before compression)
  uint64_t dropped = 0;         // frames skipped for slow subscribers (Drop policy)
  uint64_t slowClosed = 0;      // subscribers closed for being slow (Close policy)
  uint64_t compressedOnce = 0;  // publishes compressed once for subscribers sending alone
  uint64_t refused = 0;         // calls refused for coming from inside a publish (onDropped)
};

class Topics {
 public:
  explicit Topics(net::Loop& loop, TopicsOptions options = {});
  // Topics over several loops (App::loop(0..n-1)); one loop is the constructor above. Every
  // call but publishFromAnyThread is made on one of these loops' threads: subscribe and
  // unsubscribe on the connection's own, publish on any. Construct and destroy it while the
  // loops are not running.
  Topics(const std::vector<net::Loop*>& loops, TopicsOptions options = {});
  ~Topics();
  Topics(const Topics&) = delete;
  Topics& operator=(const Topics&) = delete;

  // False when already subscribed (or not open, or called from inside a publish).
  // Subscriptions end with the connection.
  bool subscribe(WebSocket& ws, std::string_view topic);
  bool unsubscribe(WebSocket& ws, std::string_view topic);
  void unsubscribeAll(WebSocket& ws);
  bool isSubscribed(const WebSocket& ws, std::string_view topic) const;

  // Sends to every subscriber of `topic` but `except`. Returns how many it was queued for (on
  // this loop; other loops' subscribers get it at the end of the iteration), 0 when refused:
  // called from inside another publish.
  size_t publish(std::string_view topic, std::string_view data, Opcode opcode = Opcode::Text,
                 const WebSocket* except = nullptr);
  // The same from any thread: copies the message and hands it to every loop's thread (where it
  // is dropped if this Topics is gone by then).
  void publishFromAnyThread(std::string topic, std::string data, Opcode opcode = Opcode::Text);

  // With several loops these three add up every loop's figures: call them when the loops do
  // not run, or accept that they race with the other loops (metrics, tests at rest).
  size_t subscriberCount(std::string_view topic) const;
  size_t topicCount() const;
  const TopicsStats& stats() const;

  // Which topics this (one loop's) Topics has subscribers on, kept from shareInterest() on for
  // the other loops' threads, so that they hand a batch only to the loops that want it. Topics
  // over several loops share it for each loop's; so do the hub's engines for the Topics of
  // their loops once they have two. Null before: whoever asks must then assume every topic.
  void shareInterest();
  const TopicInterest* interest() const { return interest_.get(); }

 private:
  struct Topic;
  struct Subscriptions;
  Subscriptions* subscriptionsOf(const WebSocket& ws) const;
  // True (and says so) when called from inside a publish.
  bool refusedInsidePublish(const char* call);
  void remove(Topic& topic, uint32_t index);
  void connectionClosed(Subscriptions& subscriptions);
  SharedFrame frame(std::string_view data, Opcode opcode, bool compressed);
  struct Publication;
  const SharedFrame* sharedFrameFor(WebSocket& ws, Publication& p);

  // Several loops: one Topics per loop and the batches between them (topics_relay.cpp).
  struct Relay;
  friend class CrossLoopBatches;  // posts capture lifeline_
  std::unique_ptr<Relay> relay_;

  net::Loop& loop_;
  TopicsOptions options_;
  net::StringMap<std::unique_ptr<Topic>> topics_;
  net::Chunk* packing_ = nullptr;  // consecutive small frames share a chunk
  std::vector<WebSocket*> slow_;   // reused by publish(): slow subscribers to close afterwards
  std::string deflated_;           // reused by publish(): the message compressed once
  mutable TopicsStats stats_;      // with a relay: every loop's, added up by stats()
  Topic* publishing_ = nullptr;    // the topic whose subscribers a publish is walking
  // Connections that ended during that walk: their entries are blanked, removed after it.
  std::vector<Subscriptions*> endedDuringPublish_;
  std::unique_ptr<TopicInterest> interest_;  // see shareInterest()
  net::Lifeline<Topics> lifeline_{this};     // what posts from other threads capture
};

}  // namespace duplex::pubsub
