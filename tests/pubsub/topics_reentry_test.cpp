// Topics is not re-entrant from inside a publish: onDropped (which runs in the middle of the walk
// over a topic's subscribers) may send to its connection, but a publish, subscribe or
// unsubscribe it makes is refused, in every build, and counted. A connection onDropped ends is
// unsubscribed once the walk is over, without disturbing it. Runs clean under ASan.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "client/client.h"
#include "net/loop.h"
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

// Topics under the Drop policy, a route whose connections subscribe to the topic their path
// names (/t/<topic>), and whatever onDropped and the close handler are told to do.
struct Fixture {
  std::function<void(WebSocket&, std::string_view, uint64_t)> whenDropped;
  std::function<void(WebSocket&)> whenClosed;
  int droppedCalls = 0;
  int afterPublishes = 0;  // of "after", by stallThenCatchUp
  duplex::net::Loop loop;
  duplex::App app{loop, {.handleSignals = false}};
  Topics topics{loop, dropPolicy()};

  TopicsOptions dropPolicy() {
    TopicsOptions options;
    options.slowSubscriberBytes = 64 * 1024;
    options.policy = SlowSubscriberPolicy::Drop;
    options.onDropped = [this](WebSocket& ws, std::string_view topic, uint64_t missed) {
      ++droppedCalls;
      if (whenDropped) whenDropped(ws, topic, missed);
    };
    return options;
  }

  Fixture() {
    duplex::WebSocketBehavior behavior;
    behavior.closeTimeoutSeconds = 1;
    behavior.open = [this](WebSocket& ws, const duplex::Request& request) {
      topics.subscribe(ws, request.wildcard());
    };
    behavior.close = [this](WebSocket& ws, uint16_t, std::string_view) {
      if (whenClosed) whenClosed(ws);
    };
    app.ws("/t/*", std::move(behavior));
    app.listen("127.0.0.1", 0);
  }
  ~Fixture() {
    for (duplex::net::Socket* socket : loop.sockets()) socket->closeNow();
  }

  // Reads whatever a rawSubscriber has been sent so far.
  static void drain(int fd) {
    char buffer[65536];
    while (::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT) > 0) {
    }
  }

  // Publishes to `topic` until the raw subscriber `fd` is behind and has missed messages, then
  // lets it read and publishes again until onDropped has run.
  bool stallThenCatchUp(int fd, std::string_view topic) {
    std::string payload(8 * 1024, 'p');
    bool stalled = runUntil(loop, [&] {
      topics.publish(topic, payload);
      return topics.stats().dropped >= 3;
    });
    return stalled && runUntil(loop, [&] {
             drain(fd);
             if (droppedCalls == 0) {
               topics.publish(topic, "after");
               ++afterPublishes;
             }
             return droppedCalls > 0;
           });
  }
};

struct Reader {
  WebSocket* ws = nullptr;
  bool open = false;
  std::vector<std::string> received;
};

void connectReader(Fixture& f, std::string_view topic, Reader& r) {
  r.ws = duplex::connect(
      f.loop, "ws://127.0.0.1:" + std::to_string(f.app.port()) + "/t/" + std::string(topic),
      {.open = [&r](WebSocket&) { r.open = true; },
       .message = [&r](WebSocket&, std::string_view data,
                       Opcode) { r.received.emplace_back(data); }});
}

// Each test declares what the handlers write to before the Fixture: its connections are closed
// (and their handlers run) when it goes.
TEST(TopicsReentry, PublishSubscribeAndUnsubscribeFromInsideOnDroppedAreRefused) {
  size_t nestedPublish = 99;
  bool nestedUnsubscribe = true;
  bool nestedSubscribe = true;
  bool stillSubscribedInside = false;
  Reader reader;
  Fixture f;
  f.whenDropped = [&](WebSocket& ws, std::string_view topic, uint64_t) {
    if (f.droppedCalls > 1) return;
    ws.send("you missed some");  // what onDropped is for: allowed
    nestedPublish = f.topics.publish("feed", "from inside");
    nestedUnsubscribe = f.topics.unsubscribe(ws, topic);
    nestedSubscribe = f.topics.subscribe(ws, "elsewhere");
    f.topics.unsubscribeAll(ws);
    stillSubscribedInside = f.topics.isSubscribed(ws, topic);
  };
  int raw = rawSubscriber(f.app.port(), "feed");
  ASSERT_GE(raw, 0);
  connectReader(f, "feed", reader);
  ASSERT_TRUE(
      runUntil(f.loop, [&] { return f.topics.subscriberCount("feed") == 2 && reader.open; }));
  ASSERT_TRUE(f.stallThenCatchUp(raw, "feed"));

  EXPECT_EQ(nestedPublish, 0u);
  EXPECT_FALSE(nestedUnsubscribe);
  EXPECT_FALSE(nestedSubscribe);
  EXPECT_TRUE(stillSubscribedInside) << "unsubscribeAll from inside onDropped was not refused";
  EXPECT_EQ(f.topics.stats().refused, 4u);
  EXPECT_EQ(f.topics.subscriberCount("feed"), 2u);
  EXPECT_EQ(f.topics.subscriberCount("elsewhere"), 0u);
  // The walk went on: the reader got "after" and never the refused message.
  ASSERT_TRUE(runUntil(
      f.loop, [&] { return !reader.received.empty() && reader.received.back() == "after"; }));
  for (const std::string& m : reader.received) EXPECT_NE(m, "from inside");
  // Outside a publish the same calls work again.
  EXPECT_EQ(f.topics.publish("feed", "later"), 2u);
  EXPECT_EQ(f.topics.stats().refused, 4u);
  ::close(raw);
}

TEST(TopicsReentry, AConnectionEndedFromInsideOnDroppedIsUnsubscribedAfterTheWalk) {
  int closesSeen = 0;
  size_t publishFromCloseHandler = 99;
  Reader before;
  Reader after;
  Fixture f;
  f.whenDropped = [&](WebSocket& ws, std::string_view, uint64_t) { ws.terminate("enough"); };
  // The close handler of the connection onDropped ended runs inside the publish too (as the
  // hub's does, announcing a leave): its publish is refused like any other.
  f.whenClosed = [&](WebSocket&) {
    ++closesSeen;
    publishFromCloseHandler = f.topics.publish("feed", "leave");
  };
  int raw = rawSubscriber(f.app.port(), "feed");
  ASSERT_GE(raw, 0);
  // Subscribers on both sides of the raw one in the topic's list: the walk must reach them all,
  // once each, while the raw one's entry goes away under it.
  connectReader(f, "feed", before);
  ASSERT_TRUE(
      runUntil(f.loop, [&] { return f.topics.subscriberCount("feed") == 2 && before.open; }));
  connectReader(f, "feed", after);
  ASSERT_TRUE(
      runUntil(f.loop, [&] { return f.topics.subscriberCount("feed") == 3 && after.open; }));
  ASSERT_TRUE(f.stallThenCatchUp(raw, "feed"));

  f.whenClosed = nullptr;  // the fixture's own closes at the end are not this test's
  EXPECT_EQ(closesSeen, 1);
  EXPECT_EQ(publishFromCloseHandler, 0u);
  EXPECT_EQ(f.topics.stats().refused, 1u);
  EXPECT_EQ(f.topics.subscriberCount("feed"), 2u);
  auto count = [](const Reader& r, std::string_view m) {
    return static_cast<int>(std::count(r.received.begin(), r.received.end(), m));
  };
  // Every "after" reached both, the one whose walk lost the raw subscriber included, once.
  ASSERT_TRUE(runUntil(f.loop, [&] {
    return count(before, "after") >= f.afterPublishes && count(after, "after") >= f.afterPublishes;
  }));
  runFor(f.loop, 50);
  EXPECT_EQ(count(before, "after"), f.afterPublishes);
  EXPECT_EQ(count(after, "after"), f.afterPublishes);
  EXPECT_EQ(f.topics.publish("feed", "next"), 2u);
  ::close(raw);
}

TEST(TopicsReentry, TheLastSubscriberEndedFromInsideOnDroppedTakesItsTopicAlongAfterTheWalk) {
  Fixture f;
  f.whenDropped = [&](WebSocket& ws, std::string_view, uint64_t) { ws.terminate("enough"); };
  int raw = rawSubscriber(f.app.port(), "solo");
  ASSERT_GE(raw, 0);
  ASSERT_TRUE(runUntil(f.loop, [&] { return f.topics.subscriberCount("solo") == 1; }));
  ASSERT_TRUE(f.stallThenCatchUp(raw, "solo"));
  EXPECT_EQ(f.topics.subscriberCount("solo"), 0u);
  EXPECT_EQ(f.topics.topicCount(), 0u);
  EXPECT_EQ(f.topics.publish("solo", "nobody"), 0u);
  ::close(raw);
}

TEST(TopicsReentry, APublishPostedFromAnotherThreadAfterTheTopicsIsGoneIsDropped) {
  duplex::net::Loop loop;
  {
    Topics topics(loop);
    topics.publishFromAnyThread("x", "too late");
  }
  // The task runs now and finds no Topics: nothing happens (ASan would see a use after free).
  loop.post([&] { loop.stop(); });
  loop.run();
  SUCCEED();
}

}  // namespace
