#pragma once
// Driving a redis::Connection from a test: a command run to completion, waiting for up/down.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "net_test_util.h"
#include "redis/redis.h"
#include "redis_server.h"

namespace duplex::test {

inline redis::Endpoint endpointOf(const std::string& url) {
  std::string error;
  auto endpoint = redis::parseUrl(url, &error);
  EXPECT_TRUE(endpoint) << error;
  return endpoint ? *endpoint : redis::Endpoint{};
}

// Options for tests: quick reconnects, so a restart is noticed in milliseconds.
inline redis::Options quickOptions() {
  redis::Options options;
  options.reconnectMinMs = 5;
  options.reconnectMaxMs = 50;
  options.commandTimeoutMs = 3000;
  return options;
}

// quickOptions() under which a hung Redis (the connection open, nothing answered) is noticed
// within a few hundred milliseconds: a PING after 100 ms idle, 200 ms for any answer or connect.
inline redis::Options idlePingOptions() {
  redis::Options options = quickOptions();
  options.idlePingMs = 100;
  options.commandTimeoutMs = 200;
  options.connectTimeoutMs = 200;
  return options;
}

// Records onUp/onDown in order ("up", "down: why").
struct Transitions {
  std::vector<std::string> events;
  int ups() const {
    int n = 0;
    for (const std::string& e : events) n += e == "up";
    return n;
  }
  int downs() const { return static_cast<int>(events.size()) - ups(); }
  template <class Client>
  void watch(Client& client) {
    client.onUp([this] { events.push_back("up"); });
    client.onDown([this](std::string_view why) { events.push_back("down: " + std::string(why)); });
  }
};

inline redis::Result run(net::Loop& loop, redis::Connection& connection,
                         std::vector<std::string> args) {
  std::optional<redis::Result> result;
  connection.command(std::move(args), [&](redis::Result&& r) { result = std::move(r); });
  EXPECT_TRUE(runUntil(loop, [&] { return result.has_value(); }));
  return result ? std::move(*result) : redis::Result{false, "test: no result", {}};
}

// The reply of a command that must succeed (ok, and not a Redis error).
inline redis::Reply must(net::Loop& loop, redis::Connection& connection,
                         std::vector<std::string> args) {
  std::string name = args.empty() ? "" : args[0];
  redis::Result result = run(loop, connection, std::move(args));
  EXPECT_TRUE(result.ok) << name << ": " << result.error;
  EXPECT_FALSE(result.reply.isError()) << name << ": " << result.reply.string;
  return std::move(result.reply);
}

inline bool waitUp(net::Loop& loop, redis::Connection& connection) {
  return runUntil(loop, [&] { return connection.isConnected(); });
}

}  // namespace duplex::test
