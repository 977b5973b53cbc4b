// Two Apps on one loop are two servers: each keeps its own list of connections and its own
// routes, so shutting one down or destroying it leaves the other's connections open. And what
// an App leaves in the loop (signal handlers) does nothing once the App is gone.
#include <gtest/gtest.h>

#include <csignal>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/client.h"
#include "net/loop.h"
#include "net_test_util.h"
#include "server/app.h"

namespace duplex {
namespace {

AppOptions quietOptions() {
  AppOptions o;
  o.handleSignals = false;
  o.shutdownTimeoutSeconds = 2;
  return o;
}

// A route that answers every message with its App's name in front, so a reply says which
// App's route served it.
WebSocketBehavior answeringAs(std::string name) {
  WebSocketBehavior b;
  b.message = [name](WebSocket& ws, std::string_view data, Opcode op) {
    ws.send(name + ":" + std::string(data), op);
  };
  return b;
}

// One client connection and what it saw.
struct Peer {
  WebSocket* ws = nullptr;
  bool opened = false;
  bool failed = false;
  uint16_t closeCode = 0;
  std::vector<std::string> received;

  void connect(net::Loop& loop, const App& app, std::string_view path) {
    ClientBehavior b;
    b.open = [this](WebSocket& w) {
      ws = &w;
      opened = true;
    };
    b.message = [this](WebSocket&, std::string_view data, Opcode) { received.emplace_back(data); };
    b.close = [this](WebSocket&, uint16_t code, std::string_view) {
      ws = nullptr;
      closeCode = code;
    };
    b.error = [this](std::string_view) { failed = true; };
    duplex::connect(loop, "ws://127.0.0.1:" + std::to_string(app.port()) + std::string(path),
                    std::move(b));
  }
  bool open() const { return ws != nullptr; }
};

class TwoApps : public ::testing::Test {
 protected:
  // Before the loop: handlers of connections closed at the end still find their Peer.
  std::deque<Peer> morePeers;
  net::Loop loop;
  std::unique_ptr<App> a = std::make_unique<App>(loop, quietOptions());
  std::unique_ptr<App> b = std::make_unique<App>(loop, quietOptions());
  Peer toA;
  Peer toB;

  void SetUp() override {
    // The same path on both, answered differently, and a path only B has.
    a->ws("/same", answeringAs("A"));
    b->ws("/same", answeringAs("B"));
    b->ws("/only-b", answeringAs("B"));
    a->listen("127.0.0.1", 0);
    b->listen("127.0.0.1", 0);
    toA.connect(loop, *a, "/same");
    toB.connect(loop, *b, "/same");
    ASSERT_TRUE(test::runUntil(loop, [&] { return toA.open() && toB.open(); }));
    ASSERT_EQ(a->connectionCount(), 1u);
    ASSERT_EQ(b->connectionCount(), 1u);
  }

  void TearDown() override {
    for (net::Socket* socket : loop.sockets()) socket->closeNow();
    test::runOnce(loop);
    a.reset();
    b.reset();
  }

  // B still serves its connection: a message gets B's answer.
  void expectBStillServes() {
    ASSERT_TRUE(toB.open());
    toB.received.clear();
    toB.ws->send("still there?");
    ASSERT_TRUE(test::runUntil(loop, [&] { return !toB.received.empty(); }));
    EXPECT_EQ(toB.received.front(), "B:still there?");
    EXPECT_EQ(b->connectionCount(), 1u);
  }
};

TEST_F(TwoApps, EachServesItsOwnRoutes) {
  toA.ws->send("x");
  toB.ws->send("y");
  ASSERT_TRUE(test::runUntil(loop, [&] { return !toA.received.empty() && !toB.received.empty(); }));
  EXPECT_EQ(toA.received, std::vector<std::string>{"A:x"});
  EXPECT_EQ(toB.received, std::vector<std::string>{"B:y"});
  // B's route is not A's: A answers 404 on its own port.
  Peer& lost = morePeers.emplace_back();
  lost.connect(loop, *a, "/only-b");
  ASSERT_TRUE(test::runUntil(loop, [&] { return lost.failed || lost.opened; }));
  EXPECT_TRUE(lost.failed);
  EXPECT_FALSE(lost.opened);
}

TEST_F(TwoApps, ShutdownOfOneLeavesTheOthersConnectionsOpen) {
  a->shutdown();
  // runUntil returns false if A's shutdown stopped the loop before its client saw the close.
  ASSERT_TRUE(test::runUntil(loop, [&] { return !toA.open() && a->connectionCount() == 0; }));
  EXPECT_EQ(toA.closeCode, 1001);
  expectBStillServes();
  // A accepts no one any more; B still does.
  Peer& late = morePeers.emplace_back();
  late.connect(loop, *b, "/same");
  ASSERT_TRUE(test::runUntil(loop, [&] { return late.open(); }));
  EXPECT_EQ(b->connectionCount(), 2u);
}

TEST_F(TwoApps, ShutdownOfTheOtherOneTooLeavesTheFirstAlone) {
  // The same the other way round: the list is per App, not "the first App's".
  b->shutdown();
  ASSERT_TRUE(test::runUntil(loop, [&] { return !toB.open() && b->connectionCount() == 0; }));
  EXPECT_EQ(toB.closeCode, 1001);
  ASSERT_TRUE(toA.open());
  toA.ws->send("and you?");
  ASSERT_TRUE(test::runUntil(loop, [&] { return !toA.received.empty(); }));
  EXPECT_EQ(toA.received.front(), "A:and you?");
}

TEST_F(TwoApps, DestroyingOneLeavesTheOthersConnectionsOpen) {
  a.reset();
  // A's connection was dropped with A (no closing handshake: 1006 on the client's side).
  ASSERT_TRUE(test::runUntil(loop, [&] { return !toA.open(); }));
  EXPECT_EQ(toA.closeCode, 1006);
  expectBStillServes();
}

TEST(AppLifetime, SignalHandlersOfADestroyedAppDoNothing) {
  Peer peer;
  net::Loop loop;
  {
    AppOptions o = quietOptions();
    o.handleSignals = true;  // run() hangs its SIGTERM/SIGINT handlers on the shared loop
    App gone(loop, o);
    gone.shutdown();
    gone.run();  // nothing to close: returns at once
  }
  App alive(loop, quietOptions());
  alive.ws("/same", answeringAs("alive"));
  alive.listen("127.0.0.1", 0);
  peer.connect(loop, alive, "/same");
  ASSERT_TRUE(test::runUntil(loop, [&] { return peer.open(); }));
  // The loop still holds the destroyed App's handler: it must not reach the App (ASan would
  // see the use after free), nor shut down the App that lives.
  ASSERT_EQ(::raise(SIGTERM), 0);
  test::runFor(loop, 50);
  ASSERT_TRUE(peer.open());
  peer.ws->send("ok");
  ASSERT_TRUE(test::runUntil(loop, [&] { return !peer.received.empty(); }));
  EXPECT_EQ(peer.received.front(), "alive:ok");
  for (net::Socket* socket : loop.sockets()) socket->closeNow();
  test::runOnce(loop);
}

TEST(AppLifetime, ShutdownBeforeRunWithNothingOpenMakesRunReturn) {
  net::Loop loop;
  App app(loop, quietOptions());
  app.listen("127.0.0.1", 0);
  bool stoppedBySafetyNet = false;
  net::Loop::TimerId net = loop.setTimeout(3000, [&] {
    stoppedBySafetyNet = true;
    loop.stop();
  });
  app.shutdown();
  app.run();
  loop.cancelTimer(net);
  EXPECT_FALSE(stoppedBySafetyNet) << "run() after shutdown() waited for nothing";
}

}  // namespace
}  // namespace duplex
