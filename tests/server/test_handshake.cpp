// The opening handshake as the server answers it, over raw sockets: 101 and the accept value,
// subprotocol choice, the accept hook, and the refusals (404, 426, 431, ...).
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "server_fixture.h"

namespace duplex {
namespace {

using test::HttpReply;
using test::RawPeer;

class Handshake : public test::ServerFixture {};

TEST_F(Handshake, Answers101WithTheAcceptValue) {
  makeApp().ws("/ws", recording());
  RawPeer peer(listen());
  HttpReply reply;
  ASSERT_TRUE(exchange(peer, test::upgradeRequest("/ws?room=7"), reply, true));
  EXPECT_EQ(reply.status, 101);
  EXPECT_TRUE(protocol::hasToken(reply.header("Upgrade"), "websocket"));
  EXPECT_TRUE(protocol::hasToken(reply.header("Connection"), "upgrade"));
  EXPECT_EQ(reply.header("Sec-WebSocket-Accept"), test::kSampleAccept);
  EXPECT_FALSE(reply.has("Sec-WebSocket-Protocol"));
  ASSERT_TRUE(test::runUntil(loop, [&] { return server.opens == 1; }));
  EXPECT_EQ(server.events, std::vector<std::string>{"open /ws?room=7"});
}

TEST_F(Handshake, FramesSentWithTheRequestAreNotLost) {
  // A client may send its first frame right behind the head, in the same segment.
  makeApp().ws("/ws", recording());
  RawPeer peer(listen());
  ASSERT_TRUE(peer.send(test::upgradeRequest("/ws") + test::clientFrame(Opcode::Text, "early")));
  ASSERT_TRUE(test::runUntil(loop, [&] { return server.messages == 1; }));
  EXPECT_EQ(server.events, (std::vector<std::string>{"open /ws", "text early"}));
}

struct ProtocolCase {
  const char* name;
  const char* offered;  // Sec-WebSocket-Protocol sent by the client; nullptr for none
  const char* chosen;   // "" for none
};
// Failure messages name the row rather than dumping its bytes.
void PrintTo(const ProtocolCase& c, std::ostream* os) {
  *os << c.name;
}

class SubprotocolTable : public test::ServerFixture,
                         public ::testing::WithParamInterface<ProtocolCase> {};

TEST_P(SubprotocolTable, OurPreferenceAmongWhatTheClientOffers) {
  const ProtocolCase& c = GetParam();
  WebSocketBehavior behavior = recording();
  behavior.subprotocols = {"chat.v2", "chat.v1"};
  makeApp().ws("/ws", behavior);
  RawPeer peer(listen());
  std::string extra = c.offered ? std::string("Sec-WebSocket-Protocol: ") + c.offered + "\r\n" : "";
  HttpReply reply;
  ASSERT_TRUE(exchange(peer, test::upgradeRequest("/ws", extra), reply, true));
  EXPECT_EQ(reply.status, 101);
  EXPECT_EQ(reply.header("Sec-WebSocket-Protocol"), c.chosen);
  EXPECT_EQ(reply.has("Sec-WebSocket-Protocol"), std::string(c.chosen) != "");
  ASSERT_TRUE(test::runUntil(loop, [&] { return server.opens == 1; }));
  EXPECT_EQ(server.subprotocol, c.chosen);
}

INSTANTIATE_TEST_SUITE_P(Table, SubprotocolTable,
                         ::testing::Values(ProtocolCase{"client_order_differs", "chat.v1, chat.v2",
                                                        "chat.v2"},
                                           ProtocolCase{"only_second_choice", "chat.v1", "chat.v1"},
                                           ProtocolCase{"unknown_first", "x.y, chat.v1", "chat.v1"},
                                           ProtocolCase{"none_we_speak", "x.y, z", ""},
                                           ProtocolCase{"none_offered", nullptr, ""},
                                           ProtocolCase{"no_spaces", "chat.v1,chat.v2", "chat.v2"}),
                         test::CaseName());

TEST_F(Handshake, SubprotocolsOfferedOnSeveralHeaderLines) {
  WebSocketBehavior behavior = recording();
  behavior.subprotocols = {"b", "a"};
  makeApp().ws("/ws", behavior);
  RawPeer peer(listen());
  HttpReply reply;
  ASSERT_TRUE(exchange(
      peer,
      test::upgradeRequest("/ws", "Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\n"),
      reply, true));
  EXPECT_EQ(reply.status, 101);
  EXPECT_EQ(reply.header("Sec-WebSocket-Protocol"), "b");
}

TEST_F(Handshake, AcceptHookRefusesWithItsStatus) {
  WebSocketBehavior behavior = recording();
  std::vector<std::string> seen;
  behavior.accept = [&seen](const Request& request) {
    seen.push_back(std::string(request.path()) + " " + std::string(request.header("X-Token")));
    EXPECT_EQ(request.remoteAddress().rfind("127.0.0.1:", 0), 0u) << request.remoteAddress();
    return request.header("X-Token") == "good" ? 0 : 403;
  };
  makeApp().ws("/ws", behavior);
  uint16_t port = listen();

  RawPeer refused(port);
  HttpReply reply;
  ASSERT_TRUE(exchange(refused, test::upgradeRequest("/ws", "X-Token: bad\r\n"), reply));
  EXPECT_EQ(reply.status, 403);
  EXPECT_FALSE(reply.has("Sec-WebSocket-Accept"));
  // The refusal ends the connection: the client reads the answer, then EOF.
  ASSERT_TRUE(test::runUntil(loop, [&] {
    refused.pump();
    return refused.ended();
  }));
  EXPECT_EQ(refused.endError(), 0);

  RawPeer accepted(port);
  ASSERT_TRUE(rawUpgrade(accepted, "/ws", "X-Token: good\r\n"));
  ASSERT_TRUE(test::runUntil(loop, [&] { return server.opens == 1; }));
  EXPECT_EQ(seen, (std::vector<std::string>{"/ws bad", "/ws good"}));
  EXPECT_EQ(server.opens, 1);
  EXPECT_EQ(server.closes, 0);
}

TEST_F(Handshake, PlainGetOnAWebSocketRouteIs426) {
  makeApp().ws("/ws", recording());
  RawPeer peer(listen());
  HttpReply reply;
  ASSERT_TRUE(exchange(peer, test::getRequest("/ws"), reply));
  EXPECT_EQ(reply.status, 426);
  EXPECT_TRUE(protocol::hasToken(reply.header("Upgrade"), "websocket")) << reply.header("Upgrade");
  EXPECT_EQ(server.opens, 0);
}

struct RefusalCase {
  const char* name;
  std::string request;
  int status;
  const char* header;  // a header the refusal must carry (nullptr: none checked)
};
// Failure messages name the row rather than dumping its bytes.
void PrintTo(const RefusalCase& c, std::ostream* os) {
  *os << c.name;
}

class RefusalTable : public test::ServerFixture,
                     public ::testing::WithParamInterface<RefusalCase> {};

TEST_P(RefusalTable, AnswersWithTheRightStatus) {
  makeApp().ws("/ws", recording());
  RawPeer peer(listen());
  HttpReply reply;
  ASSERT_TRUE(exchange(peer, GetParam().request, reply));
  EXPECT_EQ(reply.status, GetParam().status) << reply.body;
  if (GetParam().header) {
    EXPECT_TRUE(reply.has(GetParam().header));
  }
  EXPECT_EQ(server.opens, 0);
}

std::string withoutHeader(const std::string& name) {
  std::string r = test::upgradeRequest("/ws");
  size_t at = r.find(name + ":");
  return r.erase(at, r.find("\r\n", at) + 2 - at);
}

std::string replaced(const std::string& from, const std::string& to) {
  std::string r = test::upgradeRequest("/ws");
  return r.replace(r.find(from), from.size(), to);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RefusalTable,
    ::testing::Values(
        RefusalCase{"unknown_path", test::upgradeRequest("/nope"), 404, nullptr},
        RefusalCase{"wrong_version", replaced("Version: 13", "Version: 8"), 426,
                    "Sec-WebSocket-Version"},
        RefusalCase{"short_key", replaced(std::string(test::kSampleKey), "c2hvcnQ="), 400, nullptr},
        RefusalCase{"no_key", withoutHeader("Sec-WebSocket-Key"), 400, nullptr},
        RefusalCase{"no_connection_upgrade", withoutHeader("Connection"), 400, nullptr},
        RefusalCase{"post", "POST /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n", 405,
                    "Allow"},
        RefusalCase{"garbage", "HELLO\r\n\r\n", 400, nullptr}),
    test::CaseName());

// Sends `head` in `pieces` writes, each after the server has read the previous one.
bool sendInPieces(net::Loop& loop, RawPeer& peer, const std::string& head, size_t pieces) {
  size_t step = (head.size() + pieces - 1) / pieces;
  for (size_t at = 0; at < head.size(); at += step) {
    if (!peer.send(head.substr(at, step))) return false;
    // Two iterations: one may be the accept, the next reads what arrived.
    test::runOnce(loop);
    test::runOnce(loop);
    peer.pump();
    if (peer.ended()) break;
  }
  return true;
}

std::string paddedUpgrade(size_t headSize) {
  std::string base = test::upgradeRequest("/ws");
  std::string pad = "X-Pad: ";
  size_t want = headSize - base.size() - pad.size() - 2;
  return test::upgradeRequest("/ws", pad + std::string(want, 'p') + "\r\n");
}

TEST_F(Handshake, HeadOverEightKiBSplitAcrossWritesIs431) {
  makeApp().ws("/ws", recording());
  RawPeer peer(listen());
  std::string head = paddedUpgrade(9 * 1024);
  ASSERT_EQ(head.size(), 9u * 1024);
  ASSERT_TRUE(sendInPieces(loop, peer, head, 4));
  HttpReply reply;
  ASSERT_TRUE(readReply(peer, reply));
  EXPECT_EQ(reply.status, 431);
  EXPECT_EQ(server.opens, 0);
}

TEST_F(Handshake, HeadOverEightKiBInOneWriteIs431) {
  makeApp().ws("/ws", recording());
  RawPeer peer(listen());
  HttpReply reply;
  ASSERT_TRUE(exchange(peer, paddedUpgrade(9 * 1024), reply));
  EXPECT_EQ(reply.status, 431);
}

TEST_F(Handshake, HeadJustUnderTheLimitSplitAcrossWritesIsAccepted) {
  makeApp().ws("/ws", recording());
  RawPeer peer(listen());
  std::string head = paddedUpgrade(8 * 1024 - 16);
  ASSERT_TRUE(sendInPieces(loop, peer, head, 5));
  HttpReply reply;
  ASSERT_TRUE(readReply(peer, reply, true));
  EXPECT_EQ(reply.status, 101);
}

TEST_F(Handshake, TerminatorSplitBetweenWrites) {
  makeApp().ws("/ws", recording());
  RawPeer peer(listen());
  std::string head = test::upgradeRequest("/ws");
  ASSERT_TRUE(peer.send(head.substr(0, head.size() - 3)));
  test::runOnce(loop);
  test::runOnce(loop);
  ASSERT_TRUE(peer.send(head.substr(head.size() - 3) + test::clientFrame(Opcode::Text, "hi")));
  ASSERT_TRUE(test::runUntil(loop, [&] { return server.messages == 1; }));
  EXPECT_EQ(server.events, (std::vector<std::string>{"open /ws", "text hi"}));
}

TEST_F(Handshake, ClientHandshakeThroughTheLibraryClient) {
  WebSocketBehavior behavior = recording();
  behavior.subprotocols = {"v2", "v1"};
  makeApp().ws("/ws", behavior);
  listen();
  ClientBehavior c = recordingClient();
  c.subprotocols = {"v1", "v2"};
  connect(loop, url("/ws?x=1"), c);
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.opens == 1 && server.opens == 1; }));
  EXPECT_EQ(server.subprotocol, "v2");
  EXPECT_EQ(server.events, std::vector<std::string>{"open /ws?x=1"});
  EXPECT_EQ(client.errors, 0);
}

}  // namespace
}  // namespace duplex
