// protocol::Connection, the RFC 6455 connection without a socket: a table of byte strings in
// and the events, bytes out, phase and close code they must give, for both roles. Every rule
// the server's and the client's WebSocket follow is here, with no network.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "connection_harness.h"
#include "protocol/deflate_codec.h"

namespace duplex::protocol {
namespace {

using namespace test;

// A frame as the client sends it (masked with the harness key) and as the server does.
std::string fromClient(uint8_t b0, std::string_view payload) {
  return rawFrame(b0, payload, Mask::Yes);
}
std::string fromServer(uint8_t b0, std::string_view payload) {
  return rawFrame(b0, payload, Mask::No);
}
// The frame `role` sends (what the sink must hold) and the frame its peer sends.
std::string sent(Role role, uint8_t b0, std::string_view payload) {
  return role == Role::Server ? fromServer(b0, payload) : fromClient(b0, payload);
}
std::string peer(Role role, uint8_t b0, std::string_view payload) {
  return role == Role::Server ? fromClient(b0, payload) : fromServer(b0, payload);
}

// RFC 7692 7.2.1 bytes for `message`, compressed alone.
std::string deflated(std::string_view message) {
  Deflater deflater({.noContextTakeover = true, .zlibOnly = true});
  std::string out;
  EXPECT_TRUE(deflater.compress(message, out));
  return out;
}

std::vector<std::string> bytewise(const std::vector<std::string>& chunks) {
  std::vector<std::string> bytes;
  for (const std::string& chunk : chunks) {
    for (char c : chunk) bytes.emplace_back(1, c);
  }
  return bytes;
}

PerMessageDeflateConfig deflateConfig() {
  PerMessageDeflateConfig config;
  config.minMessageSize = 0;
  return config;
}

Connection openConnection(Role role, const ConnectionLimits& limits, bool compression) {
  Connection c(role);
  if (compression) c.enableCompression(DeflateParams{15, 15, true, true}, deflateConfig());
  c.open(limits);
  return c;
}

struct Case {
  const char* name;
  Role role;
  bool compression;
  std::vector<std::string> input;   // chunks, fed one after the other
  std::vector<std::string> events;  // what receive() reports, in order
  std::string output;               // every byte the connection sent
  Phase phase;
  uint16_t code;  // closeCode(); 1006 while still open
  Error error;
};

std::vector<Case> cases() {
  const std::string hello = "Hello";
  const std::string compressedHello = deflated("hello hello hello");
  const std::string compressedBad = deflated("\xff\xfe text");
  const std::string bomb = deflated(std::string(2 << 20, 'a'));  // 2 MiB, over the 1 MiB limit
  // A 24-byte text frame whose 4th payload byte breaks UTF-8: cut after 10 bytes, it fails
  // before the frame is complete.
  const std::string badText = fromClient(FIN | TEXT, "ok \xff and more text....");
  std::vector<Case> table;
  for (Role role : {Role::Server, Role::Client}) {
    const char* side = role == Role::Server ? "server" : "client";
    (void)side;
    table.push_back({"peer closes first: the code is echoed, the reason is kept",
                     role,
                     false,
                     {peer(role, FIN | CLOSE, closePayload(1001, "restart"))},
                     {"closed"},
                     sent(role, FIN | CLOSE, closePayload(1001)),
                     Phase::Closed,
                     1001,
                     Error::None});
    table.push_back({"an empty close is answered empty and means 1005",
                     role,
                     false,
                     {peer(role, FIN | CLOSE, "")},
                     {"closed"},
                     sent(role, FIN | CLOSE, ""),
                     Phase::Closed,
                     1005,
                     Error::None});
    table.push_back(
        {"a ping between the fragments of a message is answered at once",
         role,
         false,
         {peer(role, TEXT, "Hel"), peer(role, FIN | PING, "p"), peer(role, FIN | CONT, "lo")},
         {"ping p", "message text " + hello},
         sent(role, FIN | PONG, "p"),
         Phase::Open,
         1006,
         Error::None});
    table.push_back({"a ping between fragments, fed byte by byte",
                     role,
                     false,
                     bytewise({peer(role, TEXT, "Hel"), peer(role, FIN | PING, "p"),
                               peer(role, FIN | CONT, "lo")}),
                     {"ping p", "message text " + hello},
                     sent(role, FIN | PONG, "p"),
                     Phase::Open,
                     1006,
                     Error::None});
    table.push_back({"nothing after a close frame is read",
                     role,
                     false,
                     {peer(role, FIN | CLOSE, closePayload(1000)) + peer(role, FIN | TEXT, "late")},
                     {"closed"},
                     sent(role, FIN | CLOSE, closePayload(1000)),
                     Phase::Closed,
                     1000,
                     Error::None});
    table.push_back({"a reserved opcode inside a message fails it with 1002",
                     role,
                     false,
                     {peer(role, TEXT, "a"), peer(role, FIN | 0x3, "")},
                     {"closed"},
                     sent(role, FIN | CLOSE, closePayload(1002, "reserved opcode")),
                     Phase::Closed,
                     1002,
                     Error::BadOpcode});
    table.push_back({"a fragmented control frame fails with 1002",
                     role,
                     false,
                     {peer(role, PING, "x")},
                     {"closed"},
                     sent(role, FIN | CLOSE, closePayload(1002, "fragmented control frame")),
                     Phase::Closed,
                     1002,
                     Error::FragmentedControl});
    table.push_back(
        {"RSV1 without permessage-deflate fails with 1002",
         role,
         false,
         {peer(role, FIN | RSV1 | TEXT, "x")},
         {"closed"},
         sent(role, FIN | CLOSE, closePayload(1002, "RSV1 set but no compression was negotiated")),
         Phase::Closed,
         1002,
         Error::CompressionNotNegotiated});
    table.push_back({"a compressed message is inflated",
                     role,
                     true,
                     {peer(role, FIN | RSV1 | TEXT, compressedHello)},
                     {"message text hello hello hello"},
                     "",
                     Phase::Open,
                     1006,
                     Error::None});
    table.push_back({"a close in the middle of a compressed message ends it cleanly",
                     role,
                     true,
                     {peer(role, RSV1 | TEXT, compressedHello.substr(0, 5)),
                      peer(role, FIN | CLOSE, closePayload(1000))},
                     {"closed"},
                     sent(role, FIN | CLOSE, closePayload(1000)),
                     Phase::Closed,
                     1000,
                     Error::None});
    table.push_back({"UTF-8 is checked after inflating (1007)",
                     role,
                     true,
                     {peer(role, FIN | RSV1 | TEXT, compressedBad)},
                     {"closed"},
                     sent(role, FIN | CLOSE, closePayload(1007, "invalid UTF-8 in text message")),
                     Phase::Closed,
                     1007,
                     Error::InvalidUtf8});
    table.push_back({"data that does not inflate fails with 1007",
                     role,
                     true,
                     {peer(role, FIN | RSV1 | BINARY, "\xff\xff\xff\xff")},
                     {"closed"},
                     sent(role, FIN | CLOSE, closePayload(1007, "cannot inflate message")),
                     Phase::Closed,
                     1007,
                     Error::CorruptCompressedData});
    table.push_back({"a message over the limit once inflated fails with 1009",
                     role,
                     true,
                     {peer(role, FIN | RSV1 | BINARY, bomb)},
                     {"closed"},
                     sent(role, FIN | CLOSE, closePayload(1009, "message too big")),
                     Phase::Closed,
                     1009,
                     Error::MessageTooBig});
  }
  table.push_back({"failure mid-frame: bad UTF-8 fails before the frame is complete",
                   Role::Server,
                   false,
                   {badText.substr(0, 10)},
                   {"closed"},
                   fromServer(FIN | CLOSE, closePayload(1007, "invalid UTF-8 in text message")),
                   Phase::Closed,
                   1007,
                   Error::InvalidUtf8});
  table.push_back({"failure mid-frame: the rest of the frame is not read",
                   Role::Server,
                   false,
                   {badText.substr(0, 10), badText.substr(10) + fromClient(FIN | PING, "p")},
                   {"closed"},
                   fromServer(FIN | CLOSE, closePayload(1007, "invalid UTF-8 in text message")),
                   Phase::Closed,
                   1007,
                   Error::InvalidUtf8});
  table.push_back({"a server's masked frame fails the client with 1002",
                   Role::Client,
                   false,
                   {rawFrame(FIN | TEXT, "hi", Mask::Yes)},
                   {"closed"},
                   fromClient(FIN | CLOSE, closePayload(1002, "server frame masked")),
                   Phase::Closed,
                   1002,
                   Error::MaskedFrameFromServer});
  table.push_back({"a client's unmasked frame fails the server with 1002",
                   Role::Server,
                   false,
                   {rawFrame(FIN | TEXT, "hi", Mask::No)},
                   {"closed"},
                   fromServer(FIN | CLOSE, closePayload(1002, "client frame not masked")),
                   Phase::Closed,
                   1002,
                   Error::UnmaskedFrameFromClient});
  return table;
}

TEST(Connection, ByteTable) {
  const ConnectionLimits limits;
  for (const Case& c : cases()) {
    SCOPED_TRACE(std::string(c.name) + (c.role == Role::Server ? " [server]" : " [client]"));
    Connection connection = openConnection(c.role, limits, c.compression);
    StringSink sink;
    EXPECT_EQ(feed(connection, sink, c.input), c.events);
    EXPECT_EQ(sink.bytes, c.output);
    EXPECT_EQ(connection.phase(), c.phase);
    EXPECT_EQ(connection.closeCode(), c.code);
    EXPECT_EQ(connection.error(), c.error);
  }
}

TEST(Connection, PeerClosesFirstKeepsTheReasonAndEndsTransportByRole) {
  const ConnectionLimits limits;
  for (Role role : {Role::Server, Role::Client}) {
    Connection c = openConnection(role, limits, false);
    StringSink sink;
    EXPECT_EQ(c.takeDeadline(), 120u);  // open: the idle timeout
    feed(c, sink, {peer(role, FIN | CLOSE, closePayload(1000, "bye"))});
    EXPECT_EQ(c.closeReason(), "bye");
    // RFC 6455 7.1.1: the server closes TCP first; the client waits for it, not forever.
    EXPECT_EQ(c.closesTransportFirst(), role == Role::Server);
    EXPECT_EQ(c.takeDeadline(), 5u);
    EXPECT_FALSE(c.send(sink, "x", Opcode::Text));
    c.transportEnded();
    EXPECT_EQ(c.phase(), Phase::Ended);
    EXPECT_EQ(c.closeCode(), 1000);  // a clean close stays clean when TCP ends
    EXPECT_EQ(c.error(), Error::None);
  }
}

TEST(Connection, WeCloseFirstThenWaitForThePeer) {
  const ConnectionLimits limits;
  for (Role role : {Role::Server, Role::Client}) {
    SCOPED_TRACE(role == Role::Server ? "server" : "client");
    Connection c = openConnection(role, limits, false);
    StringSink sink;
    (void)c.takeDeadline();
    c.close(sink, 1000, "done");
    EXPECT_EQ(sink.take(), sent(role, FIN | CLOSE, closePayload(1000, "done")));
    EXPECT_EQ(c.phase(), Phase::Closing);
    EXPECT_EQ(c.takeDeadline(), 5u);  // the close timeout, as a value
    EXPECT_FALSE(c.send(sink, "x", Opcode::Text));
    EXPECT_FALSE(c.ping(sink, "x"));
    c.close(sink, 1001, "again");  // a second close sends nothing
    // Until the peer sees our close it may still send: read, not delivered, pings unanswered,
    // and the deadline does not move.
    EXPECT_TRUE(
        feed(c, sink, {peer(role, FIN | TEXT, "late"), peer(role, FIN | PING, "p")}).empty());
    EXPECT_EQ(sink.take(), "");
    EXPECT_EQ(c.takeDeadline(), std::nullopt);
    EXPECT_EQ(feed(c, sink, {peer(role, FIN | CLOSE, closePayload(1000))}),
              std::vector<std::string>{"closed"});
    EXPECT_EQ(sink.take(), "");  // our close frame is already out
    EXPECT_EQ(c.phase(), Phase::Closed);
    EXPECT_EQ(c.closeCode(), 1000);
    EXPECT_EQ(c.closeReason(), "done");
    EXPECT_EQ(c.error(), Error::None);
  }
}

TEST(Connection, WeCloseDuringCompressionAndIgnoreWhatNoLongerMatters) {
  // After our close, a compressed message that would not even inflate is read past, not
  // inflated: the application asked to stop, and the peer's close still ends it cleanly.
  const ConnectionLimits limits;
  Connection c = openConnection(Role::Server, limits, true);
  StringSink sink;
  c.close(sink, 1001, "going away");
  sink.take();
  EXPECT_EQ(feed(c, sink,
                 {fromClient(FIN | RSV1 | BINARY, "\xff\xff\xff\xff"),
                  fromClient(FIN | CLOSE, closePayload(1001))}),
            std::vector<std::string>{"closed"});
  EXPECT_EQ(c.closeCode(), 1001);
  EXPECT_EQ(c.error(), Error::None);
}

TEST(Connection, SendsCompressedFramesThePeerInflates) {
  ConnectionLimits limits;
  Connection server = openConnection(Role::Server, limits, true);
  Connection client = openConnection(Role::Client, limits, true);
  StringSink toClient, toServer;
  const std::string message(3000, 'z');
  ASSERT_TRUE(server.send(toClient, message, Opcode::Text));
  ASSERT_GT(toClient.bytes.size(), 2u);
  EXPECT_EQ(static_cast<uint8_t>(toClient.bytes[0]), FIN | RSV1 | TEXT);
  EXPECT_LT(toClient.bytes.size(), 100u);
  EXPECT_EQ(feed(client, toServer, {toClient.take()}),
            std::vector<std::string>{"message text " + message});
  ASSERT_TRUE(client.send(toServer, message, Opcode::Binary));
  EXPECT_EQ(static_cast<uint8_t>(toServer.bytes[0]), FIN | RSV1 | BINARY);
  EXPECT_EQ(static_cast<uint8_t>(toServer.bytes[1]) & 0x80, 0x80);  // masked
  EXPECT_EQ(feed(server, toClient, {toServer.take()}),
            std::vector<std::string>{"message binary " + message});
  // Fragments go as they are, never compressed.
  ASSERT_TRUE(server.sendFragment(toClient, "ab", Opcode::Text, false));
  ASSERT_TRUE(server.sendFragment(toClient, "c", Opcode::Continuation, true));
  EXPECT_EQ(toClient.take(), fromServer(TEXT, "ab") + fromServer(FIN | CONT, "c"));
}

TEST(Connection, IdleThenPingThenCloseThenTimeout) {
  ConnectionLimits limits;
  limits.idleTimeoutSeconds = 30;
  limits.closeTimeoutSeconds = 0;  // still a deadline: 1 second
  Connection c = openConnection(Role::Server, limits, false);
  StringSink sink;
  EXPECT_EQ(c.takeDeadline(), 30u);
  c.expire(sink);  // idle: the automatic ping
  EXPECT_EQ(sink.take(), fromServer(FIN | PING, ""));
  EXPECT_EQ(c.takeDeadline(), 30u);
  // Any byte from the peer is a sign of life: the next expiry pings again.
  feed(c, sink, {fromClient(FIN | PONG, "")});
  EXPECT_EQ(c.takeDeadline(), 30u);
  c.expire(sink);
  EXPECT_EQ(sink.take(), fromServer(FIN | PING, ""));
  c.expire(sink);  // no answer to the ping: close 1001
  EXPECT_EQ(sink.take(), fromServer(FIN | CLOSE, closePayload(1001, "idle timeout")));
  EXPECT_EQ(c.phase(), Phase::Closing);
  EXPECT_EQ(c.takeDeadline(), 1u);
  c.expire(sink);  // no answer to the close either
  EXPECT_EQ(c.phase(), Phase::Ended);
  EXPECT_EQ(c.closeCode(), 1006);
  EXPECT_EQ(c.error(), Error::CloseTimeout);
  EXPECT_EQ(c.closeReason(), "idle timeout");  // the first reason given wins
}

TEST(Connection, WithoutAutoPingIdleMeansClose) {
  ConnectionLimits limits;
  limits.autoPing = false;
  Connection c = openConnection(Role::Client, limits, false);
  StringSink sink;
  c.expire(sink);
  EXPECT_EQ(sink.take(), fromClient(FIN | CLOSE, closePayload(1001, "idle timeout")));
  EXPECT_EQ(c.phase(), Phase::Closing);
}

TEST(Connection, ARefusedWriteEndsTheConnection) {
  const ConnectionLimits limits;
  Connection c = openConnection(Role::Server, limits, false);
  StringSink sink;
  sink.refuse = true;
  EXPECT_FALSE(c.send(sink, "x", Opcode::Text));
  EXPECT_EQ(c.phase(), Phase::Ended);
  EXPECT_EQ(c.closeCode(), 1006);
  EXPECT_EQ(c.error(), Error::SendQueueFull);
  EXPECT_EQ(c.closeReason(), "send queue over maxBackpressure");
  // A pong owed to a peer that does not read ends it too.
  Connection d = openConnection(Role::Server, limits, false);
  EXPECT_EQ(feed(d, sink, {fromClient(FIN | PING, "p")}), std::vector<std::string>{"closed"});
  EXPECT_EQ(d.error(), Error::SendQueueFull);
}

TEST(Connection, TransportLostOrAbortedIs1006WithAName) {
  const ConnectionLimits limits;
  Connection lost = openConnection(Role::Client, limits, false);
  lost.transportEnded();
  EXPECT_EQ(lost.phase(), Phase::Ended);
  EXPECT_EQ(lost.closeCode(), 1006);
  EXPECT_EQ(lost.error(), Error::ConnectionLost);
  Connection dropped = openConnection(Role::Server, limits, false);
  dropped.abort(Error::Terminated, "kicked");
  EXPECT_EQ(dropped.closeReason(), "kicked");
  EXPECT_EQ(dropped.error(), Error::Terminated);
  StringSink sink;
  EXPECT_FALSE(dropped.send(sink, "x", Opcode::Text));
  EXPECT_EQ(sink.bytes, "");
}

TEST(Connection, PingPayloadLimit) {
  const ConnectionLimits limits;
  Connection c = openConnection(Role::Server, limits, false);
  StringSink sink;
  EXPECT_FALSE(c.ping(sink, std::string(126, 'p')));  // RFC 6455 5.5
  EXPECT_TRUE(c.ping(sink, std::string(125, 'p')));
  EXPECT_EQ(sink.bytes, fromServer(FIN | PING, std::string(125, 'p')));
}

TEST(ProtocolError, NamesMessagesAndCloseCodes) {
  struct Row {
    Error error;
    std::string_view name;
    uint16_t code;
  };
  const Row rows[] = {
      {Error::None, "None", 1000},
      {Error::MaskedFrameFromServer, "MaskedFrameFromServer", 1002},
      {Error::UnmaskedFrameFromClient, "UnmaskedFrameFromClient", 1002},
      {Error::BadOpcode, "BadOpcode", 1002},
      {Error::FragmentedControl, "FragmentedControl", 1002},
      {Error::InvalidUtf8, "InvalidUtf8", 1007},
      {Error::MessageTooBig, "MessageTooBig", 1009},
      {Error::CorruptCompressedData, "CorruptCompressedData", 1007},
      {Error::InflateNoMemory, "InflateNoMemory", 1011},
      {Error::ConnectionLost, "ConnectionLost", 1006},
      {Error::CloseTimeout, "CloseTimeout", 1006},
      {Error::SendQueueFull, "SendQueueFull", 1006},
      {Error::Terminated, "Terminated", 1006},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(errorName(row.error), row.name);
    EXPECT_EQ(closeCodeFor(row.error), row.code) << row.name;
    // Every message fits a close frame's reason.
    EXPECT_LE(errorMessage(row.error).size(), 123u) << row.name;
  }
}

}  // namespace
}  // namespace duplex::protocol
