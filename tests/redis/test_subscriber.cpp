// redis::Subscriber against a real redis-server: messages, unsubscribe, and the wanted set
// restored after Redis is killed and started again.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "redis_test_util.h"

namespace duplex::redis {
namespace {

using test::must;
using test::quickOptions;
using test::RedisServer;
using test::runUntil;
using test::Transitions;

using Message = std::pair<std::string, std::string>;

// Polls `check` (which may itself run commands, so never from inside the loop) until it holds.
bool eventually(net::Loop& loop, const std::function<bool()>& check) {
  for (int i = 0; i < 500; ++i) {
    if (check()) return true;
    test::runFor(loop, 5);
  }
  return false;
}

int64_t subscribers(net::Loop& loop, Connection& c, const std::string& channel) {
  return must(loop, c, {"PUBSUB", "NUMSUB", channel}).elements.at(1).integer;
}

struct Inbox {
  std::vector<Message> messages;
  void watch(Subscriber& s) {
    s.onMessage([this](std::string_view channel, std::string_view payload) {
      messages.emplace_back(channel, payload);
    });
  }
};

TEST(RedisSubscriber, ReceivesMessagesOfItsChannelsInOrder) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Subscriber s(loop, test::endpointOf(server.url()), quickOptions());
  Connection c(loop, test::endpointOf(server.url()), quickOptions());
  Inbox inbox;
  inbox.watch(s);
  Transitions seen;
  seen.watch(s);
  s.subscribe("a");
  s.subscribe("b");
  ASSERT_TRUE(runUntil(loop, [&] { return s.isConnected() && c.isConnected(); }));
  EXPECT_EQ(seen.events, std::vector<std::string>{"up"});
  std::string binary("\0\r\n\xff", 4);
  EXPECT_EQ(must(loop, c, {"PUBLISH", "a", "one"}).integer, 1);
  EXPECT_EQ(must(loop, c, {"PUBLISH", "other", "ignored"}).integer, 0);
  EXPECT_EQ(must(loop, c, {"PUBLISH", "b", binary}).integer, 1);
  EXPECT_EQ(must(loop, c, {"PUBLISH", "a", "three"}).integer, 1);
  ASSERT_TRUE(runUntil(loop, [&] { return inbox.messages.size() == 3; }));
  EXPECT_EQ(inbox.messages[0], Message("a", "one"));
  EXPECT_EQ(inbox.messages[1], Message("b", binary));
  EXPECT_EQ(inbox.messages[2], Message("a", "three"));
}

TEST(RedisSubscriber, SubscribingLaterAndUnsubscribing) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Subscriber s(loop, test::endpointOf(server.url()), quickOptions());
  Connection c(loop, test::endpointOf(server.url()), quickOptions());
  Inbox inbox;
  inbox.watch(s);
  // Nothing wanted: up at once (and not in pub/sub mode until the first subscribe).
  ASSERT_TRUE(runUntil(loop, [&] { return s.isConnected() && c.isConnected(); }));
  s.subscribe("late");
  ASSERT_TRUE(eventually(loop, [&] { return subscribers(loop, c, "late") == 1; }));
  must(loop, c, {"PUBLISH", "late", "x"});
  ASSERT_TRUE(runUntil(loop, [&] { return inbox.messages.size() == 1; }));

  s.unsubscribe("late");
  // Published before Redis has seen the UNSUBSCRIBE may still arrive from Redis; the
  // subscriber drops it, since the owner asked for nothing more on that channel.
  must(loop, c, {"PUBLISH", "late", "dropped"});
  ASSERT_TRUE(eventually(loop, [&] { return subscribers(loop, c, "late") == 0; }));
  EXPECT_EQ(must(loop, c, {"PUBLISH", "late", "nobody"}).integer, 0);
  test::runFor(loop, 30);
  EXPECT_EQ(inbox.messages.size(), 1u);
  EXPECT_TRUE(s.isConnected());
}

TEST(RedisSubscriber, ResubscribesEverythingAfterARestartBeforeOnUp) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  // The subscriber comes back slowly (200-400 ms), the connection that checks it quickly.
  Options slow = quickOptions();
  slow.reconnectMinMs = slow.reconnectMaxMs = 400;
  Subscriber s(loop, test::endpointOf(server.url()), slow);
  Connection c(loop, test::endpointOf(server.url()), quickOptions());
  Inbox inbox;
  inbox.watch(s);
  Transitions seen;
  seen.watch(s);
  // 2,500 channels: several SUBSCRIBE commands after the reconnect, all confirmed before onUp.
  constexpr int kChannels = 2500;
  for (int i = 0; i < kChannels; ++i) s.subscribe("ch" + std::to_string(i));
  ASSERT_TRUE(runUntil(loop, [&] { return s.isConnected() && c.isConnected(); }));

  server.kill();
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() == 1 && !c.isConnected(); }));
  EXPECT_FALSE(s.isConnected());
  s.subscribe("while-down");
  s.unsubscribe("ch0");
  ASSERT_TRUE(server.restart()) << server.startError();
  ASSERT_TRUE(test::waitUp(loop, c));
  EXPECT_FALSE(s.isConnected());

  // At onUp, Redis already knows every subscription: checked by a command sent from onUp.
  std::optional<Result> numsub;
  s.onUp([&] {
    seen.events.push_back("up");
    c.command({"PUBSUB", "NUMSUB", "ch1", "ch2499", "while-down", "ch0"},
              [&](Result&& r) { numsub = std::move(r); });
  });
  ASSERT_TRUE(runUntil(loop, [&] { return numsub.has_value(); }));
  ASSERT_TRUE(numsub->ok) << numsub->error;
  ASSERT_EQ(numsub->reply.elements.size(), 8u);
  EXPECT_EQ(numsub->reply.elements[1].integer, 1);
  EXPECT_EQ(numsub->reply.elements[3].integer, 1);
  EXPECT_EQ(numsub->reply.elements[5].integer, 1);
  EXPECT_EQ(numsub->reply.elements[7].integer, 0);
  EXPECT_EQ(must(loop, c, {"PUBSUB", "NUMPAT"}).integer, 0);
  Reply channels = must(loop, c, {"PUBSUB", "CHANNELS"});
  EXPECT_EQ(channels.elements.size(), static_cast<size_t>(kChannels));  // -ch0 +while-down

  must(loop, c, {"PUBLISH", "while-down", "hello"});
  must(loop, c, {"PUBLISH", "ch0", "not wanted"});
  must(loop, c, {"PUBLISH", "ch7", "again"});
  ASSERT_TRUE(runUntil(loop, [&] { return inbox.messages.size() == 2; }));
  EXPECT_EQ(inbox.messages[0], Message("while-down", "hello"));
  EXPECT_EQ(inbox.messages[1], Message("ch7", "again"));
  ASSERT_EQ(seen.events.size(), 3u);
  EXPECT_EQ(seen.events[0], "up");
  EXPECT_EQ(seen.events[1].rfind("down: ", 0), 0u);
  EXPECT_EQ(seen.events[2], "up");
}

TEST(RedisSubscriber, WrongPasswordIsOneClearDown) {
  RedisServer server({"--requirepass", "s3cret"});
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Subscriber s(loop, test::endpointOf(server.url(":nope")), quickOptions());
  Transitions seen;
  seen.watch(s);
  s.subscribe("a");
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() > 0; }));
  test::runFor(loop, 100);
  ASSERT_EQ(seen.events.size(), 1u);
  EXPECT_NE(seen.events[0].find("WRONGPASS"), std::string::npos) << seen.events[0];
}

TEST(RedisSubscriber, ASubscriptionRedisRefusesIsAClearDown) {
  // Redis 7's ACL: bob may use channel "allowed" only.
  RedisServer server({"--user", "bob", "on", ">pw", "~*", "+@all", "resetchannels", "&allowed"});
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Subscriber s(loop, test::endpointOf(server.url("bob:pw")), quickOptions());
  Transitions seen;
  seen.watch(s);
  s.subscribe("allowed");
  s.subscribe("forbidden");
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() > 0; }));
  EXPECT_NE(seen.events[0].find("NOPERM"), std::string::npos) << seen.events[0];
  EXPECT_EQ(seen.ups(), 0);
  // Once the owner gives the channel up, it comes up.
  s.unsubscribe("forbidden");
  ASSERT_TRUE(runUntil(loop, [&] { return s.isConnected(); }));
}

TEST(RedisSubscriber, DestroyedFromItsMessageHandler) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  auto s = std::make_unique<Subscriber>(loop, test::endpointOf(server.url()), quickOptions());
  Connection c(loop, test::endpointOf(server.url()), quickOptions());
  int got = 0;
  s->onMessage([&](std::string_view, std::string_view) {
    ++got;
    s.reset();  // more messages may sit in the same read
  });
  s->subscribe("a");
  ASSERT_TRUE(runUntil(loop, [&] { return s->isConnected() && c.isConnected(); }));
  for (int i = 0; i < 5; ++i) c.command({"PUBLISH", "a", "m"}, [](Result&&) {});
  ASSERT_TRUE(runUntil(loop, [&] { return got > 0; }));
  test::runFor(loop, 30);
  EXPECT_EQ(got, 1);
}

TEST(RedisSubscriber, AHungRedisIsNoticedByTheIdlePingAndEverythingResubscribed) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Subscriber s(loop, test::endpointOf(server.url()), test::idlePingOptions());
  Connection c(loop, test::endpointOf(server.url()), quickOptions());
  Inbox inbox;
  inbox.watch(s);
  Transitions seen;
  seen.watch(s);
  // Idle with nothing subscribed (PING answers +PONG), then in pub/sub mode (["pong", ""]).
  ASSERT_TRUE(runUntil(loop, [&] { return s.isConnected() && c.isConnected(); }));
  test::runFor(loop, 300);
  s.subscribe("a");
  ASSERT_TRUE(eventually(loop, [&] { return subscribers(loop, c, "a") == 1; }));
  test::runFor(loop, 400);
  must(loop, c, {"PUBLISH", "a", "before"});
  ASSERT_TRUE(runUntil(loop, [&] { return inbox.messages.size() == 1; }));
  EXPECT_EQ(seen.events, std::vector<std::string>{"up"});

  server.pause();
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() == 1; }));
  EXPECT_NE(seen.events.back().find("PING"), std::string::npos) << seen.events.back();
  EXPECT_FALSE(s.isConnected());
  server.resume();
  ASSERT_TRUE(runUntil(loop, [&] { return s.isConnected() && c.isConnected(); }));
  must(loop, c, {"PUBLISH", "a", "after"});
  ASSERT_TRUE(runUntil(loop, [&] { return inbox.messages.size() == 2; }));
  EXPECT_EQ(inbox.messages[1], Message("a", "after"));
  EXPECT_EQ(seen.events.size(), 3u);
}

}  // namespace
}  // namespace duplex::redis
