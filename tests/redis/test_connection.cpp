// redis::Connection against a real redis-server: reply types, binary safety, large replies,
// AUTH, SELECT, and when callbacks run.
#include <gtest/gtest.h>

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

TEST(RedisConnection, EveryReplyType) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Connection c(loop, endpointOf(server.url()), quickOptions());
  ASSERT_TRUE(waitUp(loop, c));

  Reply status = must(loop, c, {"SET", "k", "v"});
  EXPECT_EQ(status.type, Reply::Type::Status);
  EXPECT_EQ(status.string, "OK");
  Reply string = must(loop, c, {"GET", "k"});
  EXPECT_EQ(string.type, Reply::Type::String);
  EXPECT_EQ(string.string, "v");
  EXPECT_EQ(must(loop, c, {"GET", "missing"}).type, Reply::Type::Nil);
  Reply integer = must(loop, c, {"INCRBY", "n", "-5"});
  EXPECT_EQ(integer.type, Reply::Type::Integer);
  EXPECT_EQ(integer.integer, -5);

  // A Redis error is a reply (ok), not a failure of the connection.
  Result error = run(loop, c, {"INCR", "k"});
  ASSERT_TRUE(error.ok);
  EXPECT_TRUE(error.reply.isError());
  EXPECT_NE(error.reply.string.find("not an integer"), std::string::npos) << error.reply.string;
  Result unknown = run(loop, c, {"NOSUCHCOMMAND"});
  ASSERT_TRUE(unknown.ok);
  EXPECT_TRUE(unknown.reply.isError());

  Reply nested =
      must(loop, c, {"EVAL", "return {1, {2, 'x', {redis.status_reply('fine')}}, false}", "0"});
  ASSERT_EQ(nested.type, Reply::Type::Array);
  ASSERT_EQ(nested.elements.size(), 3u);
  EXPECT_EQ(nested.elements[0].integer, 1);
  const Reply& inner = nested.elements[1];
  ASSERT_EQ(inner.elements.size(), 3u);
  EXPECT_EQ(inner.elements[1].string, "x");
  EXPECT_EQ(inner.elements[2].elements[0].type, Reply::Type::Status);
  EXPECT_EQ(inner.elements[2].elements[0].string, "fine");
  EXPECT_EQ(nested.elements[2].type, Reply::Type::Nil);  // Lua false is a nil bulk
  EXPECT_TRUE(c.isConnected());
}

TEST(RedisConnection, BinarySafeKeysAndValues) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Connection c(loop, endpointOf(server.url()), quickOptions());
  ASSERT_TRUE(waitUp(loop, c));
  std::string key("k\0\r\n*1", 6);
  std::string value;
  for (int i = 0; i < 256; ++i) value += static_cast<char>(i);
  value += "\r\n$-1\r\n";
  must(loop, c, {"SET", key, value});
  EXPECT_EQ(must(loop, c, {"GET", key}).string, value);
  EXPECT_EQ(must(loop, c, {"STRLEN", key}).integer, static_cast<int64_t>(value.size()));
  must(loop, c, {"SET", "empty", ""});
  Reply empty = must(loop, c, {"GET", "empty"});
  EXPECT_EQ(empty.type, Reply::Type::String);  // an empty string, not nil
  EXPECT_EQ(empty.string, "");
}

TEST(RedisConnection, MultiMegabyteValuesBothWays) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Connection c(loop, endpointOf(server.url()), quickOptions());
  ASSERT_TRUE(waitUp(loop, c));
  std::string big(8 * 1024 * 1024 + 3, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7) ^ (i >> 11));
  must(loop, c, {"SET", "big", big});
  must(loop, c, {"SET", "small", "after"});
  // Two GETs in one pipeline: the large reply spans many reads, the small one follows it.
  std::optional<Result> first, second;
  c.command({"GET", "big"}, [&](Result&& r) { first = std::move(r); });
  c.command({"GET", "small"}, [&](Result&& r) { second = std::move(r); });
  ASSERT_TRUE(runUntil(loop, [&] { return second.has_value(); }));
  ASSERT_TRUE(first && first->ok);
  EXPECT_EQ(first->reply.string.size(), big.size());
  EXPECT_TRUE(first->reply.string == big);
  EXPECT_EQ(second->reply.string, "after");
}

TEST(RedisConnection, CallbacksRunLaterInIssueOrderAndMayIssueMore) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Connection c(loop, endpointOf(server.url()), quickOptions());
  ASSERT_TRUE(waitUp(loop, c));
  std::vector<int64_t> order;
  bool inside = false;
  bool ranInside = false;
  for (int i = 0; i < 5; ++i) {
    inside = true;
    c.command({"INCR", "counter"}, [&](Result&& r) {
      ranInside |= inside;
      order.push_back(r.reply.integer);
      // A command issued from a callback: it runs after those already queued.
      if (order.size() == 1) {
        c.command({"INCRBY", "counter", "100"},
                  [&](Result&& r2) { order.push_back(r2.reply.integer); });
      }
    });
    inside = false;
  }
  ASSERT_TRUE(runUntil(loop, [&] { return order.size() == 6; }));
  EXPECT_FALSE(ranInside);
  EXPECT_EQ(order, (std::vector<int64_t>{1, 2, 3, 4, 5, 105}));
}

TEST(RedisConnection, AuthWithPasswordAndWithUser) {
  RedisServer server(
      {"--requirepass", "s3cret", "--user", "alice", "on", ">al1ce", "~*", "&*", "+@all"});
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Connection byPassword(loop, endpointOf(server.url(":s3cret")), quickOptions());
  Connection byUser(loop, endpointOf(server.url("alice:al1ce")), quickOptions());
  ASSERT_TRUE(runUntil(loop, [&] { return byPassword.isConnected() && byUser.isConnected(); }));
  must(loop, byPassword, {"SET", "who", "default"});
  EXPECT_EQ(must(loop, byUser, {"ACL", "WHOAMI"}).string, "alice");
  EXPECT_EQ(must(loop, byUser, {"GET", "who"}).string, "default");
}

TEST(RedisConnection, WrongPasswordIsOneClearDownAndCommandsFail) {
  RedisServer server({"--requirepass", "s3cret"});
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Connection c(loop, endpointOf(server.url(":wrong")), quickOptions());
  Transitions seen;
  seen.watch(c);
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() > 0; }));
  ASSERT_EQ(seen.events.size(), 1u);
  EXPECT_NE(seen.events[0].find("authentication"), std::string::npos) << seen.events[0];
  EXPECT_NE(seen.events[0].find("WRONGPASS"), std::string::npos) << seen.events[0];
  EXPECT_EQ(seen.events[0].find(":wrong"), std::string::npos) << seen.events[0];
  Result result = run(loop, c, {"PING"});
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("WRONGPASS"), std::string::npos) << result.error;
  // It keeps retrying with backoff, without calling onDown again for each attempt.
  test::runFor(loop, 200);
  EXPECT_EQ(seen.events.size(), 1u);
  EXPECT_FALSE(c.isConnected());
}

TEST(RedisConnection, NoPasswordForAServerThatWantsOne) {
  RedisServer server({"--requirepass", "s3cret"});
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Connection c(loop, endpointOf(server.url()), quickOptions());
  Transitions seen;
  seen.watch(c);
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() > 0; }));
  EXPECT_NE(seen.events[0].find("NOAUTH"), std::string::npos) << seen.events[0];
}

TEST(RedisConnection, SelectsTheUrlsDatabase) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Connection db3(loop, endpointOf(server.url("", "/3")), quickOptions());
  Connection db0(loop, endpointOf(server.url()), quickOptions());
  ASSERT_TRUE(runUntil(loop, [&] { return db3.isConnected() && db0.isConnected(); }));
  must(loop, db3, {"SET", "where", "three"});
  EXPECT_EQ(must(loop, db0, {"GET", "where"}).type, Reply::Type::Nil);
  EXPECT_EQ(must(loop, db3, {"GET", "where"}).string, "three");
  EXPECT_EQ(must(loop, db0, {"SELECT", "3"}).string, "OK");
  EXPECT_EQ(must(loop, db0, {"GET", "where"}).string, "three");
}

TEST(RedisConnection, DatabaseOutOfRangeIsAClearDown) {
  RedisServer server({"--databases", "4"});
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Connection c(loop, endpointOf(server.url("", "/4")), quickOptions());
  Transitions seen;
  seen.watch(c);
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() > 0; }));
  EXPECT_NE(seen.events[0].find("SELECT 4"), std::string::npos) << seen.events[0];
  EXPECT_NE(seen.events[0].find("out of range"), std::string::npos) << seen.events[0];
}

TEST(RedisConnection, DestroyedWithCommandsInFlightFailsThemLaterAsClosed) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  auto c = std::make_unique<Connection>(loop, endpointOf(server.url()), quickOptions());
  ASSERT_TRUE(waitUp(loop, *c));
  std::vector<std::string> errors;
  for (int i = 0; i < 3; ++i) {
    c->command({"PING"}, [&](Result&& r) {
      EXPECT_FALSE(r.ok);
      errors.push_back(r.error);
    });
  }
  c.reset();
  EXPECT_TRUE(errors.empty()) << "not inside the destructor";
  ASSERT_TRUE(runUntil(loop, [&] { return errors.size() == 3; }));
  EXPECT_EQ(errors[0], "closed");
}

TEST(RedisConnection, DestroyedFromItsOwnCallback) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  auto c = std::make_unique<Connection>(loop, endpointOf(server.url()), quickOptions());
  ASSERT_TRUE(waitUp(loop, *c));
  int answered = 0, failed = 0;
  c->command({"PING"}, [&](Result&& r) {
    ++answered;
    EXPECT_TRUE(r.ok);
    c.reset();  // the next replies may sit in the same read
  });
  for (int i = 0; i < 3; ++i) c->command({"PING"}, [&](Result&& r) { failed += !r.ok; });
  ASSERT_TRUE(runUntil(loop, [&] { return failed == 3; }));
  EXPECT_EQ(answered, 1);
}

}  // namespace
}  // namespace duplex::redis
