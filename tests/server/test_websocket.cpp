// The WebSocket connection as handlers see it: handler order and arguments, the close
// handshake both ways, the close handler called exactly once however the connection ends, and
// nothing delivered after close().
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "server_fixture.h"

namespace duplex {
namespace {

using test::Frame;
using test::RawPeer;

class WebSocketTest : public test::ServerFixture {};

TEST_F(WebSocketTest, HandlersRunInOrderWithTheirArguments) {
  WebSocketBehavior behavior = recording();
  auto record = behavior.message;
  behavior.message = [record](WebSocket& ws, std::string_view data, Opcode opcode) {
    record(ws, data, opcode);
    EXPECT_TRUE(ws.send(data, opcode));
  };
  makeApp().ws("/ws", behavior);
  listen();
  ClientBehavior c = recordingClient();
  c.open = [this, open = c.open](WebSocket& ws) {
    open(ws);
    ws.send("hello", Opcode::Text);
    ws.send(std::string_view("\0\1\2", 3), Opcode::Binary);
  };
  c.message = [this, message = c.message](WebSocket& ws, std::string_view data, Opcode opcode) {
    message(ws, data, opcode);
    if (client.messages == 2) ws.close(4000, "bye");
  };
  connect(loop, url("/ws?room=1"), c);
  ASSERT_TRUE(test::runUntil(loop, [&] {
    return client.closes == 1 && server.closes == 1 && app->connectionCount() == 0;
  }));
  const std::string binary("binary \0\1\2", 10);
  EXPECT_EQ(server.events,
            (std::vector<std::string>{"open /ws?room=1", "text hello", binary, "close 4000 bye"}));
  EXPECT_EQ(client.events,
            (std::vector<std::string>{"open", "text hello", binary, "close 4000 bye"}));
  test::runFor(loop, 20);
  EXPECT_EQ(server.closes, 1);
  EXPECT_EQ(client.closes, 1);
}

TEST_F(WebSocketTest, ServerCloseRoundTripAndNothingDeliveredAfterIt) {
  WebSocketBehavior behavior = recording();
  behavior.open = [this, open = behavior.open](WebSocket& ws, const Request& r) {
    open(ws, r);
    ws.close(4001, "server bye");
    EXPECT_FALSE(ws.isOpen());
    EXPECT_FALSE(ws.send("after close"));
  };
  makeApp().ws("/ws", behavior);
  listen();
  ClientBehavior c = recordingClient();
  c.open = [this, open = c.open](WebSocket& ws) {
    open(ws);
    ws.send("too late");  // crosses the server's close frame
  };
  connect(loop, url("/ws"), c);
  ASSERT_TRUE(test::runUntil(loop, [&] {
    return client.closes == 1 && server.closes == 1 && app->connectionCount() == 0;
  }));
  EXPECT_EQ(server.messages, 0);
  EXPECT_EQ(server.closeCode, 4001);
  EXPECT_EQ(server.closeReason, "server bye");
  EXPECT_EQ(client.closeCode, 4001);
  EXPECT_EQ(client.closeReason, "server bye");
  EXPECT_EQ(client.messages, 0);
}

TEST_F(WebSocketTest, MessagesAfterCloseAreNotDelivered) {
  WebSocketBehavior behavior = recording();
  behavior.message = [this, message = behavior.message](WebSocket& ws, std::string_view data,
                                                        Opcode opcode) {
    message(ws, data, opcode);
    ws.close(1000, "enough");
    EXPECT_FALSE(ws.send("late"));
  };
  makeApp().ws("/ws", behavior);
  RawPeer peer(listen());
  ASSERT_TRUE(rawUpgrade(peer, "/ws"));
  ASSERT_TRUE(peer.send(test::clientFrame(Opcode::Text, "one") +
                        test::clientFrame(Opcode::Text, "two") +
                        test::clientFrame(Opcode::Binary, "three")));
  std::vector<Frame> frames;
  ASSERT_TRUE(readFrames(peer, frames, test::hasCloseFrame));
  ASSERT_EQ(frames.size(), 1u) << "data sent after close()";
  EXPECT_EQ(frames[0].closeCode(), 1000);
  EXPECT_EQ(frames[0].closeReason(), "enough");
  ASSERT_TRUE(peer.send(test::clientFrame(Opcode::Close, test::closePayload(1000))));
  ASSERT_TRUE(test::runUntil(loop, [&] {
    peer.pump();
    return peer.ended();
  }));
  peer.close();
  ASSERT_TRUE(allGone());
  EXPECT_EQ(server.events, (std::vector<std::string>{"open /ws", "text one", "close 1000 enough"}));
}

enum class Ending { PeerClose, OurClose, Unmasked, BadUtf8, TooBig, Reset, Fin, Terminate };

struct EndingCase {
  const char* name;
  Ending ending;
  uint16_t code;            // what the close handler must get
  const char* reason;       // nullptr: not checked
  uint16_t closeFrameCode;  // what the peer must receive in a close frame; 0: no close frame
  protocol::Error error;    // what ws.error() names in the close handler
};
// Failure messages name the row rather than dumping its bytes.
void PrintTo(const EndingCase& c, std::ostream* os) {
  *os << c.name;
}

class CloseHandlerOnce : public test::ServerFixture,
                         public ::testing::WithParamInterface<EndingCase> {};

TEST_P(CloseHandlerOnce, HowEverTheConnectionEnds) {
  const EndingCase& c = GetParam();
  WebSocketBehavior behavior = recording();
  behavior.maxMessageSize = 16;
  behavior.closeTimeoutSeconds = 1;
  if (c.ending == Ending::OurClose) {
    behavior.open = [open = behavior.open](WebSocket& ws, const Request& r) {
      open(ws, r);
      ws.close(4001, "ours");
    };
  }
  behavior.message = [message = behavior.message](WebSocket& ws, std::string_view data,
                                                  Opcode opcode) {
    message(ws, data, opcode);
    if (data == "terminate") {
      ws.terminate("asked to");
      EXPECT_FALSE(ws.send("after terminate"));
    }
  };
  makeApp().ws("/ws", behavior);
  RawPeer peer(listen());
  ASSERT_TRUE(rawUpgrade(peer, "/ws"));
  ASSERT_TRUE(test::runUntil(loop, [&] { return server.opens == 1; }));

  switch (c.ending) {
    case Ending::PeerClose:
      peer.send(test::clientFrame(Opcode::Close, test::closePayload(1000, "done")));
      break;
    case Ending::OurClose:
      break;
    case Ending::Unmasked:
      peer.send(test::clientFrame(Opcode::Text, "hi", false));
      break;
    case Ending::BadUtf8:
      peer.send(test::clientFrame(Opcode::Text, "\xff\xfe"));
      break;
    case Ending::TooBig:
      peer.send(test::clientFrame(Opcode::Binary, std::string(17, 'x')));
      break;
    case Ending::Reset:
      peer.reset();
      break;
    case Ending::Fin:
      peer.close();
      break;
    case Ending::Terminate:
      peer.send(test::clientFrame(Opcode::Text, "terminate"));
      break;
  }

  if (peer.connected()) {
    // Read until the server ends the connection; answer its close frame as a client would.
    std::vector<Frame> frames;
    bool answered = false;
    ASSERT_TRUE(test::runUntil(loop, [&] {
      peer.pump();
      for (Frame& f : test::takeFrames(peer.received())) frames.push_back(std::move(f));
      if (!answered && test::hasCloseFrame(frames) && c.ending == Ending::OurClose) {
        peer.send(test::clientFrame(Opcode::Close, test::closePayload(4001)));
        answered = true;
      }
      return peer.ended();
    }));
    EXPECT_EQ(peer.endError(), 0) << "the server reset the connection";
    const Frame* close = test::findCloseFrame(frames);
    if (c.closeFrameCode) {
      ASSERT_NE(close, nullptr) << "no close frame before the end";
      EXPECT_EQ(close->closeCode(), c.closeFrameCode);
      EXPECT_EQ(&frames.back(), close) << "frames after the close frame";
    } else {
      EXPECT_EQ(close, nullptr);
    }
    peer.close();
  }
  ASSERT_TRUE(allGone(3000)) << "the server held the connection";
  test::runFor(loop, 20);
  EXPECT_EQ(server.closes, 1);
  EXPECT_EQ(server.closeCode, c.code);
  EXPECT_EQ(server.closeError, c.error) << protocol::errorName(server.closeError);
  if (c.reason) {
    EXPECT_EQ(server.closeReason, c.reason);
  }
  EXPECT_EQ(server.events.back().rfind("close ", 0), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CloseHandlerOnce,
    ::testing::Values(
        EndingCase{"peer_close", Ending::PeerClose, 1000, "done", 1000, protocol::Error::None},
        EndingCase{"our_close", Ending::OurClose, 4001, "ours", 4001, protocol::Error::None},
        EndingCase{"protocol_error", Ending::Unmasked, 1002, "client frame not masked", 1002,
                   protocol::Error::UnmaskedFrameFromClient},
        EndingCase{"invalid_utf8", Ending::BadUtf8, 1007, "invalid UTF-8 in text message", 1007,
                   protocol::Error::InvalidUtf8},
        EndingCase{"message_too_big", Ending::TooBig, 1009, nullptr, 1009,
                   protocol::Error::FrameTooBig},
        EndingCase{"tcp_reset", Ending::Reset, 1006, nullptr, 0, protocol::Error::ConnectionLost},
        EndingCase{"tcp_fin_without_close", Ending::Fin, 1006, nullptr, 0,
                   protocol::Error::ConnectionLost},
        EndingCase{"terminate", Ending::Terminate, 1006, "asked to", 0,
                   protocol::Error::Terminated}),
    test::CaseName());

TEST_F(WebSocketTest, OurCloseThatThePeerNeverAnswersEndsWith1006) {
  // RFC 6455 7.1.5: with no close frame received, the connection's close code is 1006. The
  // close timeout path in WebSocket::onTimeout means to say so ("close timeout"), but
  // setCloseInfo keeps the first cause, the code close() already recorded.
  WebSocketBehavior behavior = recording();
  behavior.closeTimeoutSeconds = 1;
  behavior.open = [open = behavior.open](WebSocket& ws, const Request& r) {
    open(ws, r);
    ws.close(4002, "ours");
  };
  makeApp().ws("/ws", behavior);
  RawPeer peer(listen());
  ASSERT_TRUE(rawUpgrade(peer, "/ws"));
  // The peer reads our close frame but never answers it, nor closes TCP.
  std::vector<Frame> frames;
  ASSERT_TRUE(readFrames(peer, frames, test::hasCloseFrame));
  ASSERT_TRUE(allGone(4000)) << "not dropped after the close timeout";
  EXPECT_EQ(server.closes, 1);
  EXPECT_EQ(server.closeCode, 1006)
      << "BUG: WebSocket::onTimeout (Closing) cannot record 1006 'close timeout': "
         "setCloseInfo keeps the code close() set ("
      << server.closeCode << " " << server.closeReason << ")";
  EXPECT_EQ(server.closeError, protocol::Error::CloseTimeout);
}

TEST_F(WebSocketTest, PingIsAnsweredAndReported) {
  makeApp().ws("/ws", recording());
  RawPeer peer(listen());
  ASSERT_TRUE(rawUpgrade(peer, "/ws"));
  ASSERT_TRUE(peer.send(test::clientFrame(Opcode::Ping, "p1")));
  std::vector<Frame> frames;
  ASSERT_TRUE(readFrames(peer, frames, [](const auto& f) { return !f.empty(); }));
  EXPECT_EQ(frames[0].opcode, 0xA);
  EXPECT_EQ(frames[0].payload, "p1");
  EXPECT_FALSE(frames[0].masked);
  EXPECT_EQ(server.pings, 1);
}

TEST_F(WebSocketTest, FragmentsOutAndInKeepTheirShape) {
  WebSocketBehavior behavior = recording();
  behavior.open = [open = behavior.open](WebSocket& ws, const Request& r) {
    open(ws, r);
    ws.sendFragment("ab", Opcode::Text, false);
    ws.sendFragment("cd", Opcode::Continuation, false);
    ws.sendFragment("ef", Opcode::Continuation, true);
  };
  makeApp().ws("/ws", behavior);
  RawPeer peer(listen());
  ASSERT_TRUE(rawUpgrade(peer, "/ws"));
  std::vector<Frame> frames;
  ASSERT_TRUE(readFrames(peer, frames, [](const auto& f) { return f.size() >= 3; }));
  EXPECT_EQ(frames[0].opcode, 0x1);
  EXPECT_FALSE(frames[0].fin);
  EXPECT_EQ(frames[1].opcode, 0x0);
  EXPECT_FALSE(frames[1].fin);
  EXPECT_EQ(frames[2].opcode, 0x0);
  EXPECT_TRUE(frames[2].fin);
  EXPECT_EQ(frames[0].payload + frames[1].payload + frames[2].payload, "abcdef");

  ASSERT_TRUE(peer.send(test::clientFrame(Opcode::Text, "hel", true, false) +
                        test::clientFrame(Opcode::Continuation, "lo", true, true)));
  ASSERT_TRUE(test::runUntil(loop, [&] { return server.messages == 1; }));
  EXPECT_EQ(server.events.back(), "text hello");
}

TEST_F(WebSocketTest, CloseHandlerMayCallCloseAndTerminateHarmlessly) {
  WebSocketBehavior behavior = recording();
  behavior.close = [close = behavior.close](WebSocket& ws, uint16_t code, std::string_view why) {
    close(ws, code, why);
    ws.close(1000);
    ws.terminate();
    EXPECT_FALSE(ws.send("x"));
  };
  makeApp().ws("/ws", behavior);
  RawPeer peer(listen());
  ASSERT_TRUE(rawUpgrade(peer, "/ws"));
  peer.reset();
  ASSERT_TRUE(allGone());
  test::runFor(loop, 20);
  EXPECT_EQ(server.closes, 1);
  EXPECT_EQ(server.closeCode, 1006);
}

}  // namespace
}  // namespace duplex
