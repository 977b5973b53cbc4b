// Topics over four loops: a publish on any loop reaches every subscriber on every loop once, in
// the order each publisher sent; each loop frames the message once for its own subscribers; and
// the hand-off between loops costs one post (one wake-up) per loop per iteration, whatever the
// number of messages.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "multiloop_fixture.h"
#include "pubsub/topics.h"

namespace duplex {
namespace {

using test::ServerThread;

TEST(MultiLoopBroadcast, EverySubscriberOnEveryLoopGetsEveryMessageOnceInOrder) {
  constexpr int kClients = 40;  // ten per loop, each a subscriber and a publisher
  constexpr int kMessages = 25;
  App app(test::multiLoopOptions(4));
  pubsub::Topics topics(app.loops());
  std::atomic<int> wrongThread{0};
  WebSocketBehavior b;
  b.open = [&](WebSocket& ws, const Request&) {
    if (!test::onOwnLoop(ws)) ++wrongThread;
    topics.subscribe(ws, "room");
  };
  b.message = [&](WebSocket& ws, std::string_view data, Opcode op) {
    if (!test::onOwnLoop(ws)) ++wrongThread;
    topics.publish("room", data, op);
  };
  app.ws("/*", std::move(b));
  app.listen("127.0.0.1", 0);
  std::string url = "ws://127.0.0.1:" + std::to_string(app.port()) + "/room";
  ServerThread thread(app);
  thread.start();

  net::Loop loop;
  int opened = 0, closed = 0, received = 0;
  std::vector<WebSocket*> clients(kClients);
  // Per receiving client, per publisher: the next sequence number expected.
  std::vector<std::map<int, int>> next(kClients);
  std::vector<std::string> problems;
  for (int i = 0; i < kClients; ++i) {
    ClientBehavior c;
    c.open = [&, i](WebSocket& ws) {
      clients[static_cast<size_t>(i)] = &ws;
      ++opened;
    };
    c.message = [&, i](WebSocket&, std::string_view data, Opcode) {
      ++received;
      size_t colon = data.find(':');
      int from = std::stoi(std::string(data.substr(0, colon)));
      int seq = std::stoi(std::string(data.substr(colon + 1)));
      int& expected = next[static_cast<size_t>(i)][from];
      if (seq != expected && problems.size() < 10) {
        problems.push_back("client " + std::to_string(i) + " got " + std::string(data) +
                           ", expected seq " + std::to_string(expected));
      }
      expected = seq + 1;
    };
    c.close = [&](WebSocket&, uint16_t, std::string_view) { ++closed; };
    connect(loop, url, std::move(c));
  }
  // Each server subscribes in its open handler, before the client sees the 101.
  ASSERT_TRUE(test::runUntil(
      loop, [&] { return opened == kClients; }, 10000));
  EXPECT_EQ(app.acceptedPerLoop(), (std::vector<uint64_t>{10, 10, 10, 10}));
  for (int m = 0; m < kMessages; ++m) {
    for (int i = 0; i < kClients; ++i) {
      clients[static_cast<size_t>(i)]->send(std::to_string(i) + ":" + std::to_string(m));
    }
  }
  constexpr int kExpected = kClients * kClients * kMessages;
  ASSERT_TRUE(test::runUntil(
      loop, [&] { return received >= kExpected; }, 20000))
      << received << " of " << kExpected;
  // Nothing more arrives (no duplicates): let a few more iterations pass.
  test::runUntil(
      loop, [] { return false; }, 100);
  EXPECT_EQ(received, kExpected);
  EXPECT_TRUE(problems.empty()) << problems.front();
  for (int i = 0; i < kClients; ++i) {
    for (int from = 0; from < kClients; ++from) {
      EXPECT_EQ(next[static_cast<size_t>(i)][from], kMessages) << i << " from " << from;
    }
  }
  EXPECT_EQ(wrongThread.load(), 0);

  for (WebSocket* ws : clients) ws->close();
  ASSERT_TRUE(test::runUntil(
      loop, [&] { return closed == kClients; }, 10000));
  thread.stop();
  // Every loop delivered to its own ten: 40 x 1000 frames in all.
  EXPECT_EQ(topics.stats().delivered, static_cast<uint64_t>(kExpected));
}

// The hand-off's cost: however many messages a loop publishes in one iteration, each other loop
// is posted to (woken) once.
TEST(MultiLoopBroadcast, OneWakeUpPerLoopPerIteration) {
  std::vector<std::unique_ptr<net::Loop>> owned;
  std::vector<net::Loop*> loops;
  for (int i = 0; i < 4; ++i) {
    owned.push_back(std::make_unique<net::Loop>());
    loops.push_back(owned.back().get());
  }
  pubsub::Topics topics(loops);
  std::vector<uint64_t> before;
  for (net::Loop* l : loops) before.push_back(l->postCount());
  // One iteration of loop 0 publishes 500 messages on 5 topics.
  loops[0]->post([&] {
    for (int i = 0; i < 500; ++i) topics.publish("t" + std::to_string(i % 5), "message");
    loops[0]->stop();
  });
  loops[0]->run();
  for (size_t i = 1; i < loops.size(); ++i) {
    EXPECT_EQ(loops[i]->postCount() - before[i], 1u) << "loop " << i;
  }
  // The other loops deliver the batch; a second iteration's publishes make a second batch.
  loops[0]->post([&] {
    topics.publish("t0", "again");
    loops[0]->stop();
  });
  loops[0]->run();
  for (size_t i = 1; i < loops.size(); ++i) {
    EXPECT_EQ(loops[i]->postCount() - before[i], 2u) << "loop " << i;
    loops[i]->post([l = loops[i]] { l->stop(); });
    loops[i]->run();  // runs both batches (no subscribers there: nothing to send)
  }
}

}  // namespace
}  // namespace duplex
