// A Hub destroyed while its connections live and its App goes on: the connections are told
// (disconnect push, close 1001), publishes it accepted are stored and acknowledged first (the
// engine completes them after the Hub is gone; the connections are told to go after the last
// one), and what the App and the loop still hold of it (the route's handlers, the API routes,
// completions) does nothing harmful afterwards. Runs clean under ASan, which is the
// point: before, each of these called into the freed Hub.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/client.h"
#include "hub/channel_store.h"
#include "hub/hub.h"
#include "hub/in_process_engine.h"
#include "net/loop.h"
#include "net_test_util.h"
#include "pubsub/topics.h"
#include "server/app.h"
#include "temp_dir.h"
#include "ws_test_util.h"

namespace duplex::hub {
namespace {

struct Peer {
  WebSocket* ws = nullptr;
  bool opened = false;
  bool failed = false;
  uint16_t closeCode = 0;
  std::vector<std::string> received;
};

class HubLifetime : public ::testing::Test {
 protected:
  // Declared first: connections closed at the end still find what their handlers write to.
  std::vector<std::unique_ptr<Peer>> peers;
  test::TempDir dir;
  net::Loop loop;
  std::unique_ptr<ChannelStore> store;
  std::unique_ptr<App> app;
  std::unique_ptr<pubsub::Topics> topics;
  std::unique_ptr<InProcessEngine> engine;
  std::unique_ptr<Hub> hub;
  std::function<void()> duringValidation;  // runs inside the validator of namespace "talk"

  void SetUp() override {
    auto opened = ChannelStore::open(dir.file("channels.db"));
    ASSERT_TRUE(opened.ok());
    store = std::move(opened.value());
    AppOptions appOptions;
    appOptions.handleSignals = false;
    app = std::make_unique<App>(loop, appOptions);
    topics = std::make_unique<pubsub::Topics>(loop);
    HubOptions options;
    NamespaceOptions talk;
    talk.historySize = 100;  // publishes wait for the iteration's group commit
    options.namespaces.add("talk", talk);
    options.apiKey = "key";
    options.validators.emplace("talk", [this](std::string_view, std::string_view) {
      if (duringValidation) std::exchange(duringValidation, nullptr)();
      return std::optional<HubError>();
    });
    engine = std::make_unique<InProcessEngine>(*store);
    engine->addLoop(loop, *topics);
    hub = std::make_unique<Hub>(loop, *engine, std::move(options));
    app->ws("/connection", hub->behavior());
    hub->addApiRoutes(*app);
    app->listen("127.0.0.1", 0);
  }

  void TearDown() override {
    for (net::Socket* socket : loop.sockets()) socket->closeNow();
    duplex::test::runOnce(loop);
    hub.reset();
    app.reset();
    engine.reset();
    topics.reset();
  }

  Peer& connect() {
    Peer& peer = *peers.emplace_back(std::make_unique<Peer>());
    ClientBehavior b;
    b.open = [&peer](WebSocket& ws) {
      peer.ws = &ws;
      peer.opened = true;
    };
    b.message = [&peer](WebSocket&, std::string_view data, Opcode) {
      peer.received.emplace_back(data);
    };
    b.close = [&peer](WebSocket&, uint16_t code, std::string_view) {
      peer.ws = nullptr;
      peer.closeCode = code;
    };
    b.error = [&peer](std::string_view) { peer.failed = true; };
    duplex::connect(loop, "ws://127.0.0.1:" + std::to_string(app->port()) + "/connection",
                    std::move(b));
    return peer;
  }

  bool receivedContaining(const Peer& peer, std::string_view text) {
    for (const std::string& m : peer.received) {
      if (m.find(text) != std::string::npos) return true;
    }
    return false;
  }

  // Subscribes `peer` to talk:main and waits for the reply.
  void subscribe(Peer& peer) {
    ASSERT_TRUE(duplex::test::runUntil(loop, [&] { return peer.opened; }));
    peer.ws->send(R"({"id": 1, "subscribe": {"channel": "talk:main"}})");
    ASSERT_TRUE(
        duplex::test::runUntil(loop, [&] { return receivedContaining(peer, R"("id":1)"); }));
  }
};

TEST_F(HubLifetime, ConnectionsAreToldAndClosedAndTheRouteRefusesNewOnes) {
  Peer& a = connect();
  Peer& b = connect();
  subscribe(a);
  subscribe(b);
  ASSERT_EQ(hub->clientCount(), 2u);

  hub.reset();
  ASSERT_TRUE(duplex::test::runUntil(loop, [&] { return a.closeCode && b.closeCode; }));
  for (Peer* p : {&a, &b}) {
    EXPECT_EQ(p->closeCode, 1001);
    EXPECT_TRUE(receivedContaining(*p, R"("disconnect":{"code":1001)")) << p->received.back();
  }
  // The App still has the route: an upgrade to it is refused (503), not served by a dead Hub.
  duplex::test::RawPeer raw(app->port());
  ASSERT_TRUE(raw.send(duplex::test::upgradeRequest("/connection")));
  duplex::test::HttpReply reply;
  ASSERT_TRUE(duplex::test::runUntil(loop, [&] {
    raw.pump();
    return duplex::test::takeResponse(raw.received(), reply, true) || raw.ended();
  }));
  EXPECT_EQ(reply.status, 503);
}

TEST_F(HubLifetime, TheApiRoutesAnswerUnavailableOnceTheHubIsGone) {
  hub.reset();
  duplex::test::RawPeer raw(app->port());
  std::string body = R"({"channel": "talk:main", "data": {}})";
  ASSERT_TRUE(
      raw.send("POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: key\r\n"
               "Content-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body));
  duplex::test::HttpReply reply;
  ASSERT_TRUE(duplex::test::runUntil(loop, [&] {
    raw.pump();
    return duplex::test::takeResponse(raw.received(), reply) || raw.ended();
  }));
  EXPECT_EQ(reply.status, 503);
  EXPECT_NE(reply.body.find("unavailable"), std::string::npos) << reply.body;
}

TEST_F(HubLifetime, APublishAcceptedBeforeTheHubGoesIsStoredAndAcknowledged) {
  Peer& publisher = connect();
  Peer& reader = connect();
  subscribe(publisher);
  subscribe(reader);
  // The Hub goes in the same iteration, between accepting the publish and its group commit:
  // this task is deferred before the commit the publish schedules.
  duringValidation = [this] { loop.defer([this] { hub.reset(); }); };
  publisher.ws->send(
      R"({"id": 2, "publish": {"channel": "talk:main", "data": {"n": 1}, "key": "k-2"}})");
  ASSERT_TRUE(
      duplex::test::runUntil(loop, [&] { return publisher.closeCode && reader.closeCode; }));
  EXPECT_TRUE(receivedContaining(publisher, R"("id":2,"result":{"offset":1)"))
      << "no acknowledgement before the close";
  EXPECT_TRUE(receivedContaining(reader, R"("channel":"talk:main","pub":{"offset":1)"));
  // Stored, not only sent (read once the engine's storage thread has let go of the store).
  engine.reset();
  auto position = store->position("talk:main");
  ASSERT_TRUE(position.ok());
  EXPECT_EQ(position->top, 1u);
}

}  // namespace
}  // namespace duplex::hub
