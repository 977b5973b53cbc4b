// Timeouts: idle connections with autoPing (a peer that answers stays, one that does not is
// closed) and the handshake timeout (slowloris, silent sockets, idle keep-alive connections).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server_fixture.h"

namespace duplex {
namespace {

using test::Frame;
using test::RawPeer;

class Timeouts : public test::ServerFixture {};

TEST_F(Timeouts, IdlePeerThatAnswersPingsStaysOneThatDoesNotIsClosed) {
  WebSocketBehavior behavior = recording();
  behavior.idleTimeoutSeconds = 1;
  behavior.autoPing = true;
  behavior.closeTimeoutSeconds = 1;
  makeApp().ws("/ws", behavior);
  uint16_t port = listen();

  // The library client answers pings by itself; the raw peer reads but never answers.
  connect(loop, url("/ws"), recordingClient());
  RawPeer silent(port);
  ASSERT_TRUE(rawUpgrade(silent, "/ws"));
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.opens == 1 && server.opens == 2; }));

  std::vector<Frame> frames;
  ASSERT_TRUE(readFrames(silent, frames, test::hasCloseFrame, 8000))
      << "the silent peer was never closed";
  ASSERT_GE(frames.size(), 2u);
  EXPECT_EQ(frames[0].opcode, 0x9) << "no ping before giving up";
  const Frame* close = test::findCloseFrame(frames);
  EXPECT_EQ(close->closeCode(), 1001);
  EXPECT_EQ(close->closeReason(), "idle timeout");

  // Meanwhile the answering client was pinged too, answered, and is still open.
  EXPECT_GE(server.pongs, 1);
  EXPECT_EQ(client.closes, 0);
  ASSERT_NE(client.ws, nullptr);
  EXPECT_TRUE(client.ws->isOpen());
  // Every pong the server saw answered a ping the client saw (one may still be in flight).
  EXPECT_GE(client.pings, server.pongs);
}

TEST_F(Timeouts, HandshakeTimeoutClosesSlowlorisSilentAndIdleKeepAliveConnections) {
  AppOptions o = options();
  o.handshakeTimeoutSeconds = 1;
  makeApp(o).ws("/ws", recording());
  app->get("/health", [](const Request&, HttpResponse& r) { r.body = "ok"; });
  uint16_t port = listen();
  uint64_t start = test::monotonicMs();

  RawPeer slowloris(port), silent(port), keepAlive(port);
  // The slowloris sends a byte of a never-ending header every 20 ms: data must not extend the
  // time a client has to complete its head.
  ASSERT_TRUE(slowloris.send("GET /ws HTTP/1.1\r\nHost: x\r\nX-Slow: "));
  net::Loop::TimerId drip = loop.setInterval(20, [&] { slowloris.sendSome("a"); });
  test::HttpReply reply;
  ASSERT_TRUE(exchange(keepAlive, test::getRequest("/health"), reply));
  EXPECT_EQ(reply.status, 200);

  bool allClosed = test::runUntil(
      loop,
      [&] {
        slowloris.pump();
        silent.pump();
        keepAlive.pump();
        return slowloris.ended() && silent.ended() && keepAlive.ended();
      },
      4000);
  loop.cancelTimer(drip);
  uint64_t elapsed = test::monotonicMs() - start;
  EXPECT_TRUE(allClosed) << "slowloris " << slowloris.ended() << ", silent " << silent.ended()
                         << ", keep-alive " << keepAlive.ended();
  EXPECT_LE(elapsed, 3000u);
  EXPECT_EQ(server.opens, 0);
  ASSERT_TRUE(allGone(2000));
}

}  // namespace
}  // namespace duplex
