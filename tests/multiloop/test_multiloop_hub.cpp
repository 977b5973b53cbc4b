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
#include <string>
#include <vector>

#include "hub/hub.h"
#include "hub/in_process_engine.h"
#include "multiloop_fixture.h"
#include "pubsub/topics.h"
#include "hub_peer.h"
#include "temp_dir.h"

namespace duplex::hub {
namespace {

using duplex::test::ServerThread;

HubOptions hubOptions() {
  auto namespaces = Namespaces::fromJson(R"({"namespaces": {
    "talk": {"history_size": 100, "presence": true},
    "live": {"history_size": 0}}})");
  EXPECT_TRUE(namespaces.ok());
  HubOptions options;
  options.namespaces = std::move(namespaces.value());
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

}  // namespace
}  // namespace duplex::hub
