// Connection limits and counts over every loop, and graceful shutdown of every loop under load.
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "multiloop_fixture.h"

namespace duplex {
namespace {

using test::ServerThread;

struct Clients {
  net::Loop loop;
  int opened = 0, refused = 0, closed = 0;
  std::vector<WebSocket*> open;

  void connectOne(const std::string& url) {
    ClientBehavior c;
    c.open = [this](WebSocket& ws) {
      ++opened;
      open.push_back(&ws);
    };
    c.error = [this](std::string_view) { ++refused; };
    c.close = [this](WebSocket&, uint16_t, std::string_view) { ++closed; };
    connect(loop, url, std::move(c));
  }
  // Connects one at a time (so each is admitted or refused before the next) and returns once
  // each has been either.
  bool connectInTurn(const std::string& url, int count) {
    for (int i = 0; i < count; ++i) {
      int before = opened + refused;
      connectOne(url);
      if (!test::runUntil(loop, [&] { return opened + refused == before + 1; })) return false;
    }
    return true;
  }
};

std::string urlOf(App& app) {
  return "ws://127.0.0.1:" + std::to_string(app.port()) + "/";
}

// The library runs one loop unless asked (duplex-echo and duplexd ask for one per core:
// tests/duplexd/test_command_line.py), and as many as asked.
TEST(MultiLoopOptions, OneLoopUnlessAskedAndAsManyAsAsked) {
  EXPECT_EQ(AppOptions{}.threads, 1u);
  App one;
  EXPECT_EQ(one.loopCount(), 1u);
  EXPECT_EQ(one.loops().size(), 1u);
  App four(test::multiLoopOptions(4));
  EXPECT_EQ(four.loopCount(), 4u);
  EXPECT_EQ(four.loops().size(), 4u);
}

TEST(MultiLoopLimits, TotalLimitCountsEveryLoop) {
  AppOptions o = test::multiLoopOptions(4);
  o.maxConnections = 8;
  App app(o);
  app.ws("/*", WebSocketBehavior{});
  app.listen("127.0.0.1", 0);
  ServerThread thread(app);
  thread.start();
  Clients clients;
  ASSERT_TRUE(clients.connectInTurn(urlOf(app), 8));
  EXPECT_EQ(clients.opened, 8);
  // Two on each loop: no loop alone is near the limit, together they are at it.
  EXPECT_EQ(app.acceptedPerLoop(), (std::vector<uint64_t>{2, 2, 2, 2}));
  ASSERT_TRUE(clients.connectInTurn(urlOf(app), 4));
  EXPECT_EQ(clients.refused, 4) << "admitted beyond the limit over all loops";
  // Closing two makes room for two.
  clients.open[0]->close();
  clients.open[1]->close();
  ASSERT_TRUE(test::runUntil(clients.loop, [&] { return app.connectionCount() == 6; }));
  ASSERT_TRUE(clients.connectInTurn(urlOf(app), 2));
  EXPECT_EQ(clients.opened, 10);
  EXPECT_EQ(clients.refused, 4);
  EXPECT_LT(thread.stop(clients.loop), 2000u);
}

TEST(MultiLoopLimits, PerIpLimitCountsEveryLoop) {
  AppOptions o = test::multiLoopOptions(4);
  o.maxConnectionsPerIp = 5;
  App app(o);
  app.ws("/*", WebSocketBehavior{});
  app.listen("127.0.0.1", 0);
  ServerThread thread(app);
  thread.start();
  Clients clients;
  ASSERT_TRUE(clients.connectInTurn(urlOf(app), 7));
  EXPECT_EQ(clients.opened, 5);
  EXPECT_EQ(clients.refused, 2);
  clients.open[0]->close();
  ASSERT_TRUE(test::runUntil(clients.loop, [&] { return app.connectionCount() == 4; }));
  ASSERT_TRUE(clients.connectInTurn(urlOf(app), 1));
  EXPECT_EQ(clients.opened, 6);
  EXPECT_LT(thread.stop(clients.loop), 2000u);
}

// /metrics reads App::connectionCounts() from any thread: by phase, over every loop together.
TEST(MultiLoopCounts, ConnectionsByPhaseOverEveryLoopFromAnotherThread) {
  App app(test::multiLoopOptions(4));
  app.ws("/*", WebSocketBehavior{});
  app.listen("127.0.0.1", 0);
  ServerThread thread(app);
  thread.start();
  Clients clients;
  ASSERT_TRUE(clients.connectInTurn(urlOf(app), 8));
  // Three TCP connections that never send a request: in the HTTP phase, on three loops.
  std::vector<int> silent;
  for (int i = 0; i < 3; ++i) silent.push_back(test::connectTcp(app.port()));
  auto counted = [&](size_t handshaking, size_t open) {
    return [&app, handshaking, open] {
      App::ConnectionCounts counts = app.connectionCounts();
      return counts.handshaking == handshaking && counts.open == open;
    };
  };
  EXPECT_TRUE(test::runUntil(clients.loop, counted(3, 8)))
      << app.connectionCounts().handshaking << " handshaking, " << app.connectionCounts().open
      << " open";
  EXPECT_EQ(app.acceptedPerLoop(), (std::vector<uint64_t>{3, 3, 3, 2}));
  clients.open[0]->close();
  clients.open[1]->close();
  EXPECT_TRUE(test::runUntil(clients.loop, counted(3, 6)));
  for (int fd : silent) ::close(fd);
  EXPECT_TRUE(test::runUntil(clients.loop, counted(0, 6)));
  EXPECT_EQ(app.connectionCount(), 6u);
  EXPECT_LT(thread.stop(clients.loop), 2000u);
  App::ConnectionCounts after = app.connectionCounts();
  EXPECT_EQ(after.handshaking + after.open, 0u);
}

// 200 clients keep four messages each in flight while the server shuts down (shutdown() from
// this thread, not a loop's): every one of them gets close 1001, run() returns (every loop
// ended), and nothing is left open.
void shutdownUnderLoad(uint32_t loops) {
  constexpr int kClients = 200;
  App app(test::multiLoopOptions(loops));
  std::atomic<int> serverCloses{0};
  WebSocketBehavior b;
  b.message = [](WebSocket& ws, std::string_view data, Opcode op) { ws.send(data, op); };
  b.close = [&](WebSocket&, uint16_t, std::string_view) { ++serverCloses; };
  app.ws("/*", std::move(b));
  app.listen("127.0.0.1", 0);
  ServerThread thread(app);
  thread.start();

  net::Loop loop;
  int opened = 0, echoes = 0;
  std::vector<uint16_t> codes;
  for (int i = 0; i < kClients; ++i) {
    ClientBehavior c;
    c.open = [&](WebSocket& ws) {
      ++opened;
      for (int m = 0; m < 4; ++m) ws.send("load");
    };
    c.message = [&](WebSocket& ws, std::string_view data, Opcode) {
      ++echoes;
      ws.send(data);
    };
    c.close = [&](WebSocket&, uint16_t code, std::string_view) { codes.push_back(code); };
    connect(loop, urlOf(app), std::move(c));
  }
  ASSERT_TRUE(test::runUntil(
      loop, [&] { return opened == kClients && echoes > 20000; }, 20000))
      << opened << " open, " << echoes << " echoes";
  uint64_t start = test::monotonicMs();
  app.shutdown();
  ASSERT_TRUE(test::runUntil(
      loop, [&] { return thread.returned() && codes.size() == size_t{kClients}; }, 10000))
      << codes.size() << " closed; run() returned: " << thread.returned();
  EXPECT_LT(test::monotonicMs() - start, 3000u) << "waited for the shutdown deadline";
  thread.stop();
  for (uint16_t code : codes) EXPECT_EQ(code, 1001);
  EXPECT_EQ(serverCloses.load(), kClients);
  EXPECT_EQ(app.connectionCount(), 0u);
}

TEST(MultiLoopShutdown, UnderLoadEveryLoopClosesWithGoingAway) {
  shutdownUnderLoad(4);
}

// One loop run by run() on another thread: shutdown() posts to it rather than closing its
// connections on the caller's thread (a data race ThreadSanitizer reported before).
TEST(MultiLoopShutdown, UnderLoadFromAnotherThreadWithOneLoop) {
  shutdownUnderLoad(1);
}

}  // namespace
}  // namespace duplex
