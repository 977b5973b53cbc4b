// App::shutdown and App::run: open WebSockets get 1001, connections still in their HTTP phase
// are ended, run() returns once all are gone, and a peer that never answers is dropped at the
// shutdown deadline. Also: SIGTERM through the signal handling that listen() or run() sets up.
#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include "server_fixture.h"

namespace duplex {
namespace {

using test::Frame;
using test::RawPeer;

class Shutdown : public test::ServerFixture {
 protected:
  std::vector<uint16_t> clientCodes;
  std::vector<std::string> clientReasons;
  bool runReturnedByItself = true;

  ClientBehavior codeRecordingClient() {
    ClientBehavior c;
    c.open = [this](WebSocket&) { ++client.opens; };
    c.close = [this](WebSocket&, uint16_t code, std::string_view reason) {
      clientCodes.push_back(code);
      clientReasons.push_back(std::string(reason));
    };
    return c;
  }

  // Runs app->run() with a safety net that stops the loop after `boundMs`; returns the time
  // run() took.
  uint64_t runApp(uint64_t boundMs = 6000) {
    net::Loop::TimerId bound = loop.setTimeout(boundMs, [this] {
      runReturnedByItself = false;
      loop.stop();
    });
    uint64_t start = test::monotonicMs();
    app->run();
    loop.cancelTimer(bound);
    return test::monotonicMs() - start;
  }
};

TEST_F(Shutdown, OpenClientsGetGoingAwayAndRunReturns) {
  makeApp().ws("/ws", recording());
  uint16_t port = listen();
  connect(loop, url("/ws"), codeRecordingClient());
  connect(loop, url("/ws"), codeRecordingClient());
  // A connection still in its HTTP phase (head not sent yet) is ended too.
  RawPeer pending(port);
  ASSERT_TRUE(pending.send("GET /ws HTTP/1.1\r\n"));
  ASSERT_TRUE(
      test::runUntil(loop, [&] { return client.opens == 2 && app->connectionCount() == 3; }));
  // The raw peer closes as soon as it sees the server's FIN, as a browser would.
  net::Loop::TimerId watch = loop.setInterval(1, [&] {
    if (pending.connected() && (pending.pump(), pending.ended())) pending.close();
  });
  loop.setTimeout(0, [this] { app->shutdown(); });
  uint64_t took = runApp();
  loop.cancelTimer(watch);

  EXPECT_TRUE(runReturnedByItself) << "run() did not return after shutdown()";
  EXPECT_LT(took, 2000u);
  EXPECT_EQ(app->connectionCount(), 0u);
  EXPECT_EQ(clientCodes, (std::vector<uint16_t>{1001, 1001}));
  EXPECT_EQ(server.closes, 2);
  EXPECT_EQ(server.closeCode, 1001);
  // No new connections once shutting down.
  int fd = test::connectTcp(port);
  EXPECT_LT(fd, 0) << "still accepting after shutdown()";
  if (fd >= 0) ::close(fd);
}

TEST_F(Shutdown, PeerThatNeverAnswersIsDroppedAtTheDeadline) {
  AppOptions o = options();
  o.shutdownTimeoutSeconds = 1;
  WebSocketBehavior behavior = recording();
  behavior.closeTimeoutSeconds = 30;  // so that only the shutdown deadline can end it
  makeApp(o).ws("/ws", behavior);
  RawPeer deaf(listen());
  ASSERT_TRUE(rawUpgrade(deaf, "/ws"));
  ASSERT_TRUE(test::runUntil(loop, [&] { return server.opens == 1; }));
  loop.setTimeout(0, [this] { app->shutdown(); });
  uint64_t took = runApp();

  EXPECT_TRUE(runReturnedByItself) << "run() did not return at the shutdown deadline";
  EXPECT_GE(took, 900u);
  EXPECT_LT(took, 3000u);
  EXPECT_EQ(server.closes, 1);
  EXPECT_EQ(app->connectionCount(), 0u);
  // The peer was told (close 1001) before being dropped.
  std::vector<Frame> frames;
  deaf.pump();
  frames = test::takeFrames(deaf.received());
  const Frame* close = test::findCloseFrame(frames);
  ASSERT_NE(close, nullptr);
  EXPECT_EQ(close->closeCode(), 1001);
  EXPECT_TRUE(deaf.ended());
}

TEST_F(Shutdown, WithNoConnectionsRunReturnsAtOnce) {
  makeApp().ws("/ws", recording());
  listen();
  loop.setTimeout(0, [this] { app->shutdown(); });
  uint64_t took = runApp();
  EXPECT_TRUE(runReturnedByItself);
  EXPECT_LT(took, 500u);
}

TEST_F(Shutdown, SigtermThroughRunShutsDown) {
  AppOptions o = options();
  o.handleSignals = true;
  makeApp(o).ws("/ws", recording());
  listen();
  connect(loop, url("/ws"), codeRecordingClient());
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.opens == 1; }));
  // run() installs its handlers (blocking SIGTERM for this thread) before the loop starts, so
  // raising from inside the loop reaches the handler, not the default action.
  loop.setTimeout(0, [] { raise(SIGTERM); });
  runApp();
  EXPECT_TRUE(runReturnedByItself);
  EXPECT_EQ(clientCodes, std::vector<uint16_t>{1001});
}

TEST_F(Shutdown, AppOnACallersLoopCanBeDestroyedWithOpenConnections) {
  // ~App closes its connections, but the loop deletes closed sockets at the end of an iteration,
  // and ~ServerConnection reports to the App (App::Impl::connectionGone). With a loop the caller
  // owns, that happens after the App is gone: ASan reports a heap-use-after-free here.
  makeApp().ws("/ws", recording());
  RawPeer peer(listen());
  ASSERT_TRUE(rawUpgrade(peer, "/ws"));
  ASSERT_TRUE(test::runUntil(loop, [&] { return server.opens == 1; }));
  app.reset();
  EXPECT_EQ(server.closes, 1);
  test::runOnce(loop);  // deletes the connection
  EXPECT_EQ(loop.socketCount(), 0u);
  ASSERT_TRUE(test::runUntil(loop, [&] {
    peer.pump();
    return peer.ended();
  }));
}

TEST_F(Shutdown, SigtermBetweenListenAndRunShutsDownGracefully) {
  // Whoever saw the port (a test reading the listening line, a supervisor) may send SIGTERM at
  // once: listen() already watches it, so the process is not killed by the default action.
  AppOptions o = options();
  o.handleSignals = true;
  makeApp(o).ws("/ws", recording());
  listen();
  ASSERT_EQ(::raise(SIGTERM), 0);  // pending until run(): the old code died here
  runApp();
  EXPECT_TRUE(runReturnedByItself);
}

TEST(ShutdownOnEveryLoop, SigtermBetweenListenAndRunStopsEveryLoop) {
  net::Loop loop;
  AppOptions o;
  o.handleSignals = true;
  o.threads = 3;
  App app(loop, o);
  app.ws("/ws", {});
  app.listen("127.0.0.1", 0);
  ASSERT_EQ(::raise(SIGTERM), 0);
  app.run();  // returns once every loop has stopped; a hang is ctest's timeout
  SUCCEED();
}

}  // namespace
}  // namespace duplex
