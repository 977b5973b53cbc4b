// Topics against real connections: the server (App) and the clients share one Loop, and raw
// blocking sockets stand in for peers that misbehave (never read).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "net_test_util.h"
#include "pubsub/topics.h"
#include "raw_subscriber.h"
#include "server/app.h"

namespace {

using duplex::Opcode;
using duplex::WebSocket;
using duplex::pubsub::SlowSubscriberPolicy;
using duplex::pubsub::Topics;
using duplex::pubsub::TopicsOptions;
using duplex::test::rawSubscriber;
using duplex::test::runFor;
using duplex::test::runUntil;

struct Client {
  WebSocket* ws = nullptr;
  bool open = false;
  bool closed = false;
  std::vector<std::string> received;
};

// A server whose /t/<topic> connections subscribe to <topic>. Tests wait for their clients'
// `open` as well as for the subscription: the server subscribes in its open handler, before the
// client has read the 101, and a client still in its handshake ignores send() and close(). Owns the
// clients too, so that every handler's captures are still alive when the connections are closed at
// the end.
struct Fixture {
  std::vector<uint16_t> closeCodes;
  std::vector<std::string> closeReasons;
  std::deque<Client> clients;
  duplex::net::Loop loop;
  duplex::App app{loop, {.handleSignals = false}};
  Topics topics;

  explicit Fixture(TopicsOptions options = {}, size_t maxBackpressure = 4 << 20)
      : topics(loop, std::move(options)) {
    duplex::WebSocketBehavior behavior;
    behavior.maxBackpressure = maxBackpressure;
    behavior.closeTimeoutSeconds = 1;
    behavior.open = [this](WebSocket& ws, const duplex::Request& request) {
      topics.subscribe(ws, request.wildcard());
    };
    behavior.message = [this](WebSocket& ws, std::string_view data, Opcode op) {
      // "!topic payload": publish to a topic without echoing to the sender.
      if (!data.empty() && data[0] == '!') {
        size_t space = data.find(' ');
        topics.publish(data.substr(1, space - 1), data.substr(space + 1), op, &ws);
      } else if (data == "unsubscribe") {
        topics.unsubscribeAll(ws);
      }
    };
    behavior.close = [this](WebSocket&, uint16_t code, std::string_view reason) {
      closeCodes.push_back(code);
      closeReasons.emplace_back(reason);
    };
    app.ws("/t/*", std::move(behavior));
    app.listen("127.0.0.1", 0);
  }
  ~Fixture() {
    for (duplex::net::Socket* socket : loop.sockets()) socket->closeNow();
  }
  std::string url(std::string_view topic) {
    return "ws://127.0.0.1:" + std::to_string(app.port()) + "/t/" + std::string(topic);
  }
  Client& client() { return clients.emplace_back(); }
};

void connectClient(Fixture& f, std::string_view topic, Client& c) {
  c.ws =
      duplex::connect(f.loop, f.url(topic),
                      {.open = [&c](WebSocket&) { c.open = true; },
                       .message = [&c](WebSocket&, std::string_view data,
                                       Opcode) { c.received.emplace_back(data); },
                       .close = [&c](WebSocket&, uint16_t, std::string_view) { c.closed = true; },
                       .error = [&c](std::string_view) { c.closed = true; }});
}

// Connects the clients to /t/<topic>, then runs until the topic has them all and every one is
// open (see Fixture); false if that never happens.
bool connectAll(Fixture& f, std::string_view topic, std::initializer_list<Client*> clients) {
  for (Client* c : clients) connectClient(f, topic, *c);
  return runUntil(f.loop, [&] {
    return f.topics.subscriberCount(topic) == clients.size() &&
           std::all_of(clients.begin(), clients.end(), [](const Client* c) { return c->open; });
  });
}

TEST(Topics, FanOutReachesEverySubscriberOnceAndNobodyElse) {
  const size_t kSubscribers = 1000;
  Fixture f;
  std::vector<Client*> subscribers;
  for (size_t i = 0; i < kSubscribers; ++i) {
    subscribers.push_back(&f.client());
    connectClient(f, "news", *subscribers.back());
  }
  Client& other = f.client();
  connectClient(f, "sport", other);
  ASSERT_TRUE(runUntil(f.loop, [&] {
    return f.topics.subscriberCount("news") == kSubscribers &&
           f.topics.subscriberCount("sport") == 1;
  }));
  Client& publisher = f.client();
  connectClient(f, "none", publisher);
  ASSERT_TRUE(runUntil(f.loop, [&] { return publisher.open; }));
  publisher.ws->send("!news first");
  publisher.ws->send("!news second");
  ASSERT_TRUE(runUntil(f.loop, [&] {
    for (Client* c : subscribers) {
      if (c->received.size() < 2) return false;
    }
    return true;
  }));
  for (Client* c : subscribers) {
    ASSERT_EQ(c->received, (std::vector<std::string>{"first", "second"}));
  }
  EXPECT_TRUE(other.received.empty());
  EXPECT_EQ(f.topics.stats().delivered, 2 * kSubscribers);
  EXPECT_EQ(f.topics.stats().published, 2u);
}

TEST(Topics, PublishCanExcludeTheSender) {
  Fixture f;
  Client& a = f.client();
  Client& b = f.client();
  ASSERT_TRUE(connectAll(f, "room", {&a, &b}));
  a.ws->send("!room hello");  // the fixture publishes with except = sender
  ASSERT_TRUE(runUntil(f.loop, [&] { return b.received.size() == 1; }));
  runFor(f.loop, 50);
  EXPECT_TRUE(a.received.empty());
}

TEST(Topics, SubscriptionsEndWithTheConnectionAndEmptyTopicsVanish) {
  Fixture f;
  Client& a = f.client();
  Client& b = f.client();
  ASSERT_TRUE(connectAll(f, "room", {&a, &b}));
  a.ws->close();
  ASSERT_TRUE(runUntil(f.loop, [&] { return f.topics.subscriberCount("room") == 1; }));
  b.ws->terminate();  // an abrupt end too
  ASSERT_TRUE(runUntil(f.loop, [&] { return f.topics.topicCount() == 0; }));
  EXPECT_EQ(f.topics.publish("room", "anyone?"), 0u);
}

TEST(Topics, UnsubscribeStopsDelivery) {
  Fixture f;
  Client& a = f.client();
  Client& b = f.client();
  ASSERT_TRUE(connectAll(f, "room", {&a, &b}));
  a.ws->send("unsubscribe");
  ASSERT_TRUE(runUntil(f.loop, [&] { return f.topics.subscriberCount("room") == 1; }));
  EXPECT_EQ(f.topics.publish("room", "x"), 1u);
  ASSERT_TRUE(runUntil(f.loop, [&] { return b.received.size() == 1; }));
  EXPECT_TRUE(a.received.empty());
}

TEST(Topics, SlowSubscriberIsClosedWith1013AndPublishersKeepGoing) {
  TopicsOptions options;
  options.slowSubscriberBytes = 64 * 1024;
  Fixture f(options);
  int raw = rawSubscriber(f.app.port(), "feed");
  ASSERT_GE(raw, 0);
  Client& healthy = f.client();
  connectClient(f, "feed", healthy);
  ASSERT_TRUE(
      runUntil(f.loop, [&] { return f.topics.subscriberCount("feed") == 2 && healthy.open; }));
  std::string payload(8 * 1024, 'p');
  size_t published = 0;
  // Publish until the raw peer's queue passes the bound; the healthy one keeps reading.
  ASSERT_TRUE(runUntil(f.loop, [&] {
    f.topics.publish("feed", payload);
    ++published;
    return f.topics.stats().slowClosed == 1;
  }));
  // The slow one is gone once its close times out (it never reads our close frame). That has
  // taken 2 s here, so the bound is 10 s rather than runUntil's usual 5.
  ASSERT_TRUE(runUntil(
      f.loop, [&] { return f.topics.subscriberCount("feed") == 1; }, 10000));
  // It was sent close 1013; never reading, it never answered, so the connection ended
  // abnormally (RFC 6455 7.1.5) with our reason.
  ASSERT_FALSE(f.closeCodes.empty());
  EXPECT_EQ(f.closeCodes.front(), 1006);
  EXPECT_EQ(f.closeReasons.front(), "subscriber too slow");
  ASSERT_TRUE(runUntil(f.loop, [&] { return healthy.received.size() == published; }));
  ::close(raw);
}

TEST(Topics, DropPolicySkipsASlowSubscriberAndTellsItHowManyItMissed) {
  TopicsOptions options;
  options.slowSubscriberBytes = 64 * 1024;
  options.policy = SlowSubscriberPolicy::Drop;
  uint64_t missedReported = 0;
  options.onDropped = [&](WebSocket& ws, std::string_view topic, uint64_t missed) {
    missedReported += missed;
    ws.send("missed " + std::string(topic) + " " + std::to_string(missed));
  };
  Fixture f(options);
  int raw = rawSubscriber(f.app.port(), "feed");
  ASSERT_GE(raw, 0);
  ASSERT_TRUE(runUntil(f.loop, [&] { return f.topics.subscriberCount("feed") == 1; }));
  std::string payload(8 * 1024, 'p');
  ASSERT_TRUE(runUntil(f.loop, [&] {
    f.topics.publish("feed", payload);
    return f.topics.stats().dropped >= 10;
  }));
  EXPECT_EQ(f.topics.subscriberCount("feed"), 1u);  // still subscribed
  EXPECT_TRUE(f.closeCodes.empty());
  // The peer reads everything: once it has caught up, the next publish first reports the loss.
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    char buffer[65536];
    while (!stop) {
      if (::recv(raw, buffer, sizeof buffer, MSG_DONTWAIT) <= 0) std::this_thread::yield();
    }
  });
  uint64_t dropped = f.topics.stats().dropped;
  ASSERT_TRUE(runUntil(f.loop, [&] {
    if (f.topics.subscriberCount("feed") == 1) f.topics.publish("feed", "after");
    return missedReported > 0;
  }));
  stop = true;
  reader.join();
  EXPECT_GE(missedReported, dropped);
  ::close(raw);
}

TEST(Topics, PublishFromAnotherThreadIsDeliveredOnTheLoop) {
  Fixture f;
  Client& a = f.client();
  ASSERT_TRUE(connectAll(f, "x", {&a}));
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) f.topics.publishFromAnyThread("x", std::to_string(i));
  });
  ASSERT_TRUE(runUntil(f.loop, [&] { return a.received.size() == 100; }));
  producer.join();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.received[i], std::to_string(i));
}

TEST(Topics, ABinaryPublishKeepsItsOpcodeAndLargePayloadsArriveWhole) {
  Fixture f;
  Client& a = f.client();
  std::vector<Opcode> opcodes;
  a.ws = duplex::connect(f.loop, f.url("bin"),
                         {.open = [&a](WebSocket&) { a.open = true; },
                          .message =
                              [&](WebSocket&, std::string_view data, Opcode op) {
                                a.received.emplace_back(data);
                                opcodes.push_back(op);
                              }});
  ASSERT_TRUE(runUntil(f.loop, [&] { return f.topics.subscriberCount("bin") == 1 && a.open; }));
  std::string big(300 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  f.topics.publish("bin", big, Opcode::Binary);
  f.topics.publish("bin", "small", Opcode::Text);
  ASSERT_TRUE(runUntil(f.loop, [&] { return a.received.size() == 2; }));
  EXPECT_EQ(a.received[0], big);
  EXPECT_EQ(opcodes[0], Opcode::Binary);
  EXPECT_EQ(a.received[1], "small");
  EXPECT_EQ(opcodes[1], Opcode::Text);
}

}  // namespace
