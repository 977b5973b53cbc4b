// redis::Connection when things go wrong: nothing listening, a Redis killed with commands in
// flight and started again, a reply that never comes, a server that accepts and never answers.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "redis_test_util.h"

namespace duplex::redis {
namespace {

using test::endpointOf;
using test::must;
using test::quickOptions;
using test::RedisServer;
using test::run;
using test::runUntil;
using test::Transitions;
using test::waitUp;

// A port nothing listens on: one a server had a moment ago.
uint16_t deadPort() {
  RedisServer server;
  return server.port();
}

TEST(RedisConnectionFaults, NothingListeningIsOneDownAndCommandsFailAtOnce) {
  net::Loop loop;
  Connection c(loop, endpointOf("redis://127.0.0.1:" + std::to_string(deadPort())), quickOptions());
  Transitions seen;
  seen.watch(c);
  bool done = false;
  std::string error;
  c.command({"PING"}, [&](Result&& r) {
    done = true;
    EXPECT_FALSE(r.ok);
    error = r.error;
  });
  EXPECT_FALSE(done) << "never inside command()";
  ASSERT_TRUE(runUntil(loop, [&] { return done && seen.downs() > 0; }));
  EXPECT_NE(error.find("not connected"), std::string::npos) << error;
  EXPECT_NE(seen.events[0].find("Connection refused"), std::string::npos) << seen.events[0];
  Result later = run(loop, c, {"PING"});
  EXPECT_NE(later.error.find("Connection refused"), std::string::npos) << later.error;
  test::runFor(loop, 100);  // several more attempts, no more onDown
  EXPECT_EQ(seen.events.size(), 1u);
}

TEST(RedisConnectionFaults, KilledMidPipelineFailsPendingThenReconnectsAfterRestart) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Connection c(loop, endpointOf(server.url()), quickOptions());
  Transitions seen;
  seen.watch(c);
  ASSERT_TRUE(waitUp(loop, c));
  must(loop, c, {"SET", "before", "1"});

  // BLPOP on an empty list blocks, and every command behind it waits in Redis's queue.
  std::vector<Result> results;
  c.command({"BLPOP", "empty", "0"}, [&](Result&& r) { results.push_back(std::move(r)); });
  for (int i = 0; i < 100; ++i) {
    c.command({"INCR", "n"}, [&](Result&& r) { results.push_back(std::move(r)); });
  }
  test::runFor(loop, 50);  // sent, and Redis is blocked on them
  EXPECT_TRUE(results.empty());
  server.kill();
  ASSERT_TRUE(runUntil(loop, [&] { return results.size() == 101; }));
  for (const Result& r : results) {
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("closed the connection"), std::string::npos) << r.error;
  }
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() == 1; }));
  EXPECT_FALSE(c.isConnected());
  EXPECT_FALSE(run(loop, c, {"PING"}).ok);

  ASSERT_TRUE(server.restart()) << server.startError();
  ASSERT_TRUE(waitUp(loop, c));
  EXPECT_EQ(must(loop, c, {"INCR", "n"}).integer, 1);  // a new, empty Redis
  ASSERT_EQ(seen.events.size(), 3u);
  EXPECT_EQ(seen.events[0], "up");
  EXPECT_NE(seen.events[1].find("down: "), std::string::npos);
  EXPECT_EQ(seen.events[2], "up");
}

TEST(RedisConnectionFaults, MaxClientsReachedIsAClearDown) {
  RedisServer server({"--maxclients", "1"});
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Connection first(loop, endpointOf(server.url()), quickOptions());
  ASSERT_TRUE(waitUp(loop, first));
  Connection second(loop, endpointOf(server.url()), quickOptions());
  Transitions seen;
  seen.watch(second);
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() > 0; }));
  EXPECT_NE(seen.events[0].find("max number of clients"), std::string::npos) << seen.events[0];
  EXPECT_TRUE(first.isConnected());
}

TEST(RedisConnectionFaults, DestroyedFromOnDown) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  auto c = std::make_unique<Connection>(loop, endpointOf(server.url()), quickOptions());
  ASSERT_TRUE(waitUp(loop, *c));
  int failed = 0;
  bool down = false;
  for (int i = 0; i < 3; ++i) {
    c->command({"BLPOP", "empty", "0"}, [&](Result&& r) { failed += !r.ok; });
  }
  c->onDown([&](std::string_view) {
    down = true;
    c.reset();
  });
  test::runFor(loop, 30);
  server.kill();
  ASSERT_TRUE(runUntil(loop, [&] { return down; }));
  EXPECT_EQ(failed, 3);    // failed before onDown ran
  test::runFor(loop, 50);  // no reconnect attempt calls into the destroyed connection
}

TEST(RedisConnectionFaults, ALateReplyTimesOutAndTheConnectionIsRemade) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Options options = quickOptions();
  options.commandTimeoutMs = 150;
  Connection c(loop, endpointOf(server.url()), options);
  Transitions seen;
  seen.watch(c);
  ASSERT_TRUE(waitUp(loop, c));
  std::optional<Result> blocked, behind;
  c.command({"BLPOP", "empty", "0"}, [&](Result&& r) { blocked = std::move(r); });
  c.command({"PING"}, [&](Result&& r) { behind = std::move(r); });
  uint64_t start = test::monotonicMs();
  ASSERT_TRUE(runUntil(loop, [&] { return behind.has_value(); }));
  uint64_t took = test::monotonicMs() - start;
  EXPECT_GE(took, 150u);
  EXPECT_LT(took, 1000u);
  EXPECT_FALSE(blocked->ok);
  EXPECT_NE(blocked->error.find("timeout"), std::string::npos) << blocked->error;
  EXPECT_FALSE(behind->ok);
  // The connection was dropped and made again: commands work.
  ASSERT_TRUE(waitUp(loop, c));
  EXPECT_EQ(must(loop, c, {"PING"}).string, "PONG");
  EXPECT_EQ(seen.events.size(), 3u);
}

TEST(RedisConnectionFaults, AServerThatNeverAnswersHitsTheConnectTimeout) {
  // Accepted by the kernel (the backlog), never by a program: the PING goes unanswered.
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = test::loopbackAddress(0);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 16), 0);
  socklen_t length = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  net::Loop loop;
  Options options = quickOptions();
  options.connectTimeoutMs = 100;
  Connection c(loop, endpointOf("redis://127.0.0.1:" + std::to_string(ntohs(address.sin_port))),
               options);
  Transitions seen;
  seen.watch(c);
  uint64_t start = test::monotonicMs();
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() > 0; }));
  EXPECT_GE(test::monotonicMs() - start, 100u);
  EXPECT_NE(seen.events[0].find("within 100 ms"), std::string::npos) << seen.events[0];
  ::close(listener);
}

TEST(RedisConnectionFaults, BackoffGrowsBetweenAttempts) {
  // A "server" that accepts and closes at once, so every attempt fails and is counted. With a
  // 20 ms minimum doubling to 160 ms (each delay a random point in the upper half), 600 ms
  // hold about seven attempts, far fewer than a tight loop's.
  net::Loop loop;
  Options options;
  options.reconnectMinMs = 20;
  options.reconnectMaxMs = 160;
  uint16_t port = deadPort();
  Connection c(loop, endpointOf("redis://127.0.0.1:" + std::to_string(port)), options);
  int attempts = 0;
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address = test::loopbackAddress(port);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 64), 0);
  loop.setInterval(1, [&] {
    for (int fd; (fd = ::accept(listener, nullptr, nullptr)) >= 0;) {
      ++attempts;
      ::close(fd);
    }
  });
  test::runFor(loop, 600);
  ::close(listener);
  EXPECT_GE(attempts, 2);   // it does retry (a loaded machine may delay the timers)...
  EXPECT_LE(attempts, 12);  // ...but backs off: a tight loop would make hundreds
}

// How many PINGs Redis has answered since it started (the handshakes' and the idle checks').
int64_t pingsServed(net::Loop& loop, Connection& c) {
  std::string info = must(loop, c, {"INFO", "commandstats"}).string;
  size_t at = info.find("cmdstat_ping:calls=");
  if (at == std::string::npos) return 0;
  return std::stoll(info.substr(at + std::strlen("cmdstat_ping:calls=")));
}

TEST(RedisConnectionFaults, AHungRedisIsNoticedByTheIdlePingAndTheConnectionRemade) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Connection c(loop, endpointOf(server.url()), test::idlePingOptions());
  Transitions seen;
  seen.watch(c);
  ASSERT_TRUE(waitUp(loop, c));
  // Idle and healthy: PINGs go out and are answered; their answers reach no caller.
  int64_t before = pingsServed(loop, c);
  test::runFor(loop, 500);
  EXPECT_GE(pingsServed(loop, c) - before, 2);
  EXPECT_EQ(must(loop, c, {"ECHO", "mine"}).string, "mine");
  EXPECT_EQ(seen.events, std::vector<std::string>{"up"});

  // Stopped: the connection stays open and nothing is pending, so only the PING notices.
  server.pause();
  uint64_t start = test::monotonicMs();
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() == 1; }));
  EXPECT_LT(test::monotonicMs() - start, 3000u);  // idle 100 ms + deadline 200 ms, and a sweep
  EXPECT_NE(seen.events.back().find("timeout"), std::string::npos) << seen.events.back();
  EXPECT_FALSE(c.isConnected());
  EXPECT_FALSE(run(loop, c, {"PING"}).ok);

  server.resume();
  ASSERT_TRUE(waitUp(loop, c));
  EXPECT_EQ(must(loop, c, {"INCR", "n"}).integer, 1);
  EXPECT_EQ(seen.events.size(), 3u);
}

TEST(RedisConnectionFaults, NoIdlePingWhenSwitchedOff) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Options options = quickOptions();
  options.idlePingMs = 0;
  Connection c(loop, endpointOf(server.url()), options);
  ASSERT_TRUE(waitUp(loop, c));
  int64_t before = pingsServed(loop, c);
  test::runFor(loop, 300);
  EXPECT_EQ(pingsServed(loop, c), before);
}

}  // namespace
}  // namespace duplex::redis
