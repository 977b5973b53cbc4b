// Host names in Redis URLs: looked up off the loop (net::Resolver), so a slow resolver holds up
// no socket or timer of the loop; a literal address is never looked up; a name that does not
// resolve is one clear down and the usual retries; every address a name gives is tried.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "net/resolver.h"
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

std::string hostUrl(const std::string& host, uint16_t port) {
  return "redis://" + host + ":" + std::to_string(port);
}

net::ResolvedAddress loopback(uint16_t port) {
  net::ResolvedAddress address;
  EXPECT_TRUE(net::literalAddress("127.0.0.1", port, address));
  return address;
}

// Counts the names it is asked, from the resolver's thread, and answers as getaddrinfo does.
// The count is shared with the lookup: a lookup thread may outlive the test's scope.
struct CountingLookup {
  std::shared_ptr<std::atomic<int>> count = std::make_shared<std::atomic<int>>(0);
  int calls() const { return *count; }
  net::Lookup lookup() {
    return [count = count](const std::string& host, uint16_t port) {
      ++*count;
      return net::resolveBlocking(host, port);
    };
  }
};

TEST(RedisResolve, AHostNameIsLookedUpAndConnects) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  CountingLookup counting;
  Options options = quickOptions();
  options.lookup = counting.lookup();
  Connection c(loop, endpointOf(hostUrl("localhost", server.port())), options);
  ASSERT_TRUE(waitUp(loop, c));
  EXPECT_EQ(must(loop, c, {"PING"}).string, "PONG");
  EXPECT_EQ(counting.calls(), 1);
}

TEST(RedisResolve, ALiteralAddressIsNeverLookedUp) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  CountingLookup counting;
  Options options = quickOptions();
  options.lookup = counting.lookup();
  Connection c(loop, endpointOf(server.url()), options);
  Subscriber s(loop, endpointOf(server.url()), options);
  ASSERT_TRUE(waitUp(loop, c));
  ASSERT_TRUE(runUntil(loop, [&] { return s.isConnected(); }));
  EXPECT_EQ(counting.calls(), 0);
}

TEST(RedisResolve, ANameThatDoesNotResolveIsOneClearDown) {
  net::Loop loop;
  Connection c(loop, endpointOf("redis://no-such-host.invalid:6379"), quickOptions());
  Transitions seen;
  seen.watch(c);
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() > 0; }));
  ASSERT_EQ(seen.events.size(), 1u);
  // The resolver's reason ("Name or service not known"), or, from a DNS server that does not
  // answer, that it did not answer in time: either way the name and the URL.
  EXPECT_EQ(seen.events[0].rfind("down: cannot resolve no-such-host.invalid", 0), 0u)
      << seen.events[0];
  EXPECT_NE(seen.events[0].find("redis://no-such-host.invalid:6379"), std::string::npos)
      << seen.events[0];
  Result result = run(loop, c, {"PING"});
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("cannot resolve no-such-host.invalid"), std::string::npos)
      << result.error;
}

TEST(RedisResolve, ANameIsLookedUpAgainAtEachRetryWithOneDownForTheOutage) {
  net::Loop loop;
  auto calls = std::make_shared<std::atomic<int>>(0);
  Options options = quickOptions();
  options.lookup = [calls](const std::string& host, uint16_t) {
    ++*calls;
    return net::Resolution{{}, "cannot resolve " + host + ": Name or service not known"};
  };
  Connection c(loop, endpointOf("redis://gone.example:6379"), options);
  Transitions seen;
  seen.watch(c);
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() > 0; }));
  EXPECT_EQ(seen.events[0],
            "down: cannot resolve gone.example: Name or service not known "
            "(redis://gone.example:6379)");
  // A name may come to resolve: looked up at each attempt, the attempts backing off.
  test::runFor(loop, 300);
  EXPECT_GE(*calls, 3);
  EXPECT_LE(*calls, 60);  // 5 ms doubling to 50 ms: not a spin
  EXPECT_EQ(seen.events.size(), 1u);
}

TEST(RedisResolve, TheLoopRunsWhileALookupTakesItsTime) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  std::atomic<bool> answered{false};
  Options slow = quickOptions();
  slow.lookup = [&, port = server.port()](const std::string&, uint16_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    answered = true;
    return net::Resolution{{loopback(port)}, {}};
  };
  auto started = std::chrono::steady_clock::now();
  Connection named(loop, endpointOf(hostUrl("slow.example", server.port())), slow);
  Connection literal(loop, endpointOf(server.url()), quickOptions());
  int ticks = 0;
  net::Loop::TimerId ticker = loop.setInterval(10, [&] { ticks += !answered; });
  // While the name is being looked up, the loop's other connection connects and answers, and
  // its timers fire.
  ASSERT_TRUE(waitUp(loop, literal));
  EXPECT_EQ(must(loop, literal, {"PING"}).string, "PONG");
  EXPECT_FALSE(answered);
  EXPECT_FALSE(named.isConnected());
  ASSERT_TRUE(waitUp(loop, named));
  loop.cancelTimer(ticker);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(750));
  EXPECT_GE(ticks, 20) << "the loop stood still while the name was looked up";
  EXPECT_EQ(must(loop, named, {"PING"}).string, "PONG");
}

TEST(RedisResolve, ALookupSlowerThanTheConnectTimeoutIsOneDownAndOneThreadNotOnePerRetry) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  std::atomic<int> calls{0}, running{0}, mostAtOnce{0};
  Options options = quickOptions();
  options.connectTimeoutMs = 100;
  options.lookup = [&, port = server.port()](const std::string&, uint16_t) {
    ++calls;
    int now = ++running;
    int most = mostAtOnce;
    while (now > most && !mostAtOnce.compare_exchange_weak(most, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    --running;
    return net::Resolution{{loopback(port)}, {}};
  };
  Connection c(loop, endpointOf(hostUrl("slow.example", server.port())), options);
  Transitions seen;
  seen.watch(c);
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() > 0; }));
  EXPECT_EQ(seen.events[0], "down: cannot resolve slow.example (" +
                                hostUrl("slow.example", server.port()) +
                                "): no answer from the resolver within 100 ms");
  // Retried every few milliseconds meanwhile: each retry waits for the same lookup, whose
  // answer, late as it is, connects.
  ASSERT_TRUE(waitUp(loop, c));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(mostAtOnce, 1);
  EXPECT_EQ(seen.events.size(), 2u);
}

TEST(RedisResolve, DestroyedWhileALookupRunsItsAnswerIsDropped) {
  std::atomic<bool> answered{false};
  {
    net::Loop loop;
    Options options = quickOptions();
    options.lookup = [&](const std::string&, uint16_t) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      answered = true;
      return net::Resolution{{loopback(9)}, {}};
    };
    {
      Connection c(loop, endpointOf("redis://slow.example:6379"), options);
      test::runFor(loop, 20);
    }
    test::runFor(loop, 10);
  }
  // The loop is gone too; the thread finishes and posts nothing.
  for (int i = 0; i < 100 && !answered; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(answered);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

TEST(RedisResolve, EveryAddressOfANameIsTriedInTurn) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  RedisServer gone;  // a port that refuses: its server killed
  ASSERT_TRUE(gone.running()) << gone.startError();
  gone.kill();
  net::Loop loop;
  Options options = quickOptions();
  options.lookup = [refuses = gone.port(), port = server.port()](const std::string&, uint16_t) {
    return net::Resolution{{loopback(refuses), loopback(port)}, {}};
  };
  Connection c(loop, endpointOf(hostUrl("two.example", server.port())), options);
  Transitions seen;
  seen.watch(c);
  ASSERT_TRUE(waitUp(loop, c));
  EXPECT_EQ(seen.events, std::vector<std::string>{"up"});
}

}  // namespace
}  // namespace duplex::redis
