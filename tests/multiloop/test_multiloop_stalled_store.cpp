// A stalled store leaves the process answering (issue #13): the in-process engine's commits are
// delayed 2 s (StorageThreadOptions::commitDelayMs, the test hook of a slow disk or a long
// fsync), and an echo route of the same App, on the same loop as the waiting publisher, answers
// every message within milliseconds meanwhile; the publish is acknowledged only after its
// commit. One loop: the strictest case, where anything done on the loop would stall the echo.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "hub/hub.h"
#include "hub/in_process_engine.h"
#include "multiloop_fixture.h"
#include "pubsub/topics.h"
#include "temp_dir.h"

namespace duplex::hub {
namespace {

constexpr uint32_t kStallMs = 2000;
// "Milliseconds", with room for a busy CI machine; ThreadSanitizer slows everything several
// times over, and its bound stays well below the stall.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DUPLEX_STALLED_STORE_UNDER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(DUPLEX_STALLED_STORE_UNDER_TSAN)
constexpr uint64_t kPromptMs = 1000;
#else
constexpr uint64_t kPromptMs = 500;  // a quarter of the stall: room for a loaded CI machine
#endif

TEST(StalledStore, EchoOnTheSameLoopAnswersWithinMillisecondsWhileAPublishWaits) {
  test::TempDir dir;
  auto opened = ChannelStore::open(dir.file("channels.db"));
  ASSERT_TRUE(opened.ok());
  App app(duplex::test::multiLoopOptions(1));
  pubsub::Topics topics(app.loop(0));
  InProcessEngineOptions engineOptions;
  engineOptions.storage.commitDelayMs = kStallMs;
  auto engine = std::make_unique<InProcessEngine>(**opened, engineOptions);
  engine->addLoop(app.loop(0), topics);
  auto namespaces = Namespaces::fromJson(R"({"namespaces": {"talk": {"history_size": 10}}})");
  ASSERT_TRUE(namespaces.ok());
  HubOptions options;
  options.namespaces = std::move(namespaces.value());
  auto hub = std::make_unique<Hub>(app.loops(), *engine, std::move(options));
  app.ws("/connection", hub->behavior());
  WebSocketBehavior echo;
  echo.message = [](WebSocket& ws, std::string_view data, Opcode op) { ws.send(data, op); };
  app.ws("/echo", std::move(echo));
  app.listen("127.0.0.1", 0);
  duplex::test::ServerThread server(app);
  server.start();

  net::Loop clients;
  const std::string base = "ws://127.0.0.1:" + std::to_string(app.port());
  WebSocket* publisher = nullptr;
  WebSocket* echoer = nullptr;
  std::vector<std::string> replies;
  int echoed = 0;
  ClientBehavior p;
  p.open = [&](WebSocket& ws) { publisher = &ws; };
  p.message = [&](WebSocket&, std::string_view data, Opcode) { replies.emplace_back(data); };
  connect(clients, base + "/connection", p);
  ClientBehavior e;
  e.open = [&](WebSocket& ws) { echoer = &ws; };
  e.message = [&](WebSocket&, std::string_view, Opcode) { ++echoed; };
  connect(clients, base + "/echo", e);
  ASSERT_TRUE(duplex::test::runUntil(
      clients, [&] { return publisher && echoer; }, 10000));

  const uint64_t published = duplex::test::monotonicMs();
  publisher->send(R"({"id": 1, "publish": {"channel": "talk:main", "data": "x"}})");
  // While the commit is stalled: ten echoes, one after the other, each answered promptly.
  uint64_t slowest = 0;
  for (int i = 0; i < 10; ++i) {
    const uint64_t sent = duplex::test::monotonicMs();
    echoer->send("ping " + std::to_string(i));
    ASSERT_TRUE(duplex::test::runUntil(
        clients, [&] { return echoed == i + 1; }, 10000));
    slowest = std::max(slowest, duplex::test::monotonicMs() - sent);
  }
  EXPECT_LT(slowest, kPromptMs) << "an echo waited for the stalled store";
  EXPECT_TRUE(replies.empty()) << "acknowledged before its commit: " << replies.front();
  // Then the commit ends: the publish is acknowledged, not before the stall is over.
  ASSERT_TRUE(duplex::test::runUntil(
      clients, [&] { return !replies.empty(); }, 15000));
  EXPECT_GE(duplex::test::monotonicMs() - published, kStallMs - 100);
  EXPECT_NE(replies.front().find(R"("offset":1)"), std::string::npos) << replies.front();

  server.stop(clients);
  hub.reset();  // the loop no longer runs: the hub's part is ours to touch
  engine.reset();
}

}  // namespace
}  // namespace duplex::hub
