// Topics over four loops: a publish on any loop reaches every subscriber on every loop once, in
// the order each publisher sent; each loop frames (and compresses) the message once for its own
// subscribers; and the hand-off between loops costs one post (one wake-up) per loop per
// iteration, whatever the number of messages.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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
// that has subscribers on one of their topics is posted to (woken) once, and a loop that has
// none is not posted to at all.
TEST(MultiLoopBroadcast, ABatchWakesEachLoopWithSubscribersOnItsTopicsOnceAndNoOtherLoop) {
  App app(test::multiLoopOptions(4));
  pubsub::Topics topics(app.loops());
  WebSocketBehavior b;
  b.open = [&](WebSocket& ws, const Request& request) {
    std::string topic(request.path().substr(1));
    if (topic != "publisher") topics.subscribe(ws, topic);
  };
  // "TOPIC COUNT": that many publishes on TOPIC, all in this one iteration; "leave TOPIC":
  // unsubscribes, then says "left".
  b.message = [&](WebSocket& ws, std::string_view data, Opcode) {
    if (data.starts_with("leave ")) {
      topics.unsubscribe(ws, data.substr(6));
      ws.send("left");
      return;
    }
    size_t space = data.find(' ');
    std::string topic(data.substr(0, space));
    int count = std::stoi(std::string(data.substr(space + 1)));
    for (int i = 0; i < count; ++i) topics.publish(topic, std::to_string(i));
  };
  app.ws("/*", std::move(b));
  app.listen("127.0.0.1", 0);
  std::string base = "ws://127.0.0.1:" + std::to_string(app.port());
  ServerThread thread(app);
  thread.start();

  net::Loop loop;
  // Round-robin: the i-th connection lives on loop i.
  const std::vector<std::string> paths = {"/publisher", "/t", "/other", "/t"};
  std::vector<WebSocket*> clients(paths.size());
  std::vector<int> received(paths.size(), 0);
  std::vector<int> next(paths.size(), 0);
  bool left = false;
  std::vector<std::string> problems;
  for (size_t i = 0; i < paths.size(); ++i) {
    ClientBehavior c;
    c.open = [&, i](WebSocket& ws) { clients[i] = &ws; };
    c.message = [&, i](WebSocket&, std::string_view data, Opcode) {
      if (data == "left") {
        left = true;
        return;
      }
      // Each burst counts from 0, in order.
      if (data != "0" && data != std::to_string(next[i]) && problems.size() < 10) {
        problems.push_back("client " + std::to_string(i) + " got " + std::string(data) +
                           ", expected 0 or " + std::to_string(next[i]));
      }
      next[i] = std::stoi(std::string(data)) + 1;
      ++received[i];
    };
    connect(loop, base + paths[i], std::move(c));
    ASSERT_TRUE(test::runUntil(loop, [&] { return clients[i] != nullptr; }, 10000));
  }
  ASSERT_EQ(app.acceptedPerLoop(), (std::vector<uint64_t>{1, 1, 1, 1}));

  std::vector<uint64_t> before;
  auto postsSince = [&](size_t i) { return app.loop(i).postCount() - before[i]; };
  auto countPosts = [&] {
    before.clear();
    for (net::Loop* l : app.loops()) before.push_back(l->postCount());
  };

  countPosts();
  clients[0]->send("t 500");
  ASSERT_TRUE(test::runUntil(loop, [&] { return received[1] == 500 && received[3] == 500; }));
  EXPECT_EQ(postsSince(1), 1u) << "one batch for 500 messages";
  EXPECT_EQ(postsSince(3), 1u);
  EXPECT_EQ(postsSince(2), 0u) << "loop 2 has no subscriber on t";

  countPosts();
  clients[0]->send("other 10");
  ASSERT_TRUE(test::runUntil(loop, [&] { return received[2] == 10; }));
  EXPECT_EQ(postsSince(2), 1u);
  EXPECT_EQ(postsSince(1) + postsSince(3), 0u) << "no subscriber on other there";

  // Nobody anywhere: the publisher's loop keeps the batch to itself. A publish on t after it
  // shows the loops got nothing in between.
  countPosts();
  clients[0]->send("nobody 10");
  clients[0]->send("t 1");
  ASSERT_TRUE(test::runUntil(loop, [&] { return received[1] == 501 && received[3] == 501; }));
  EXPECT_EQ(postsSince(2), 0u);
  EXPECT_LE(postsSince(1), 2u);  // the two messages may be read in one iteration or in two
  EXPECT_EQ(received[2], 10);
  EXPECT_TRUE(problems.empty()) << problems.front();

  // From a thread that is no loop's: only the loops that want it are posted to.
  countPosts();
  topics.publishFromAnyThread("other", "10");
  ASSERT_TRUE(test::runUntil(loop, [&] { return received[2] == 11; }));
  EXPECT_EQ(postsSince(2), 1u);
  EXPECT_EQ(postsSince(0) + postsSince(1) + postsSince(3), 0u);

  // A loop whose last subscriber on t has gone is not woken for t any more.
  clients[3]->send("leave t");
  ASSERT_TRUE(test::runUntil(loop, [&] { return left; }));
  countPosts();
  clients[0]->send("t 5");
  ASSERT_TRUE(test::runUntil(loop, [&] { return received[1] == 506; }));
  EXPECT_EQ(postsSince(3), 0u);
  thread.stop(loop);
}

}  // namespace
}  // namespace duplex

namespace duplex {
namespace {

// A peer that completes the handshake on /room and then never reads.
int rawSubscriber(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return -1;
  std::string request =
      "GET /room HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  ::send(fd, request.data(), request.size(), 0);
  return fd;
}

// The slow-subscriber policy holds for messages that came from another loop: a subscriber on
// loop 1 that never reads is closed (1013, "subscriber too slow") while the publisher on loop 0
// and the subscribers on every loop carry on and get everything.
TEST(MultiLoopBroadcast, ASlowSubscriberOnAnotherLoopIsClosedAndTheRestGetEverything) {
  App app(test::multiLoopOptions(4));
  pubsub::TopicsOptions options;
  options.slowSubscriberBytes = 64 * 1024;
  pubsub::Topics topics(app.loops(), options);
  std::atomic<bool> slowClosed{false};
  WebSocketBehavior b;
  b.closeTimeoutSeconds = 1;  // the slow peer never answers our close
  b.open = [&](WebSocket& ws, const Request&) { topics.subscribe(ws, "room"); };
  b.message = [&](WebSocket&, std::string_view data, Opcode op) {
    topics.publish("room", data, op);
  };
  b.close = [&](WebSocket&, uint16_t, std::string_view reason) {
    if (reason == "subscriber too slow") slowClosed = true;
  };
  app.ws("/*", std::move(b));
  app.listen("127.0.0.1", 0);
  std::string url = "ws://127.0.0.1:" + std::to_string(app.port()) + "/room";
  ServerThread thread(app);
  thread.start();

  net::Loop loop;
  std::vector<WebSocket*> clients(4);
  std::vector<int> received(4, 0);
  int opened = 0, closed = 0, sent = 0, outOfOrder = 0;
  std::string payload(8 * 1024, 'p');
  auto connectClient = [&](int i) {
    ClientBehavior c;
    c.open = [&, i](WebSocket& ws) {
      clients[static_cast<size_t>(i)] = &ws;
      ++opened;
    };
    c.message = [&, i](WebSocket&, std::string_view data, Opcode) {
      int seq = std::stoi(std::string(data.substr(0, data.find(' '))));
      if (seq != received[static_cast<size_t>(i)]) ++outOfOrder;
      ++received[static_cast<size_t>(i)];
      // Client 0 publishes the next message when its own comes back: self-paced, so only the
      // peer that never reads falls behind.
      if (i == 0 && !slowClosed && sent < 2000)
        clients[0]->send(std::to_string(sent++) + " " + payload);
    };
    c.close = [&](WebSocket&, uint16_t, std::string_view) { ++closed; };
    connect(loop, url, std::move(c));
  };
  connectClient(0);  // loop 0
  ASSERT_TRUE(test::runUntil(loop, [&] { return opened == 1; }));
  int raw = rawSubscriber(app.port());  // loop 1
  ASSERT_GE(raw, 0);
  ASSERT_TRUE(test::runUntil(loop, [&] { return app.connectionCount() == 2; }));
  for (int i = 1; i < 4; ++i) connectClient(i);  // loops 2, 3 and 0
  ASSERT_TRUE(test::runUntil(loop, [&] { return opened == 4; }));
  EXPECT_EQ(app.acceptedPerLoop(), (std::vector<uint64_t>{2, 1, 1, 1}));
  clients[0]->send(std::to_string(sent++) + " " + payload);
  ASSERT_TRUE(test::runUntil(
      loop, [&] { return slowClosed.load(); }, 20000))
      << sent << " sent";
  // Let the last publishes arrive everywhere.
  ASSERT_TRUE(test::runUntil(loop, [&] {
    for (int n : received) {
      if (n != sent) return false;
    }
    return true;
  }));
  EXPECT_EQ(outOfOrder, 0);
  EXPECT_GT(sent, 8);  // it took a queue's worth of messages to become slow
  ::close(raw);
  for (WebSocket* ws : clients) ws->close();
  ASSERT_TRUE(test::runUntil(loop, [&] { return closed == 4; }));
  thread.stop();
  // (At least one: a subscriber already sent its close stays subscribed until it ends, and
  // each publish meanwhile finds it slow again and counts it; single-loop Topics does the same.)
  EXPECT_GE(topics.stats().slowClosed, 1u);
}

// Each loop compresses a publication once for its own subscribers that compress each message
// alone: 8 subscribers over 4 loops cost 4 compressions per message, not 8 (and not 1: a frame
// is built on the loop that sends it), and every subscriber inflates the message intact.
TEST(MultiLoopBroadcast, EachLoopCompressesAPublicationOnceForItsOwnSubscribers) {
  constexpr int kClients = 8;  // two per loop
  constexpr int kMessages = 3;
  App app(test::multiLoopOptions(4));
  pubsub::Topics topics(app.loops());
  WebSocketBehavior b;
  b.compression.enabled = true;  // no context takeover either way: compressed alone
  b.open = [&](WebSocket& ws, const Request&) { topics.subscribe(ws, "room"); };
  app.ws("/*", std::move(b));
  app.listen("127.0.0.1", 0);
  std::string url = "ws://127.0.0.1:" + std::to_string(app.port()) + "/room";
  ServerThread thread(app);
  thread.start();

  auto message = [](int n) {
    std::string s = "{\"n\":" + std::to_string(n) + ",\"text\":\"";
    while (s.size() < 2000) s += "tomato tomato tomato ";
    return s + "\"}";
  };
  net::Loop loop;
  int opened = 0, compressed = 0, received = 0, wrong = 0, closed = 0;
  std::vector<WebSocket*> clients;
  for (int i = 0; i < kClients; ++i) {
    ClientBehavior c;
    c.open = [&](WebSocket& ws) {
      compressed += ws.isCompressed();
      clients.push_back(&ws);
      ++opened;
    };
    c.message = [&, next = 0](WebSocket&, std::string_view data, Opcode) mutable {
      if (data != message(next++)) ++wrong;
      ++received;
    };
    c.close = [&](WebSocket&, uint16_t, std::string_view) { ++closed; };
    connect(loop, url, std::move(c));
  }
  ASSERT_TRUE(test::runUntil(
      loop, [&] { return opened == kClients; }, 10000));
  EXPECT_EQ(app.acceptedPerLoop(), (std::vector<uint64_t>{2, 2, 2, 2}));
  EXPECT_EQ(compressed, kClients);
  // Published on loop 1, as a handler there would.
  app.loop(1).post([&] {
    for (int m = 0; m < kMessages; ++m) topics.publish("room", message(m));
  });
  ASSERT_TRUE(test::runUntil(
      loop, [&] { return received == kClients * kMessages; }, 10000))
      << received;
  EXPECT_EQ(wrong, 0);
  for (WebSocket* ws : clients) ws->close();
  ASSERT_TRUE(test::runUntil(loop, [&] { return closed == kClients; }));
  thread.stop();
  EXPECT_EQ(topics.stats().delivered, static_cast<uint64_t>(kClients * kMessages));
  EXPECT_EQ(topics.stats().compressedOnce, static_cast<uint64_t>(4 * kMessages));
}

}  // namespace
}  // namespace duplex
