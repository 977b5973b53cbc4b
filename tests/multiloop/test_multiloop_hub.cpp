// One Hub over an App's four loops, each on its own thread, with the in-process engine (SQLite
// on its storage thread): what duplexd runs. Round-robin puts the i-th connection on loop i, so
// the test knows where each client is (and checks it). Also built in the ThreadSanitizer tree,
// which is where these earn their keep: the hub's per-loop parts, the engine's cross-loop
// deliveries and the gathering of numbers from every loop all run on several threads here.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hub/hub.h"
#include "hub/in_process_engine.h"
#include "hub_peer.h"
#include "multiloop_fixture.h"
#include "pubsub/topics.h"
#include "temp_dir.h"

namespace duplex::hub {
namespace {

using duplex::test::ServerThread;

HubOptions hubOptions() {
  auto namespaces = Namespaces::fromJson(R"({"namespaces": {
    "talk": {"history_size": 100, "presence": true},
    "feed": {"history_size": 1000},
    "live": {"history_size": 0}}})");
  EXPECT_TRUE(namespaces.ok());
  HubOptions options;
  options.namespaces = std::move(namespaces.value());
  // The race test's clients send hundreds of commands a second: no rate limit gets in its way.
  options.commandsPerSecond = 1e6;
  options.commandBurst = 1e6;
  return options;
}

using test::Peer;

class MultiLoopHub : public ::testing::Test {
 protected:
  static constexpr size_t kLoops = 4;
  test::TempDir dir;
  App app{duplex::test::multiLoopOptions(kLoops)};
  std::vector<std::unique_ptr<pubsub::Topics>> topics;
  std::unique_ptr<ChannelStore> store;
  std::unique_ptr<InProcessEngine> engine;
  std::unique_ptr<Hub> hub;
  std::unique_ptr<ServerThread> server;
  net::Loop clients;
  std::vector<std::unique_ptr<Peer>> peers;  // peers[i] lives on loop i

  void SetUp() override {
    auto opened = ChannelStore::open(dir.file("channels.db"));
    ASSERT_TRUE(opened.ok());
    store = std::move(*opened);
    engine = std::make_unique<InProcessEngine>(*store);
    for (net::Loop* loop : app.loops()) {
      topics.push_back(std::make_unique<pubsub::Topics>(*loop));
      engine->addLoop(*loop, *topics.back());
    }
    hub = std::make_unique<Hub>(app.loops(), *engine, hubOptions());
    app.ws("/connection", hub->behavior());
    app.listen("127.0.0.1", 0);
    server = std::make_unique<ServerThread>(app);
    server->start();
    // One at a time, so that round-robin's order is the order of connecting.
    for (size_t i = 0; i < kLoops; ++i) {
      peers.push_back(std::make_unique<Peer>(clients, app.port()));
      ASSERT_TRUE(until([&] { return peers.back()->open; }));
    }
    ASSERT_EQ(app.acceptedPerLoop(), (std::vector<uint64_t>(kLoops, 1)));
  }

  void TearDown() override {
    server->stop(clients);  // every loop closes its connections (1001) and stops
    hub.reset();            // the loops do not run: the hub's parts are ours to touch
    engine.reset();
  }

  bool until(const std::function<bool()>& done) {
    return duplex::test::runUntil(clients, done, 10000);
  }
  void send(size_t loop, const std::string& command) { peers[loop]->ws->send(command); }
  // Hub::report() asked on loop 0's thread, waited for on this one.
  HubReport report() {
    std::mutex mutex;
    std::optional<HubReport> got;
    app.loop(0).post([&] {
      hub->report([&](HubReport r) {
        std::lock_guard lock(mutex);
        got = std::move(r);
      });
    });
    EXPECT_TRUE(until([&] {
      std::lock_guard lock(mutex);
      return got.has_value();
    }));
    std::lock_guard lock(mutex);
    return got.value_or(HubReport{});
  }
};

TEST_F(MultiLoopHub, APublishOnLoop1ReachesLoop3WithOneSequenceAndPresenceSpansTheLoops) {
  send(3, R"({"id":1,"subscribe":{"channel":"talk:x"}})");
  ASSERT_TRUE(until([&] { return peers[3]->has({R"("id":1)"}); }));
  for (int i = 1; i <= 3; ++i) {
    send(1, R"({"id":)" + std::to_string(10 + i) + R"(,"publish":{"channel":"talk:x","data":)" +
                std::to_string(i) + "}}");
  }
  // The acks come back on loop 1, the pushes reach loop 3: two threads, either first.
  ASSERT_TRUE(until([&] {
    return peers[3]->count({R"("pub")"}) == 3 && peers[1]->count({R"("offset":)"}) == 3;
  }));
  for (int i = 1; i <= 3; ++i) {
    EXPECT_TRUE(
        peers[1]->has({R"("id":)" + std::to_string(10 + i), R"("offset":)" + std::to_string(i)}));
    EXPECT_TRUE(peers[3]->has({R"("pub":{"offset":)" + std::to_string(i)}));
  }
  // Presence asked on loop 0 lists the member on loop 3; a member joining on loop 2 is
  // announced on loop 3.
  send(0, R"({"id":2,"presence":{"channel":"talk:x"}})");
  ASSERT_TRUE(until([&] { return peers[0]->has({R"("id":2)"}); }));
  EXPECT_TRUE(peers[0]->has({R"("id":2)", R"("clients":{"c-)"}));
  send(2, R"({"id":3,"subscribe":{"channel":"talk:x"}})");
  ASSERT_TRUE(until([&] { return peers[3]->count({R"("join")"}) == 2; }));

  HubReport numbers = report();
  EXPECT_EQ(numbers.gauges.clients, kLoops);
  EXPECT_EQ(numbers.gauges.subscriptions, 2u);
  EXPECT_EQ(numbers.gauges.channels, 1u);  // one channel on two loops
  EXPECT_EQ(numbers.stats.published, 3u);
  EXPECT_EQ(numbers.metrics.acks, 3u);
  EXPECT_EQ(numbers.metrics.commandsIn, 6u);
}

TEST_F(MultiLoopHub, PushesThatStoreNothingCrossLoopsInOnePostPerLoopPerBatch) {
  for (size_t loop = 1; loop < kLoops; ++loop) {
    send(loop, R"({"id":1,"subscribe":{"channel":"live:ticks"}})");
  }
  ASSERT_TRUE(until([&] {
    for (size_t loop = 1; loop < kLoops; ++loop) {
      if (!peers[loop]->has({R"("id":1)"})) return false;
    }
    return true;
  }));
  std::vector<uint64_t> postsBefore;
  for (size_t loop = 0; loop < kLoops; ++loop) postsBefore.push_back(app.loop(loop).postCount());
  // Fifty publishes in one write: read in one iteration of loop 0, handed over as one batch.
  constexpr int kCount = 50;
  std::vector<std::string> frames;
  for (int i = 0; i < kCount; ++i) {
    frames.push_back(R"({"id":)" + std::to_string(100 + i) +
                     R"(,"publish":{"channel":"live:ticks","data":)" + std::to_string(i) + "}}");
  }
  for (const std::string& f : frames) peers[0]->ws->send(f);  // corked: one write
  ASSERT_TRUE(until([&] {
    for (size_t loop = 1; loop < kLoops; ++loop) {
      if (peers[loop]->count({R"("pub")"}) != kCount) return false;
    }
    return peers[0]->count({R"("offset":0)", R"("id":)"}) == kCount;
  }));
  for (size_t loop = 1; loop < kLoops; ++loop) {
    // In order, each once.
    size_t next = 0;
    for (const std::string& m : peers[loop]->messages) {
      if (m.find(R"("pub")") == std::string::npos) continue;
      EXPECT_NE(m.find(R"("data":)" + std::to_string(next) + "}"), std::string::npos) << m;
      ++next;
    }
    // Far fewer wake-ups than messages (TCP may split the burst over a few reads).
    EXPECT_LE(app.loop(loop).postCount() - postsBefore[loop], 5u) << "loop " << loop;
  }
}

// What this process's loops are woken for: posts to each loop since the last call.
class PostCounter {
 public:
  explicit PostCounter(App& app) : app_(app) { reset(); }
  void reset() {
    before_.clear();
    for (net::Loop* loop : app_.loops()) before_.push_back(loop->postCount());
  }
  uint64_t since(size_t loop) const { return app_.loop(loop).postCount() - before_[loop]; }

 private:
  App& app_;
  std::vector<uint64_t> before_;
};

// The publications' offsets in a message: a `pub` push's, or a subscribe reply's list.
std::vector<uint64_t> offsetsIn(const std::string& message) {
  std::vector<uint64_t> offsets;
  static constexpr std::string_view kItem = R"({"offset":)";
  for (size_t at = message.find(kItem); at != std::string::npos; at = message.find(kItem, at + 1)) {
    offsets.push_back(std::stoull(message.substr(at + kItem.size(), 20)));
  }
  return offsets;
}

// A reply's position: "epoch":"...","offset":N.
uint64_t topIn(const std::string& reply) {
  static constexpr std::string_view kTop = R"(","offset":)";
  size_t at = reply.find(kTop);
  return at == std::string::npos ? 0 : std::stoull(reply.substr(at + kTop.size(), 20));
}

std::string epochIn(const std::string& reply) {
  size_t at = reply.find(R"("epoch":")");
  return at == std::string::npos ? "" : reply.substr(at + 9, reply.find('"', at + 9) - at - 9);
}

TEST_F(MultiLoopHub, StoredPublicationsWakeOnlyTheLoopsThatHaveSubscribersOnTheirChannel) {
  send(3, R"({"id":1,"subscribe":{"channel":"feed:x"}})");
  ASSERT_TRUE(until([&] { return peers[3]->has({R"("id":1)"}); }));
  int acked = 0;
  // One at a time, each acknowledged before the next: every publication a storage batch of its
  // own, as under a light paced load.
  auto publishFrom1 = [&](int count) {
    for (int i = 0; i < count; ++i) {
      const int id = 100 + acked;
      send(1, R"({"id":)" + std::to_string(id) + R"(,"publish":{"channel":"feed:x","data":)" +
                  std::to_string(id) + "}}");
      ASSERT_TRUE(until([&] { return peers[1]->has({R"("id":)" + std::to_string(id) + ","}); }));
      ++acked;
    }
  };
  PostCounter posts(app);
  publishFrom1(20);
  ASSERT_TRUE(until([&] { return peers[3]->count({R"("pub")"}) == 20; }));
  EXPECT_EQ(posts.since(0), 0u) << "loop 0 has no subscriber on feed:x";
  EXPECT_EQ(posts.since(2), 0u) << "loop 2 has no subscriber on feed:x";
  EXPECT_GE(posts.since(1), 1u);  // the acks
  EXPECT_GE(posts.since(3), 1u);  // the pushes

  // Unsubscribed: loop 3 is no longer woken either.
  send(3, R"({"id":2,"unsubscribe":{"channel":"feed:x"}})");
  ASSERT_TRUE(until([&] { return peers[3]->has({R"("id":2)"}); }));
  posts.reset();
  publishFrom1(10);
  EXPECT_EQ(posts.since(3), 0u);
  EXPECT_EQ(posts.since(0) + posts.since(2), 0u);

  // A subscriber that closes (which the engine does not hear of): the next publication finds
  // nobody on loop 2 and releases the channel there, so at most one or two wake it.
  send(2, R"({"id":3,"subscribe":{"channel":"feed:x"}})");
  ASSERT_TRUE(until([&] { return peers[2]->has({R"("id":3)"}); }));
  peers[2]->ws->close();
  ASSERT_TRUE(until([&] { return !peers[2]->open; }));
  posts.reset();
  publishFrom1(10);
  EXPECT_LE(posts.since(2), 2u);
  EXPECT_EQ(posts.since(0) + posts.since(3), 0u);
}

TEST_F(MultiLoopHub, PushesThatStoreNothingWakeOnlyTheLoopsWithSubscribersOnTheirChannel) {
  send(3, R"({"id":1,"subscribe":{"channel":"live:x"}})");
  send(3, R"({"id":2,"subscribe":{"channel":"talk:room"}})");
  ASSERT_TRUE(until([&] { return peers[3]->has({R"("id":1)"}) && peers[3]->has({R"("id":2)"}); }));
  PostCounter posts(app);
  // A presence push (a join on loop 1) and publications without history, from loop 1.
  send(1, R"({"id":3,"subscribe":{"channel":"talk:room"}})");
  ASSERT_TRUE(until([&] { return peers[1]->has({R"("id":3)"}); }));
  for (int i = 0; i < 20; ++i) {
    const std::string id = std::to_string(100 + i);
    send(1, R"({"id":)" + id + R"(,"publish":{"channel":"live:x","data":)" + id + "}}");
    ASSERT_TRUE(until([&] { return peers[1]->has({R"("id":)" + id + ","}); }));
  }
  ASSERT_TRUE(until([&] { return peers[3]->count({R"("pub")"}) == 20; }));
  // Its own join, then loop 1's.
  ASSERT_TRUE(until([&] { return peers[3]->count({R"("join")"}) == 2; }));
  EXPECT_EQ(posts.since(0), 0u) << "loop 0 has no subscriber on live:x or talk:room";
  EXPECT_EQ(posts.since(2), 0u) << "loop 2 has no subscriber on live:x or talk:room";
  EXPECT_GE(posts.since(3), 1u);

  // Once loop 3's subscriber has left live:x, its publications stay on loop 1.
  send(3, R"({"id":4,"unsubscribe":{"channel":"live:x"}})");
  ASSERT_TRUE(until([&] { return peers[3]->has({R"("id":4)"}); }));
  posts.reset();
  for (int i = 0; i < 5; ++i) {
    const std::string id = std::to_string(200 + i);
    send(1, R"({"id":)" + id + R"(,"publish":{"channel":"live:x","data":)" + id + "}}");
    ASSERT_TRUE(until([&] { return peers[1]->has({R"("id":)" + id + ","}); }));
  }
  EXPECT_EQ(posts.since(0) + posts.since(2) + posts.since(3), 0u);
  EXPECT_EQ(peers[3]->count({R"("pub")"}), 20u);
}

// Subscribers on loops 1 to 3 leave and come back with `since`, over and over, while a publisher
// on loop 0 keeps publishing: each claim and release of the channel on a loop races the
// publications in flight. Every subscriber must see every offset from its first subscribe on,
// once, in order (recovered in a reply or pushed live).
TEST_F(MultiLoopHub, SubscribersComingAndGoingOnOtherLoopsMissNothingAndRepeatNothing) {
  constexpr uint64_t kPublications = 300;
  constexpr uint64_t kInFlight = 4;  // publishes sent and not yet acknowledged, at most
  struct Subscriber {
    Peer* peer;
    size_t read = 0;  // messages of peer->messages looked at
    bool subscribed = false;
    bool waiting = false;  // for the reply to a subscribe or unsubscribe
    std::string epoch;
    uint64_t last = 0;  // the last offset seen
    uint64_t pubsSinceSubscribe = 0;
    uint64_t cycles = 0;
    int nextId = 1000;
    std::vector<uint64_t> seen;
  };
  std::vector<Subscriber> subscribers;
  for (size_t loop = 1; loop < kLoops; ++loop) subscribers.push_back({peers[loop].get()});

  uint64_t sent = 0;
  auto acked = [&] { return peers[0]->count({R"("offset":)", R"("id":)"}); };
  auto publishMore = [&] {
    while (sent < kPublications && sent < acked() + kInFlight) {
      ++sent;
      send(0, R"({"id":)" + std::to_string(sent) + R"(,"publish":{"channel":"feed:race","data":)" +
                  std::to_string(sent) + "}}");
    }
  };
  auto subscribe = [&](Subscriber& s) {
    std::string since;
    if (!s.epoch.empty()) {
      since =
          R"(,"since":{"offset":)" + std::to_string(s.last) + R"(,"epoch":")" + s.epoch + R"("})";
    }
    s.peer->ws->send(R"({"id":)" + std::to_string(s.nextId++) +
                     R"(,"subscribe":{"channel":"feed:race")" + since + "}}");
    s.waiting = true;
  };
  // Reads what came; leaves after a few live pushes and comes back at once, while publishing
  // goes on. Returns false on anything but the next offset.
  auto step = [&](Subscriber& s, bool publishing) {
    while (s.read < s.peer->messages.size()) {
      const std::string& m = s.peer->messages[s.read++];
      const bool reply = m.find(R"("result")") != std::string::npos;
      if (reply && s.waiting && !s.subscribed) {  // a subscribe's
        EXPECT_EQ(m.find(R"("recovered":false)"), std::string::npos) << m;
        if (s.epoch.empty()) {
          s.epoch = epochIn(m);
          s.last = topIn(m);
        }
        s.subscribed = true;
        s.pubsSinceSubscribe = 0;
      } else if (reply && s.waiting) {  // an unsubscribe's
        s.subscribed = false;
        ++s.cycles;
      } else if (!reply && !s.subscribed) {
        ADD_FAILURE() << "a push while not subscribed: " << m;
        return false;
      } else if (!reply) {
        ++s.pubsSinceSubscribe;
      }
      if (reply) s.waiting = false;
      for (uint64_t offset : offsetsIn(m)) {
        s.seen.push_back(offset);
        if (offset != s.last + 1) {
          ADD_FAILURE() << "expected offset " << s.last + 1 << ", got " << offset << " in " << m;
          return false;
        }
        s.last = offset;
      }
    }
    if (s.waiting) return true;
    if (!s.subscribed) {
      subscribe(s);
    } else if (publishing && s.pubsSinceSubscribe >= 2) {
      s.peer->ws->send(R"({"id":)" + std::to_string(s.nextId++) +
                       R"(,"unsubscribe":{"channel":"feed:race"}})");
      s.waiting = true;
    }
    return true;
  };

  for (Subscriber& s : subscribers) subscribe(s);
  bool failed = false;
  auto state = [&] {
    std::string out = "acked " + std::to_string(acked()) + " of " + std::to_string(sent);
    for (const Subscriber& s : subscribers) {
      out += "; last " + std::to_string(s.last) + (s.subscribed ? " subscribed" : "") +
             (s.waiting ? " waiting" : "") +
             ", latest: " + (s.peer->messages.empty() ? "" : s.peer->messages.back());
    }
    return out;
  };
  ASSERT_TRUE(duplex::test::runUntil(
      clients,
      [&] {
        publishMore();
        const bool publishing = acked() < kPublications;
        bool done = !publishing;
        for (Subscriber& s : subscribers) {
          if (!step(s, publishing)) failed = true;
          done = done && s.subscribed && !s.waiting && s.last == kPublications;
        }
        return failed || done;
      },
      60000))
      << state();
  ASSERT_FALSE(failed) << state();
  for (const Subscriber& s : subscribers) {
    EXPECT_EQ(s.last, kPublications);
    // Each came and went several times while the publications flowed.
    EXPECT_GE(s.cycles, 3u);
    EXPECT_EQ(std::set<uint64_t>(s.seen.begin(), s.seen.end()).size(), s.seen.size());
  }
}

}  // namespace
}  // namespace duplex::hub
