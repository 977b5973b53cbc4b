// Backpressure: a peer that never reads is dropped once maxBackpressure is queued (close
// handler: 1006), one that reads keeps up, and drain fires when a backed-up queue empties.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "server_fixture.h"

namespace duplex {
namespace {

using test::Frame;
using test::RawPeer;

class Backpressure : public test::ServerFixture {
 protected:
  struct Conn {
    std::string who;
    size_t sent = 0;
    int refused = 0;  // send() returned false
    int closes = 0;
    uint16_t code = 0;
    std::string reason;
    bool open = true;
  };
  std::map<WebSocket*, Conn> conns;
  std::vector<Conn> closed;
};

TEST_F(Backpressure, PeerThatNeverReadsIsDroppedWith1006AndAReaderIsNot) {
  constexpr size_t kLimit = 256 * 1024;
  constexpr size_t kMessage = 64 * 1024;
  constexpr size_t kReaderTotal = 4 << 20;
  WebSocketBehavior behavior;
  behavior.maxBackpressure = kLimit;
  behavior.open = [this](WebSocket& ws, const Request& r) {
    conns[&ws].who = r.queryParam("who").value_or("?");
  };
  behavior.close = [this](WebSocket& ws, uint16_t code, std::string_view reason) {
    Conn c = conns[&ws];
    c.closes++;
    c.code = code;
    c.reason = std::string(reason);
    c.open = false;
    closed.push_back(c);
    conns.erase(&ws);
  };
  makeApp().ws("/ws", behavior);
  uint16_t port = listen();

  size_t readerGot = 0;
  ClientBehavior reader;
  reader.message = [&readerGot](WebSocket&, std::string_view data, Opcode) {
    readerGot += data.size();
  };
  connect(loop, url("/ws?who=reader"), reader);
  RawPeer sleeper(port, 4096);
  ASSERT_TRUE(rawUpgrade(sleeper, "/ws?who=sleeper"));
  ASSERT_TRUE(test::runUntil(loop, [&] { return conns.size() == 2; }));

  // A steady producer: 64 KiB to each open connection every 2 ms (the reader gets 4 MiB).
  const std::string message = test::pattern(kMessage);
  net::Loop::TimerId pump = loop.setInterval(2, [&] {
    // A send may drop its connection, and the close handler erases it: iterate a snapshot.
    std::vector<WebSocket*> targets;
    for (auto& entry : conns) targets.push_back(entry.first);
    for (WebSocket* ws : targets) {
      Conn& c = conns[ws];
      if (c.who == "reader" && c.sent >= kReaderTotal) continue;
      size_t sentBefore = c.sent;
      if (ws->send(message, Opcode::Binary)) {
        c.sent = sentBefore + message.size();
      } else if (auto it = conns.find(ws); it != conns.end()) {
        it->second.refused++;  // refused, yet still open
      }
    }
  });
  bool done = test::runUntil(
      loop, [&] { return !closed.empty() && readerGot >= kReaderTotal; }, 8000);
  loop.cancelTimer(pump);
  ASSERT_TRUE(done) << "closed " << closed.size() << ", reader got " << readerGot;

  ASSERT_EQ(closed.size(), 1u) << "the reader was dropped too";
  EXPECT_EQ(closed[0].who, "sleeper");
  EXPECT_EQ(closed[0].code, 1006);
  EXPECT_EQ(closed[0].reason, "send queue over maxBackpressure");
  EXPECT_EQ(closed[0].refused, 0) << "send() was refused on a connection still open";
  // It was dropped for a reason: more than the limit had been handed over in all.
  EXPECT_GT(closed[0].sent, kLimit);
  EXPECT_EQ(readerGot, kReaderTotal);
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns.begin()->second.refused, 0);
}

TEST_F(Backpressure, DrainFiresOnceWhenTheQueueEmpties) {
  WebSocketBehavior behavior = recording();
  behavior.maxBackpressure = 64 << 20;
  behavior.maxMessageSize = 16 << 20;
  const std::string big = test::pattern(8 << 20, 3);
  behavior.open = [open = behavior.open, &big](WebSocket& ws, const Request& r) {
    open(ws, r);
    ws.send(big, Opcode::Binary);
  };
  makeApp().ws("/ws", behavior);
  RawPeer peer(listen(), 4096);
  ASSERT_TRUE(rawUpgrade(peer, "/ws"));
  ASSERT_TRUE(test::runUntil(loop, [&] { return server.opens == 1; }));
  test::runOnce(loop);
  ASSERT_NE(server.ws, nullptr);
  ASSERT_GT(server.ws->bufferedAmount(), 0u) << "the kernel took 8 MiB at once: nothing to test";
  EXPECT_EQ(server.drains, 0);

  std::vector<Frame> frames;
  ASSERT_TRUE(
      readFrames(peer, frames, [&](const auto& f) { return !f.empty() && server.drains > 0; }));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].payload == big);
  EXPECT_EQ(server.ws->bufferedAmount(), 0u);
  // Drained means writable again: the next message goes straight out.
  ASSERT_TRUE(server.ws->send("after drain"));
  ASSERT_TRUE(readFrames(peer, frames, [](const auto& f) { return f.size() == 2; }));
  EXPECT_EQ(frames[1].payload, "after drain");
  EXPECT_EQ(server.drains, 1);
}

TEST_F(Backpressure, BurstWithinOneIterationToAReadingPeerIsNotDropped) {
  // maxBackpressure is about a peer that stopped reading. What one handler sends in one go sits
  // in the queue until the end-of-iteration flush (corking) without ever having been offered to
  // the kernel: counting it as backpressure drops healthy peers (a history replay on join, a
  // large snapshot) with 1006.
  constexpr size_t kLimit = 256 * 1024;
  constexpr size_t kMessage = 64 * 1024;
  constexpr int kCount = 8;  // 512 KiB in one handler: twice the limit
  WebSocketBehavior behavior = recording();
  behavior.maxBackpressure = kLimit;
  int refused = 0;
  behavior.open = [open = behavior.open, &refused](WebSocket& ws, const Request& r) {
    open(ws, r);
    // Incompressible, so that permessage-deflate (when negotiated) cannot shrink it.
    const std::string message = test::pattern(kMessage, 5);
    for (int i = 0; i < kCount; ++i) refused += ws.send(message, Opcode::Binary) ? 0 : 1;
  };
  makeApp().ws("/ws", behavior);
  listen();
  ClientBehavior c = recordingClient();
  connect(loop, url("/ws"), c);
  ASSERT_TRUE(test::runUntil(
      loop, [&] { return client.messages == kCount || client.closes > 0 || client.errors > 0; }));
  EXPECT_EQ(refused, 0) << "BUG: WebSocket::writeFrame counts the unflushed (corked) queue as "
                           "backpressure and terminates a peer that reads";
  EXPECT_EQ(client.messages, kCount) << client.error;
  EXPECT_EQ(server.closes, 0) << "closed with " << server.closeCode << " " << server.closeReason;
}

}  // namespace
}  // namespace duplex
