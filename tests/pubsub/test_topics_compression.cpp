// A broadcast under permessage-deflate, read by raw peers that check the bytes on the wire:
// subscribers that compress each message alone get one frame compressed once for all of them
// (RSV1 set, inflating to the message), a subscriber that keeps context gets its own compressed
// frames, one without compression gets the plain frame, and a message too short to be worth
// compressing goes plain (to those compressing alone: the limits differ, see
// PerMessageDeflateConfig::minMessageSize). The same with shared frames switched off
// (TopicsOptions::shareFrames, a benchmark knob), which must change the cost, never the result.
#include <string>
#include <vector>

#include "protocol/deflate_codec.h"
#include "pubsub/topics.h"
#include "server_fixture.h"

namespace duplex::test {
namespace {

constexpr std::string_view kAlone =
    "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
    "client_no_context_takeover\r\n";
constexpr std::string_view kTakeover = "Sec-WebSocket-Extensions: permessage-deflate\r\n";

std::string jsonLike(int n) {
  std::string s = "[";
  for (int i = 0; i < 40; ++i) {
    s += R"({"user":"user-)" + std::to_string(i % 7) + R"(","room":"general","n":)" +
         std::to_string(n * 100 + i) + "},";
  }
  s.back() = ']';
  return s;
}

class TopicsCompressionTest : public ServerFixture, public ::testing::WithParamInterface<bool> {};

TEST_P(TopicsCompressionTest, EachSubscriberGetsWhatItsNegotiationAllows) {
  makeApp();
  pubsub::TopicsOptions topicsOptions;
  topicsOptions.shareFrames = GetParam();
  pubsub::Topics topics(loop, topicsOptions);
  WebSocketBehavior b;
  // Clients choose: those that ask for no context takeover get it, the others keep context.
  b.compression.serverNoContextTakeover = false;
  b.compression.clientNoContextTakeover = false;
  b.open = [&](WebSocket& ws, const Request&) { topics.subscribe(ws, "news"); };
  app->ws("/t", std::move(b));
  uint16_t port = listen();

  RawPeer alone1(port), alone2(port), takeover(port), plain(port);
  ASSERT_TRUE(rawUpgrade(alone1, "/t", kAlone));
  ASSERT_TRUE(rawUpgrade(alone2, "/t", kAlone));
  ASSERT_TRUE(rawUpgrade(takeover, "/t", kTakeover));
  ASSERT_TRUE(rawUpgrade(plain, "/t"));
  ASSERT_TRUE(runUntil(loop, [&] { return topics.subscriberCount("news") == 4; }));

  const std::vector<std::string> messages = {jsonLike(1), "short", jsonLike(2)};
  for (const std::string& m : messages) topics.publish("news", m);

  auto read = [&](RawPeer& peer) {
    std::vector<Frame> frames;
    EXPECT_TRUE(readFrames(peer, frames, [](const auto& f) { return f.size() >= 3; }));
    EXPECT_EQ(frames.size(), 3u);
    return frames;
  };
  const std::vector<Frame> a1 = read(alone1), a2 = read(alone2), t = read(takeover),
                           p = read(plain);
  ASSERT_EQ(a1.size(), 3u);
  ASSERT_EQ(a2.size(), 3u);
  ASSERT_EQ(t.size(), 3u);
  ASSERT_EQ(p.size(), 3u);

  protocol::Inflater alone({.windowBits = 15, .noContextTakeover = true});
  protocol::Inflater withContext({.windowBits = 15, .noContextTakeover = false});
  for (size_t i = 0; i < messages.size(); ++i) {
    const bool worth = messages[i].size() >= protocol::kMinMessageSizeAlone;
    SCOPED_TRACE("message " + std::to_string(i));
    // Compressing alone: RSV1 only on messages long enough, and the same bytes for both.
    EXPECT_EQ(a1[i].rsv1, worth);
    EXPECT_EQ(a2[i].payload, a1[i].payload);
    std::string out;
    if (worth) {
      ASSERT_EQ(alone.inflateMessage(a1[i].payload, out, 1 << 20), protocol::InflateStatus::Ok);
      EXPECT_EQ(out, messages[i]);
      EXPECT_LT(a1[i].payload.size(), messages[i].size());
    } else {
      EXPECT_EQ(a1[i].payload, messages[i]);
    }
    // Context takeover: its own stream, messages compressed from 32 bytes on.
    EXPECT_EQ(t[i].rsv1, messages[i].size() >= protocol::kMinMessageSizeWithTakeover);
    out.clear();
    if (t[i].rsv1) {
      ASSERT_EQ(withContext.inflateMessage(t[i].payload, out, 1 << 20),
                protocol::InflateStatus::Ok);
    } else {
      out = t[i].payload;
    }
    EXPECT_EQ(out, messages[i]);
    // No compression agreed: the plain frame.
    EXPECT_FALSE(p[i].rsv1);
    EXPECT_EQ(p[i].payload, messages[i]);
  }
  // Shared frames: the two long messages were compressed once each for both lone subscribers.
  EXPECT_EQ(topics.stats().compressedOnce, GetParam() ? 2u : 0u);
  EXPECT_EQ(topics.stats().delivered, 12u);
}

INSTANTIATE_TEST_SUITE_P(SharedFramesOnAndOff, TopicsCompressionTest, ::testing::Bool(),
                         [](const auto& param) {
                           return param.param ? "Shared" : "PerSubscriber";
                         });

}  // namespace
}  // namespace duplex::test
