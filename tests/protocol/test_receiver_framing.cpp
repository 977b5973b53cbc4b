// Valid traffic through the Receiver: every opcode, every length encoding at its boundaries,
// fragmentation, interleaved control frames, both roles, compression flags.
#include <gtest/gtest.h>

#include "receiver_harness.h"

namespace duplex::protocol::test {
namespace {

struct ValidCase {
  const char* name;
  std::string stream;
  std::vector<Seen> expected;
  Role role = Role::Server;
  bool compression = false;
};

std::string bytes(size_t n, char c = 'a') {
  return std::string(n, c);
}

std::vector<ValidCase> validCases() {
  std::vector<ValidCase> cases = {
      {"empty text", rawFrame(FIN | TEXT, ""), {message(Opcode::Text, "")}},
      {"empty binary", rawFrame(FIN | BINARY, ""), {message(Opcode::Binary, "")}},
      {"hello", rawFrame(FIN | TEXT, "Hello"), {message(Opcode::Text, "Hello")}},
      {"binary with every byte value",
       rawFrame(FIN | BINARY,
                [] {
                  std::string s;
                  for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
                  return s;
                }()),
       {message(Opcode::Binary,
                [] {
                  std::string s;
                  for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
                  return s;
                }())}},
      {"text utf-8",
       rawFrame(FIN | TEXT, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"),
       {message(Opcode::Text, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")}},
      {"ping", rawFrame(FIN | PING, "are you there"), {ping("are you there")}},
      {"empty ping", rawFrame(FIN | PING, ""), {ping("")}},
      {"ping of 125 bytes", rawFrame(FIN | PING, bytes(125)), {ping(bytes(125))}},
      {"ping payload is binary",
       rawFrame(FIN | PING, std::string("\xff\x00\xfe", 3)),
       {ping(std::string("\xff\x00\xfe", 3))}},
      {"pong", rawFrame(FIN | PONG, "yes"), {pong("yes")}},
      {"close without payload", rawFrame(FIN | CLOSE, ""), {closeEvent(1005)}},
      {"close with code", rawFrame(FIN | CLOSE, closePayload(1000)), {closeEvent(1000)}},
      {"close with code and reason",
       rawFrame(FIN | CLOSE, closePayload(1001, "bye")),
       {closeEvent(1001, "bye")}},
      {"close with application code",
       rawFrame(FIN | CLOSE, closePayload(4999, "\xc3\xa9")),
       {closeEvent(4999, "\xc3\xa9")}},
      {"close with a 123-byte reason",
       rawFrame(FIN | CLOSE, closePayload(3000, bytes(123))),
       {closeEvent(3000, bytes(123))}},
      {"two fragments",
       rawFrame(TEXT, "Hel") + rawFrame(FIN | CONT, "lo"),
       {message(Opcode::Text, "Hello")}},
      {"three binary fragments",
       rawFrame(BINARY, "a") + rawFrame(CONT, "b") + rawFrame(FIN | CONT, "c"),
       {message(Opcode::Binary, "abc")}},
      {"empty fragments",
       rawFrame(TEXT, "") + rawFrame(CONT, "") + rawFrame(FIN | CONT, ""),
       {message(Opcode::Text, "")}},
      {"utf-8 sequence split across fragments",
       rawFrame(TEXT, "\xe2\x82") + rawFrame(FIN | CONT, "\xac"),
       {message(Opcode::Text, "\xe2\x82\xac")}},
      {"ping between fragments",
       rawFrame(TEXT, "frag1") + rawFrame(FIN | PING, "p") + rawFrame(FIN | CONT, "frag2"),
       {ping("p"), message(Opcode::Text, "frag1frag2")}},
      {"pong and close-free control between fragments",
       rawFrame(BINARY, "x") + rawFrame(FIN | PONG, "") + rawFrame(CONT, "y") +
           rawFrame(FIN | PING, "q") + rawFrame(FIN | CONT, "z"),
       {pong(""), ping("q"), message(Opcode::Binary, "xyz")}},
      {"close between fragments",
       rawFrame(TEXT, "a") + rawFrame(FIN | CLOSE, closePayload(1000)),
       {closeEvent(1000)}},
      {"messages back to back",
       rawFrame(FIN | TEXT, "one") + rawFrame(FIN | BINARY, "two") + rawFrame(FIN | TEXT, ""),
       {message(Opcode::Text, "one"), message(Opcode::Binary, "two"), message(Opcode::Text, "")}},
      {"client receives unmasked",
       rawFrame(FIN | TEXT, "hi", Mask::No),
       {message(Opcode::Text, "hi")},
       Role::Client},
      {"client receives unmasked fragments and ping",
       rawFrame(TEXT, "a", Mask::No) + rawFrame(FIN | PING, "p", Mask::No) +
           rawFrame(FIN | CONT, "b", Mask::No),
       {ping("p"), message(Opcode::Text, "ab")},
       Role::Client},
      {"compressed message",
       rawFrame(FIN | RSV1 | BINARY, "\x01\x02"),
       {message(Opcode::Binary, "\x01\x02", true)},
       Role::Server,
       true},
      {"compressed text is not UTF-8 checked here",
       rawFrame(FIN | RSV1 | TEXT, "\xff\xfe"),
       {message(Opcode::Text, "\xff\xfe", true)},
       Role::Server,
       true},
      {"compressed fragmented text",
       rawFrame(RSV1 | TEXT, "\xc3") + rawFrame(FIN | CONT, "\xff"),
       {message(Opcode::Text, "\xc3\xff", true)},
       Role::Server,
       true},
      {"uncompressed message on a compressing connection",
       rawFrame(FIN | TEXT, "plain"),
       {message(Opcode::Text, "plain", false)},
       Role::Server,
       true},
  };
  // RFC 6455 5.2: each length encoding at its boundaries, for text and binary.
  for (size_t n : {size_t{0}, size_t{1}, size_t{125}, size_t{126}, size_t{127}, size_t{65535},
                   size_t{65536}, size_t{70000}}) {
    cases.push_back({"text length boundary",
                     rawFrame(FIN | TEXT, bytes(n, 'x')),
                     {message(Opcode::Text, bytes(n, 'x'))}});
    cases.push_back({"binary length boundary",
                     rawFrame(FIN | BINARY, bytes(n, '\x80')),
                     {message(Opcode::Binary, bytes(n, '\x80'))}});
    cases.push_back({"unmasked length boundary",
                     rawFrame(FIN | BINARY, bytes(n, 'y'), Mask::No),
                     {message(Opcode::Binary, bytes(n, 'y'))},
                     Role::Client});
  }
  return cases;
}

TEST(ReceiverFraming, ValidStreams) {
  for (const ValidCase& c : validCases()) {
    ReceiverConfig config;
    config.role = c.role;
    EXPECT_EQ(feedWhole(c.stream, config, c.compression), c.expected)
        << c.name << " (" << c.stream.size() << " bytes)";
  }
}

TEST(ReceiverFraming, ValidStreamsOneByteAtATime) {
  for (const ValidCase& c : validCases()) {
    if (c.stream.size() > 1000) continue;  // the chunking tests cover big frames
    ReceiverConfig config;
    config.role = c.role;
    Receiver r;
    r.allowCompression(c.compression);
    EXPECT_EQ(feed(r, c.stream, config, [] { return 1; }), c.expected) << c.name;
  }
}

// The length field is exactly as long as the minimal encoding needs.
TEST(ReceiverFraming, LengthBoundariesUseEachEncoding) {
  struct Row {
    size_t length;
    size_t headerSize;  // masked
  };
  const Row rows[] = {{0, 6}, {125, 6}, {126, 8}, {65535, 8}, {65536, 14}};
  for (const Row& row : rows) {
    const std::string f = rawFrame(FIN | BINARY, bytes(row.length));
    EXPECT_EQ(f.size(), row.headerSize + row.length) << row.length;
    EXPECT_EQ(feedWhole(f), std::vector<Seen>{message(Opcode::Binary, bytes(row.length))})
        << row.length;
  }
}

TEST(ReceiverFraming, EventsStopAtEachFrameAndInputIsConsumed) {
  std::string stream = rawFrame(FIN | TEXT, "a") + rawFrame(FIN | PING, "b");
  std::vector<uint8_t> buffer(stream.begin(), stream.end());
  std::span<uint8_t> input(buffer);
  Receiver r;
  const ReceiverConfig config;
  Event e = r.next(input, config);
  EXPECT_EQ(e.kind, Event::Kind::Message);
  EXPECT_EQ(input.size(), 7u);  // the ping is still there
  e = r.next(input, config);
  EXPECT_EQ(e.kind, Event::Kind::Ping);
  EXPECT_TRUE(input.empty());
  e = r.next(input, config);
  EXPECT_EQ(e.kind, Event::Kind::NeedMore);
}

TEST(ReceiverFraming, ResetForgetsPartialStateAndFailure) {
  Receiver r;
  const ReceiverConfig config;
  std::string partial = rawFrame(TEXT, "abc");
  std::vector<uint8_t> buffer(partial.begin(), partial.end());
  std::span<uint8_t> input(buffer);
  EXPECT_EQ(r.next(input, config).kind, Event::Kind::NeedMore);
  EXPECT_GT(r.bufferedBytes(), 0u);
  r.reset();
  EXPECT_EQ(r.bufferedBytes(), 0u);
  // A continuation is now an error (no message open) ...
  EXPECT_EQ(feedWhole(r, rawFrame(FIN | CONT, "x"), config).back().code, 1002);
  // ... and after reset, the failure is gone too.
  r.reset();
  EXPECT_EQ(feedWhole(r, rawFrame(FIN | TEXT, "ok"), config),
            std::vector<Seen>{message(Opcode::Text, "ok")});
}

}  // namespace
}  // namespace duplex::protocol::test
