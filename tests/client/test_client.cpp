// The client: against our server (echo proves masking, headers, the close handshake) and
// against raw servers for byte-level control (mask keys, refusals, frames behind the 101, a
// masked frame from the server, a server that never closes TCP).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "client/client.h"
#include "protocol/handshake.h"
#include "server_fixture.h"

namespace duplex {
namespace {

using test::Frame;
using test::RawPeer;

// A listening socket of the test's own: accepts without blocking, from a runUntil predicate.
class RawServer {
 public:
  RawServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in address = test::loopbackAddress(0);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(fd_, 16);
    socklen_t length = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~RawServer() { ::close(fd_); }
  uint16_t port() const { return port_; }
  std::string url(std::string_view target = "/") const {
    return "ws://127.0.0.1:" + std::to_string(port_) + std::string(target);
  }
  // The next connection, once there is one.
  bool accept(net::Loop& loop, std::unique_ptr<RawPeer>& peer) {
    return test::runUntil(loop, [&] {
      int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return false;
      peer = std::make_unique<RawPeer>(fd);
      return true;
    });
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

class ClientTest : public test::ServerFixture {
 protected:
  RawServer raw;
  std::unique_ptr<RawPeer> peer;  // the raw server's side of the connection

  // Accepts the client, reads its request head and returns it (empty on failure).
  std::string acceptRequest() {
    if (!raw.accept(loop, peer)) return {};
    std::string head;
    test::runUntil(loop, [&] {
      peer->pump();
      size_t end = peer->received().find("\r\n\r\n");
      if (end == std::string::npos) return peer->ended();
      head = peer->received().substr(0, end + 4);
      peer->received().erase(0, end + 4);
      return true;
    });
    return head;
  }
  static std::string keyOf(const std::string& head) {
    protocol::HttpRequest request;
    protocol::HttpError error;
    if (!protocol::parseRequest(head, request, error)) return {};
    return std::string(request.header("Sec-WebSocket-Key"));
  }
  // Accepts the client and answers its handshake with a proper 101 (plus `after`, same write).
  bool handshake(std::string_view after = {}) {
    std::string head = acceptRequest();
    std::string key = keyOf(head);
    if (key.empty()) return false;
    return peer->send(protocol::writeUpgradeResponse(key) + std::string(after));
  }
  bool readFramesFromClient(std::vector<Frame>& frames,
                            const std::function<bool(const std::vector<Frame>&)>& done) {
    return readFrames(*peer, frames, done);
  }
};

TEST_F(ClientTest, EchoThroughOurServerProvesMaskingAtEveryLengthEncoding) {
  // Our server's Receiver fails an unmasked client frame with 1002, so every echo that comes
  // back was masked (and unmasked) correctly.
  WebSocketBehavior echo;
  echo.maxMessageSize = 1 << 20;
  echo.message = [](WebSocket& ws, std::string_view data, Opcode op) { ws.send(data, op); };
  echo.close = [this](WebSocket&, uint16_t code, std::string_view) { server.closeCode = code; };
  makeApp().ws("/echo", echo);
  listen();
  const std::vector<size_t> sizes = {0, 1, 125, 126, 127, 65535, 65536, 200000};
  // Text messages must be UTF-8: printable bytes for those, arbitrary ones for binary.
  auto payload = [](size_t i, size_t size) {
    return i % 2 ? test::pattern(size, static_cast<uint32_t>(i + 1))
                 : std::string(size, static_cast<char>('a' + i));
  };
  std::vector<std::string> received;
  ClientBehavior c = recordingClient();
  c.open = [&](WebSocket& ws) {
    client.ws = &ws;
    for (size_t i = 0; i < sizes.size(); ++i) {
      ws.send(payload(i, sizes[i]), i % 2 ? Opcode::Binary : Opcode::Text);
    }
  };
  c.message = [&](WebSocket&, std::string_view data, Opcode) { received.emplace_back(data); };
  connect(loop, url("/echo"), c);
  ASSERT_TRUE(
      test::runUntil(loop, [&] { return received.size() == sizes.size() || client.closes > 0; }));
  EXPECT_EQ(client.closes, 0) << "closed with " << client.closeCode << " " << client.closeReason;
  ASSERT_EQ(received.size(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_TRUE(received[i] == payload(i, sizes[i])) << "message of " << sizes[i] << " bytes";
  }
  EXPECT_EQ(server.closeCode, 0);
}

TEST_F(ClientTest, RequestCarriesHostOriginSubprotocolsAndExtraHeaders) {
  std::vector<std::string> seen;
  WebSocketBehavior behavior = recording();
  behavior.accept = [&seen](const Request& r) {
    for (const char* name : {"Host", "Origin", "Sec-WebSocket-Protocol", "X-Test"})
      seen.push_back(std::string(r.header(name)));
    return 0;
  };
  makeApp().ws("/ws", behavior);
  uint16_t port = listen();
  ClientBehavior c = recordingClient();
  c.origin = "http://example.com";
  c.subprotocols = {"a", "b"};
  c.headers = {{"X-Test", "yes"}};
  connect(loop, url("/ws?q=1"), c);
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.opens == 1; }));
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0], "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(seen[1], "http://example.com");
  EXPECT_EQ(seen[2], "a, b");
  EXPECT_EQ(seen[3], "yes");
  EXPECT_EQ(server.events, std::vector<std::string>{"open /ws?q=1"});
}

TEST_F(ClientTest, BothSidesKnowTheSubprotocolTheServerChose) {
  // The server prefers "b"; the client offers "a" first. RFC 6455 4.2.2: the server's order wins.
  std::string serverSaw = "unset";
  WebSocketBehavior behavior = recording();
  behavior.subprotocols = {"b", "a"};
  behavior.open = [&serverSaw](WebSocket& ws, const Request&) {
    serverSaw = std::string(ws.subprotocol());
  };
  makeApp().ws("/ws", behavior);
  listen();
  std::string clientSaw = "unset";
  ClientBehavior c = recordingClient();
  c.subprotocols = {"a", "b"};
  c.open = [&clientSaw](WebSocket& ws) { clientSaw = std::string(ws.subprotocol()); };
  connect(loop, url("/ws"), c);
  ASSERT_TRUE(test::runUntil(loop, [&] { return clientSaw != "unset"; }));
  EXPECT_EQ(clientSaw, "b");
  EXPECT_EQ(serverSaw, "b");
}

TEST_F(ClientTest, NoSubprotocolWhenTheServerPicksNone) {
  makeApp().ws("/ws", recording());  // speaks no subprotocol
  listen();
  std::string clientSaw = "unset";
  ClientBehavior c = recordingClient();
  c.subprotocols = {"a"};
  c.open = [&clientSaw](WebSocket& ws) { clientSaw = std::string(ws.subprotocol()); };
  connect(loop, url("/ws"), c);
  ASSERT_TRUE(test::runUntil(loop, [&] { return clientSaw != "unset"; }));
  EXPECT_EQ(clientSaw, "");
}

TEST_F(ClientTest, SubprotocolWeDidNotOfferFailsTheHandshake) {
  // RFC 6455 4.1: the server answered with a subprotocol that is not among those offered.
  ClientBehavior c = recordingClient();
  c.subprotocols = {"a", "b"};
  connect(loop, raw.url(), c);
  std::string key = keyOf(acceptRequest());
  ASSERT_FALSE(key.empty());
  ASSERT_TRUE(peer->send(protocol::writeUpgradeResponse(key, "c")));
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.errors > 0; }));
  test::runFor(loop, 20);
  EXPECT_EQ(client.events, std::vector<std::string>{"error"});
  EXPECT_NE(client.error.find("'c' was not offered"), std::string::npos) << client.error;
}

TEST_F(ClientTest, ClientCloseHandshakeWithOurServer) {
  makeApp().ws("/ws", recording());
  listen();
  ClientBehavior c = recordingClient();
  c.open = [open = c.open](WebSocket& ws) {
    open(ws);
    ws.close(1000, "done");
    EXPECT_FALSE(ws.send("after close"));
  };
  connect(loop, url("/ws"), c);
  ASSERT_TRUE(test::runUntil(loop, [&] {
    return client.closes == 1 && server.closes == 1 && app->connectionCount() == 0;
  }));
  EXPECT_EQ(server.closeCode, 1000);
  EXPECT_EQ(server.closeReason, "done");
  EXPECT_EQ(server.messages, 0);
  EXPECT_EQ(client.closeCode, 1000);
  test::runFor(loop, 20);
  EXPECT_EQ(client.closes, 1);
}

TEST_F(ClientTest, MaskKeysDifferBetweenFrames) {
  ClientBehavior c = recordingClient();
  c.open = [open = c.open](WebSocket& ws) {
    open(ws);
    for (int i = 0; i < 8; ++i) ws.send("same");
    ws.ping("p");
  };
  connect(loop, raw.url(), c);
  ASSERT_TRUE(handshake());
  std::vector<Frame> frames;
  ASSERT_TRUE(readFramesFromClient(frames, [](const auto& f) { return f.size() >= 9; }));
  std::set<uint32_t> keys;
  for (const Frame& f : frames) {
    EXPECT_TRUE(f.masked) << "an unmasked client frame";
    uint32_t key;
    std::memcpy(&key, f.key, 4);
    keys.insert(key);
  }
  EXPECT_EQ(frames[0].payload, "same");
  EXPECT_EQ(frames[8].opcode, 0x9);
  EXPECT_EQ(frames[8].payload, "p");
  // 32-bit keys from a CSPRNG: nine frames, nine keys (a collision has odds of about 1e-8).
  EXPECT_EQ(keys.size(), frames.size()) << "mask keys repeat between frames";
  EXPECT_EQ(keys.count(0u), 0u);
}

TEST_F(ClientTest, ErrorWhenTheConnectionIsRefused) {
  std::string target = "ws://127.0.0.1:" + std::to_string(test::unusedLoopbackPort()) + "/";
  connect(loop, target, recordingClient());
  EXPECT_EQ(client.errors, 0) << "the error handler ran inside connect()";
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.errors > 0; }));
  test::runFor(loop, 20);
  EXPECT_EQ(client.events, std::vector<std::string>{"error"});
  EXPECT_FALSE(client.error.empty());
}

struct RefusedCase {
  const char* name;
  const char* response;  // "%ACCEPT%" is replaced by the right accept value
  const char* errorMentions;
};
// Failure messages name the row rather than dumping its bytes.
void PrintTo(const RefusedCase& c, std::ostream* os) {
  *os << c.name;
}

class HandshakeRefused : public ClientTest, public ::testing::WithParamInterface<RefusedCase> {};

TEST_P(HandshakeRefused, ErrorAndNoOpen) {
  const RefusedCase& c = GetParam();
  connect(loop, raw.url("/x"), recordingClient());
  std::string head = acceptRequest();
  std::string response = c.response;
  size_t at = response.find("%ACCEPT%");
  if (at != std::string::npos) response.replace(at, 8, protocol::computeAccept(keyOf(head)));
  ASSERT_TRUE(peer->send(response));
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.errors > 0; }));
  test::runFor(loop, 20);
  EXPECT_EQ(client.events, std::vector<std::string>{"error"});
  EXPECT_NE(client.error.find(c.errorMentions), std::string::npos) << client.error;
  // The client hangs up.
  ASSERT_TRUE(test::runUntil(loop, [&] {
    peer->pump();
    return peer->ended();
  }));
}

INSTANTIATE_TEST_SUITE_P(
    Table, HandshakeRefused,
    ::testing::Values(
        RefusedCase{"forbidden", "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", "403"},
        RefusedCase{"ok_not_upgrade", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", "200"},
        RefusedCase{
            "wrong_accept",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
            "Accept"},
        RefusedCase{"subprotocol_not_offered",
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: %ACCEPT%\r\n"
                    "Sec-WebSocket-Protocol: zzz\r\n\r\n",
                    "zzz"},
        RefusedCase{"not_http", "SSH-2.0-OpenSSH_9.2\r\n\r\n", ""}),
    test::CaseName());

TEST_F(ClientTest, ErrorWhenTheServerNeverAnswers) {
  ClientBehavior c = recordingClient();
  c.handshakeTimeoutSeconds = 1;
  connect(loop, raw.url(), c);
  ASSERT_FALSE(acceptRequest().empty());
  ASSERT_TRUE(test::runUntil(
      loop, [&] { return client.errors > 0; }, 4000));
  EXPECT_EQ(client.events, std::vector<std::string>{"error"});
  EXPECT_NE(client.error.find("timed out"), std::string::npos) << client.error;
}

TEST_F(ClientTest, ErrorWhenTheServerHangsUpDuringTheHandshake) {
  connect(loop, raw.url(), recordingClient());
  ASSERT_FALSE(acceptRequest().empty());
  peer->send("HTTP/1.1 101 Switching");
  peer->close();
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.errors > 0; }));
  EXPECT_EQ(client.events, std::vector<std::string>{"error"});
}

TEST_F(ClientTest, FramesInTheSameSegmentAsThe101AreDelivered) {
  connect(loop, raw.url(), recordingClient());
  protocol::FrameHeader header;
  header.payloadSize = 2;
  ASSERT_TRUE(handshake(protocol::buildFrame(header, "hi")));
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.messages == 1; }));
  EXPECT_EQ(client.events, (std::vector<std::string>{"open", "text hi"}));
}

TEST_F(ClientTest, MaskedFrameFromTheServerFailsWith1002) {
  connect(loop, raw.url(), recordingClient());
  ASSERT_TRUE(handshake());
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.opens == 1; }));
  ASSERT_TRUE(peer->send(test::clientFrame(Opcode::Text, "masked")));  // masked, as a client's
  std::vector<Frame> frames;
  ASSERT_TRUE(readFramesFromClient(frames, test::hasCloseFrame));
  const Frame* close = test::findCloseFrame(frames);
  EXPECT_TRUE(close->masked);
  EXPECT_EQ(close->closeCode(), 1002);
  peer->close();  // the server side ends TCP, as RFC 6455 7.1.1 has it
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.closes == 1; }));
  EXPECT_EQ(client.closeCode, 1002);
  EXPECT_EQ(client.closeReason, "server frame masked");
  EXPECT_EQ(client.closeError, protocol::Error::MaskedFrameFromServer);
  EXPECT_EQ(client.messages, 0);
}

TEST_F(ClientTest, ServerInitiatedCloseIsAnsweredAndReported) {
  connect(loop, raw.url(), recordingClient());
  ASSERT_TRUE(handshake());
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.opens == 1; }));
  protocol::FrameHeader header;
  header.opcode = Opcode::Close;
  std::string payload = test::closePayload(1001, "bye");
  header.payloadSize = payload.size();
  ASSERT_TRUE(peer->send(protocol::buildFrame(header, payload)));
  std::vector<Frame> frames;
  ASSERT_TRUE(readFramesFromClient(frames, test::hasCloseFrame));
  EXPECT_EQ(test::findCloseFrame(frames)->closeCode(), 1001);
  EXPECT_EQ(client.closes, 0) << "reported before TCP ended";
  peer->close();
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.closes == 1; }));
  EXPECT_EQ(client.closeCode, 1001);
  EXPECT_EQ(client.closeReason, "bye");
  EXPECT_EQ(client.closeError, protocol::Error::None);
}

TEST_F(ClientTest, ClientDoesNotWaitForeverForTheServerToCloseTcp) {
  ClientBehavior c = recordingClient();
  c.closeTimeoutSeconds = 1;
  c.open = [open = c.open](WebSocket& ws) {
    open(ws);
    ws.close(1000, "bye");
  };
  connect(loop, raw.url(), c);
  ASSERT_TRUE(handshake());
  std::vector<Frame> frames;
  ASSERT_TRUE(readFramesFromClient(frames, test::hasCloseFrame));
  // Answer the close, but keep TCP open.
  protocol::FrameHeader header;
  header.opcode = Opcode::Close;
  header.payloadSize = 2;
  ASSERT_TRUE(peer->send(protocol::buildFrame(header, test::closePayload(1000))));
  ASSERT_TRUE(test::runUntil(
      loop, [&] { return client.closes == 1; }, 4000));
  EXPECT_EQ(client.closeCode, 1000);
  EXPECT_EQ(client.closeReason, "bye");
  EXPECT_EQ(client.closeError, protocol::Error::None);  // the handshake was clean
}

TEST_F(ClientTest, DefaultLimitsAreTheServers) {
  // One ConnectionLimits, one set of defaults, for a route and a client.
  const ClientBehavior c;
  const WebSocketBehavior route;
  EXPECT_EQ(c.maxMessageSize, route.maxMessageSize);
  EXPECT_EQ(c.maxMessageSize, 1u << 20);
  EXPECT_EQ(c.maxFrameSize, route.maxFrameSize);
  EXPECT_EQ(c.maxBackpressure, route.maxBackpressure);
  EXPECT_EQ(c.idleTimeoutSeconds, route.idleTimeoutSeconds);
  EXPECT_EQ(c.autoPing, route.autoPing);
  EXPECT_EQ(c.closeTimeoutSeconds, route.closeTimeoutSeconds);
}

TEST_F(ClientTest, AMessageOverTheClientsLimitFailsWith1009) {
  ClientBehavior c = recordingClient();
  c.maxMessageSize = 100;
  connect(loop, raw.url(), c);
  ASSERT_TRUE(handshake());
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.opens == 1; }));
  protocol::FrameHeader header;
  header.opcode = Opcode::Binary;
  header.payloadSize = 101;
  ASSERT_TRUE(peer->send(protocol::buildFrame(header, std::string(101, 'x'))));
  std::vector<Frame> frames;
  ASSERT_TRUE(readFramesFromClient(frames, test::hasCloseFrame));
  EXPECT_EQ(test::findCloseFrame(frames)->closeCode(), 1009);
  peer->close();
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.closes == 1; }));
  EXPECT_EQ(client.closeError, protocol::Error::FrameTooBig);
  EXPECT_EQ(client.messages, 0);
}

TEST_F(ClientTest, ErrorWhenTheResponseHeadNeverEnds) {
  connect(loop, raw.url(), recordingClient());
  ASSERT_FALSE(acceptRequest().empty());
  std::string endless = "HTTP/1.1 101 Switching Protocols\r\n";
  while (endless.size() < 20 * 1024) endless += "X-Junk: " + std::string(100, 'j') + "\r\n";
  ASSERT_TRUE(peer->send(endless));
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.errors > 0; }));
  EXPECT_EQ(client.events, std::vector<std::string>{"error"});
}

}  // namespace
}  // namespace duplex
