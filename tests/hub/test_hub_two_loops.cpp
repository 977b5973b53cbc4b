// Two Hubs on two loops, each on its own thread, over one InProcessEngine: what the engine
// interface promises when a hub's connections live on several loops. A publish on loop A
// reaches a subscriber on loop B (and its ack comes back on A), presence spans the loops, and a
// client that reconnects to the other loop recovers exactly what it missed.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "hub/hub.h"
#include "hub/in_process_engine.h"
#include "loop_test_util.h"
#include "pubsub/topics.h"
#include "server/app.h"
#include "hub_peer.h"
#include "temp_dir.h"
#include "test_channel_store_util.h"

namespace duplex::hub {
namespace {

// One loop on its own thread with its App, Topics and Hub.
struct Node {
  net::Loop loop;
  std::unique_ptr<pubsub::Topics> topics;
  std::unique_ptr<App> app;
  std::unique_ptr<Hub> hub;
  std::thread thread;
};

HubOptions hubOptions() {
  auto namespaces =
      Namespaces::fromJson(R"({"namespaces": {"talk": {"history_size": 100, "presence": true}}})");
  EXPECT_TRUE(namespaces.ok());
  HubOptions options;
  options.namespaces = std::move(namespaces.value());
  return options;
}

using test::Peer;

std::string epochIn(const std::string& reply) {
  size_t at = reply.find("\"epoch\":\"");
  return at == std::string::npos ? "" : reply.substr(at + 9, 16);
}

class HubTwoLoops : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::unique_ptr<ChannelStore> store = test::openStoreOrFail(dir.file("channels.db"));
  std::unique_ptr<InProcessEngine> engine;
  Node a, b;
  net::Loop clients;

  void SetUp() override {
    ASSERT_TRUE(store);
    engine = std::make_unique<InProcessEngine>(*store);
    for (Node* node : {&a, &b}) {
      AppOptions options;
      options.handleSignals = false;
      node->topics = std::make_unique<pubsub::Topics>(node->loop);
      node->app = std::make_unique<App>(node->loop, options);
      node->hub = std::make_unique<Hub>(node->loop, *engine, hubOptions());
      node->app->ws("/connection", node->hub->behavior());
      node->app->listen("127.0.0.1", 0);
      engine->addLoop(node->loop, *node->topics);
    }
    for (Node* node : {&a, &b}) node->thread = std::thread([node] { node->loop.run(); });
  }

  void TearDown() override {
    for (net::Socket* socket : clients.sockets()) socket->closeNow();
    test::runUntilTrue(
        clients, [] { return false; }, 50);
    for (Node* node : {&a, &b}) {
      node->loop.post([node] { node->loop.stop(); });
      node->thread.join();
    }
    // The loops are stopped: their connections close here, while the hubs still exist.
    for (Node* node : {&a, &b}) {
      for (net::Socket* socket : node->loop.sockets()) socket->closeNow();
      test::runUntilTrue(
          node->loop, [] { return false; }, 20);
    }
    engine.reset();  // runs what is still queued; posts to loops that no longer run
    for (Node* node : {&a, &b}) {
      node->hub.reset();
      node->app.reset();
    }
  }

  bool until(const std::function<bool()>& done) { return test::runUntilTrue(clients, done); }
  // Peers outlive the test body: their connections are closed in TearDown, which calls them.
  std::vector<std::unique_ptr<Peer>> peers;
  Peer& peer(Node& node) {
    peers.push_back(std::make_unique<Peer>(clients, node.app->port()));
    return *peers.back();
  }
};

TEST_F(HubTwoLoops, APublishOnOneLoopReachesTheOtherAndRecoveryWorksFromEither) {
  Peer& subscriber = peer(b);
  Peer& publisher = peer(a);
  ASSERT_TRUE(until([&] { return subscriber.open && publisher.open; }));
  subscriber.ws->send(R"({"id":1,"subscribe":{"channel":"talk:x"}})");
  ASSERT_TRUE(until([&] { return subscriber.find({"\"id\":1"}) != nullptr; }));
  const std::string epoch = epochIn(*subscriber.find({"\"id\":1"}));
  ASSERT_EQ(epoch.size(), 16u) << *subscriber.find({"\"id\":1"});

  publisher.ws->send(R"({"id":2,"publish":{"channel":"talk:x","data":"one"}})");
  ASSERT_TRUE(until([&] {
    return publisher.find({"\"id\":2"}) && subscriber.find({"\"pub\"", "\"one\""});
  }));
  EXPECT_NE(publisher.find({"\"id\":2", "\"offset\":1", epoch}), nullptr);
  EXPECT_NE(subscriber.find({"\"pub\":{\"offset\":1", "\"one\""}), nullptr);

  // Presence spans the loops: asked on A, the member on B is there.
  publisher.ws->send(R"({"id":3,"presence":{"channel":"talk:x"}})");
  ASSERT_TRUE(until([&] { return publisher.find({"\"id\":3"}) != nullptr; }));
  EXPECT_NE(publisher.find({"\"id\":3", "\"clients\":{\"c-"}), nullptr)
      << *publisher.find({"\"id\":3"});

  // The subscriber leaves B; two more publications; it comes back on A and recovers them.
  subscriber.ws->close();
  ASSERT_TRUE(until([&] { return !subscriber.open; }));
  publisher.ws->send(R"({"id":4,"publish":{"channel":"talk:x","data":"two"}})");
  publisher.ws->send(R"({"id":5,"publish":{"channel":"talk:x","data":"three"}})");
  ASSERT_TRUE(until([&] { return publisher.find({"\"id\":5"}) != nullptr; }));
  Peer& back = peer(a);
  ASSERT_TRUE(until([&] { return back.open; }));
  back.ws->send(R"({"id":6,"subscribe":{"channel":"talk:x","since":{"offset":1,"epoch":")" + epoch +
                R"("}}})");
  ASSERT_TRUE(until([&] { return back.find({"\"id\":6"}) != nullptr; }));
  const std::string& recovered = *back.find({"\"id\":6"});
  EXPECT_NE(recovered.find("\"recovered\":true"), std::string::npos) << recovered;
  EXPECT_NE(recovered.find(R"([{"offset":2,"data":"two"},{"offset":3,"data":"three"}])"),
            std::string::npos)
      << recovered;
  // And live again, from B this time, with no gap and no duplicate.
  Peer& other = peer(b);
  ASSERT_TRUE(until([&] { return other.open; }));
  other.ws->send(R"({"id":7,"publish":{"channel":"talk:x","data":"four"}})");
  ASSERT_TRUE(until([&] { return back.find({"\"pub\":{\"offset\":4"}) != nullptr; }));
  size_t pubs = 0;
  for (const std::string& m : back.messages) pubs += m.find("\"pub\"") != std::string::npos;
  EXPECT_EQ(pubs, 1u);
}

}  // namespace
}  // namespace duplex::hub
