// Every way a peer can break RFC 6455, one table row each, with the close code it must earn.
#include <gtest/gtest.h>

#include "receiver_harness.h"

namespace duplex::protocol::test {
namespace {

struct ErrorCase {
  const char* name;
  std::string stream;
  uint16_t code;
  Role role = Role::Server;
  bool compression = false;
  uint64_t maxFrame = 1 << 20;
  uint64_t maxMessage = 1 << 20;
};

std::vector<ErrorCase> errorCases() {
  const std::string open = rawFrame(TEXT, "a");  // opens a fragmented message
  return {
      // Reserved bits (RFC 6455 5.2, RFC 7692 6).
      {"RSV2", rawFrame(FIN | RSV2 | TEXT, "x"), 1002},
      {"RSV3", rawFrame(FIN | RSV3 | TEXT, "x"), 1002},
      {"RSV2 even with compression", rawFrame(FIN | RSV2 | TEXT, "x"), 1002, Role::Server, true},
      {"RSV3 on a ping", rawFrame(FIN | RSV3 | PING, ""), 1002},
      {"RSV1 without compression", rawFrame(FIN | RSV1 | TEXT, "x"), 1002},
      {"RSV1 on a continuation", rawFrame(TEXT, "a") + rawFrame(FIN | RSV1 | CONT, "b"), 1002,
       Role::Server, true},
      {"RSV1 on a ping", rawFrame(FIN | RSV1 | PING, ""), 1002, Role::Server, true},
      {"RSV1 on a close", rawFrame(FIN | RSV1 | CLOSE, ""), 1002, Role::Server, true},
      // Reserved opcodes.
      {"opcode 3", rawFrame(FIN | 0x3, ""), 1002},
      {"opcode 4", rawFrame(FIN | 0x4, ""), 1002},
      {"opcode 5", rawFrame(FIN | 0x5, "x"), 1002},
      {"opcode 6", rawFrame(FIN | 0x6, ""), 1002},
      {"opcode 7", rawFrame(FIN | 0x7, ""), 1002},
      {"opcode B", rawFrame(FIN | 0xB, ""), 1002},
      {"opcode C", rawFrame(FIN | 0xC, ""), 1002},
      {"opcode D", rawFrame(FIN | 0xD, ""), 1002},
      {"opcode E", rawFrame(FIN | 0xE, ""), 1002},
      {"opcode F", rawFrame(FIN | 0xF, "x"), 1002},
      {"reserved opcode after a valid message",
       rawFrame(FIN | TEXT, "ok") + rawFrame(FIN | 0x3, ""), 1002},
      // Control frames (RFC 6455 5.5).
      {"fragmented ping", rawFrame(PING, ""), 1002},
      {"fragmented close", rawFrame(CLOSE, ""), 1002},
      {"ping of 126 bytes", rawFrame(FIN | PING, std::string(126, 'p')), 1002},
      {"pong of 126 bytes", rawFrame(FIN | PONG, std::string(126, 'p')), 1002},
      {"close of 126 bytes", rawFrame(FIN | CLOSE, closePayload(1000, std::string(124, 'r'))),
       1002},
      {"ping with 16-bit length of 5", rawFrame(FIN | PING, "hello", Mask::Yes, Length::Force16),
       1002},
      // Masking (RFC 6455 5.1).
      {"server gets an unmasked frame", rawFrame(FIN | TEXT, "x", Mask::No), 1002},
      {"server gets an unmasked ping", rawFrame(FIN | PING, "", Mask::No), 1002},
      {"client gets a masked frame", rawFrame(FIN | TEXT, "x"), 1002, Role::Client},
      {"client gets a masked close", rawFrame(FIN | CLOSE, ""), 1002, Role::Client},
      // Length encoding (RFC 6455 5.2: "the minimal number of bytes MUST be used").
      {"16-bit length of 0", rawFrame(FIN | BINARY, "", Mask::Yes, Length::Force16), 1002},
      {"16-bit length of 125",
       rawFrame(FIN | BINARY, std::string(125, 'x'), Mask::Yes, Length::Force16), 1002},
      {"64-bit length of 125",
       rawFrame(FIN | BINARY, std::string(125, 'x'), Mask::Yes, Length::Force64), 1002},
      {"64-bit length of 65535",
       rawFrame(FIN | BINARY, std::string(65535, 'x'), Mask::Yes, Length::Force64), 1002},
      {"64-bit length with the top bit set", rawHeader(FIN | BINARY, uint64_t{1} << 63), 1002,
       Role::Server, false, UINT64_MAX, UINT64_MAX},
      {"64-bit length of all ones", rawHeader(FIN | BINARY, UINT64_MAX), 1002, Role::Server, false,
       UINT64_MAX, UINT64_MAX},
      // Fragmentation (RFC 6455 5.4).
      {"continuation without a message", rawFrame(FIN | CONT, "x"), 1002},
      {"unfinished continuation without a message", rawFrame(CONT, "x"), 1002},
      {"continuation after a finished message",
       rawFrame(FIN | TEXT, "a") + rawFrame(FIN | CONT, "b"), 1002},
      {"text while a message is open", open + rawFrame(FIN | TEXT, "b"), 1002},
      {"binary while a message is open", open + rawFrame(BINARY, "b"), 1002},
      // Size limits (1009), decided from the declared length.
      {"frame over maxFrameSize", rawFrame(FIN | BINARY, std::string(101, 'x')), 1009, Role::Server,
       false, 100, 1000},
      {"frame at maxFrameSize passes, next over it fails",
       rawFrame(FIN | BINARY, std::string(100, 'x')) +
           rawFrame(FIN | BINARY, std::string(101, 'x')),
       1009, Role::Server, false, 100, 1000},
      {"message over maxMessageSize in one frame", rawFrame(FIN | BINARY, std::string(11, 'x')),
       1009, Role::Server, false, 100, 10},
      {"message over maxMessageSize across fragments",
       rawFrame(BINARY, std::string(6, 'x')) + rawFrame(FIN | CONT, std::string(5, 'x')), 1009,
       Role::Server, false, 100, 10},
      {"message over maxMessageSize in the third fragment",
       rawFrame(TEXT, "abcd") + rawFrame(CONT, "efgh") + rawFrame(FIN | CONT, "ijk"), 1009,
       Role::Server, false, 100, 10},
      {"huge declared frame", rawHeader(FIN | BINARY, uint64_t{1} << 40), 1009},
      // UTF-8 of text messages (RFC 6455 8.1).
      {"invalid byte", rawFrame(FIN | TEXT, "ab\xff"), 1007},
      {"overlong", rawFrame(FIN | TEXT, "\xc0\xaf"), 1007},
      {"surrogate", rawFrame(FIN | TEXT, "\xed\xa0\x80"), 1007},
      {"above U+10FFFF", rawFrame(FIN | TEXT, "\xf4\x90\x80\x80"), 1007},
      {"truncated at the end of an unfragmented message", rawFrame(FIN | TEXT, "ok\xe2\x82"), 1007},
      {"truncated at the end of a fragmented message",
       rawFrame(TEXT, "ok") + rawFrame(FIN | CONT, "\xf0\x9f\x98"), 1007},
      {"invalid in a later fragment", rawFrame(TEXT, "ok") + rawFrame(FIN | CONT, "\x80"), 1007},
      {"invalid across fragments", rawFrame(TEXT, "\xce") + rawFrame(FIN | CONT, "\x41"), 1007},
      {"invalid even when unfinished", rawFrame(TEXT, "\xed\xbf"), 1007},
      {"invalid uncompressed text on a compressing connection", rawFrame(FIN | TEXT, "\xff"), 1007,
       Role::Server, true},
      // Close payloads (RFC 6455 5.5.1, 7.4).
      {"close with 1 byte", rawFrame(FIN | CLOSE, "\x03"), 1002},
      {"close code 0", rawFrame(FIN | CLOSE, closePayload(0)), 1002},
      {"close code 999", rawFrame(FIN | CLOSE, closePayload(999)), 1002},
      {"close code 1004", rawFrame(FIN | CLOSE, closePayload(1004)), 1002},
      {"close code 1005", rawFrame(FIN | CLOSE, closePayload(1005)), 1002},
      {"close code 1006", rawFrame(FIN | CLOSE, closePayload(1006)), 1002},
      {"close code 1015", rawFrame(FIN | CLOSE, closePayload(1015)), 1002},
      {"close code 1016", rawFrame(FIN | CLOSE, closePayload(1016)), 1002},
      {"close code 2999", rawFrame(FIN | CLOSE, closePayload(2999)), 1002},
      {"close code 5000", rawFrame(FIN | CLOSE, closePayload(5000)), 1002},
      {"close code 65535", rawFrame(FIN | CLOSE, closePayload(65535)), 1002},
      {"close reason not UTF-8", rawFrame(FIN | CLOSE, closePayload(1000, "\xce\xba\xff")), 1007},
      {"close reason truncated UTF-8", rawFrame(FIN | CLOSE, closePayload(1000, "\xce")), 1007},
  };
}

void expectError(const ErrorCase& c, const std::vector<Seen>& seen, const char* how) {
  ASSERT_FALSE(seen.empty()) << c.name << " " << how;
  EXPECT_EQ(seen.back().kind, Event::Kind::Error) << c.name << " " << how;
  EXPECT_EQ(seen.back().code, c.code) << c.name << " " << how;
}

ReceiverConfig configFor(const ErrorCase& c) {
  ReceiverConfig config;
  config.role = c.role;
  config.maxFrameSize = c.maxFrame;
  config.maxMessageSize = c.maxMessage;
  return config;
}

TEST(ReceiverErrors, EachViolationGetsItsCloseCode) {
  for (const ErrorCase& c : errorCases()) {
    Receiver r;
    r.allowCompression(c.compression);
    expectError(c, feedWhole(r, c.stream, configFor(c)), "whole");
  }
}

TEST(ReceiverErrors, SameVerdictWhenFedByteByByte) {
  for (const ErrorCase& c : errorCases()) {
    if (c.stream.size() > 1000) continue;
    Receiver r;
    r.allowCompression(c.compression);
    expectError(c, feed(r, c.stream, configFor(c), [] { return 1; }), "byte by byte");
  }
}

TEST(ReceiverErrors, ErrorIsStickyAndConsumesNothing) {
  Receiver r;
  const ReceiverConfig config;
  std::string stream = rawFrame(FIN | 0x3, "") + rawFrame(FIN | TEXT, "after");
  std::vector<uint8_t> buffer(stream.begin(), stream.end());
  std::span<uint8_t> input(buffer);
  const Event first = r.next(input, config);
  ASSERT_EQ(first.kind, Event::Kind::Error);
  EXPECT_EQ(first.code, 1002);
  EXPECT_FALSE(first.payload.empty());
  EXPECT_LE(first.payload.size(), 123u);  // usable as a close reason
  const size_t left = input.size();
  for (int i = 0; i < 3; ++i) {
    const Event again = r.next(input, config);
    EXPECT_EQ(again.kind, Event::Kind::Error);
    EXPECT_EQ(again.code, 1002);
    EXPECT_EQ(again.payload, first.payload);
    EXPECT_EQ(input.size(), left);
  }
  EXPECT_EQ(r.bufferedBytes(), 0u);
}

// The header alone decides: no payload byte has to arrive (or be buffered) for a frame or a
// message that is too big, so a peer cannot make us collect data we will refuse anyway.
TEST(ReceiverErrors, SizeLimitsFailOnTheHeaderAlone) {
  struct Row {
    const char* name;
    std::string head;  // frames before, then only the header of the offending frame
    uint16_t code;
  };
  const Row rows[] = {
      {"frame", rawHeader(FIN | BINARY, 101), 1009},
      {"64-bit frame", rawHeader(FIN | BINARY, 16u << 20), 1009},
      {"message", rawFrame(BINARY, std::string(90, 'x')) + rawHeader(FIN | CONT, 90), 1009},
  };
  for (const Row& row : rows) {
    ReceiverConfig config;
    config.maxFrameSize = 100;
    config.maxMessageSize = 150;
    Receiver r;
    const auto seen = feedWhole(r, row.head, config);
    ASSERT_FALSE(seen.empty()) << row.name;
    EXPECT_EQ(seen.back().kind, Event::Kind::Error) << row.name;
    EXPECT_EQ(seen.back().code, row.code) << row.name;
  }
}

// Fail fast (RFC 6455 8.1, Autobahn 6.4.*): the first impossible byte fails the connection
// even though the rest of its frame has not arrived.
TEST(ReceiverErrors, InvalidUtf8FailsInsideAPartialFrame) {
  struct Row {
    const char* name;
    std::string stream;  // complete frames, then the start of a frame
  };
  const std::string full = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80hello";
  const Row rows[] = {
      {"unfragmented", rawFrame(FIN | TEXT, full).substr(0, 6 + 14)},
      {"first fragment", rawFrame(TEXT, full).substr(0, 6 + 14)},
      {"continuation", rawFrame(TEXT, "ok") + rawFrame(FIN | CONT, full).substr(0, 6 + 14)},
      {"impossible lead byte", rawFrame(FIN | TEXT, "abc\xf8xxxxxxxxxxxxxxxxx").substr(0, 6 + 4)},
  };
  for (const Row& row : rows) {
    Receiver r;
    const ReceiverConfig config;
    const auto seen = feedWhole(r, row.stream, config);
    ASSERT_FALSE(seen.empty()) << row.name;
    EXPECT_EQ(seen.back().kind, Event::Kind::Error) << row.name;
    EXPECT_EQ(seen.back().code, 1007) << row.name;
  }
  // And byte by byte, the error comes at exactly the impossible byte (the 13th payload byte,
  // the A0 after ED), not before and not at the end of the frame.
  const std::string frame = rawFrame(FIN | TEXT, full);
  Receiver r;
  const ReceiverConfig config;
  size_t fed = 0;
  bool failed = false;
  for (; fed < frame.size() && !failed; ++fed) {
    std::vector<uint8_t> one{static_cast<uint8_t>(frame[fed])};
    std::span<uint8_t> input(one);
    failed = r.next(input, config).kind == Event::Kind::Error;
  }
  EXPECT_TRUE(failed);
  EXPECT_EQ(fed, 6u + 13u);
}

TEST(ReceiverErrors, RejectsBeforeTheRestOfTheHeaderArrives) {
  // Two bytes are enough to see a reserved opcode or a missing mask.
  const std::string rows[] = {
      std::string("\x83\x80", 2),  // reserved opcode
      std::string("\x81\x7e", 2),  // unmasked, with a 16-bit length to come
      std::string("\x09\x80", 2),  // fragmented ping
  };
  for (const std::string& head : rows) {
    Receiver r;
    const auto seen = feedWhole(r, head, ReceiverConfig{});
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].code, 1002);
  }
}

}  // namespace
}  // namespace duplex::protocol::test
