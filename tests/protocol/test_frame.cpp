#include <gtest/gtest.h>

#include "protocol/frame.h"
#include "protocol/utf8.h"
#include "receiver_harness.h"

namespace duplex::protocol {
namespace {

std::string header(const FrameHeader& h) {
  uint8_t out[kMaxFrameHeaderSize];
  const size_t n = writeFrameHeader(out, h);
  return std::string(reinterpret_cast<const char*>(out), n);
}

struct HeaderCase {
  const char* name;
  FrameHeader header;
  std::string expected;
};

const uint8_t kKey[4] = {0x37, 0xfa, 0x21, 0x3d};

const HeaderCase kHeaders[] = {
    {"text, 0 bytes", {Opcode::Text, true, false, 0, nullptr}, std::string("\x81\x00", 2)},
    {"text, 125 bytes", {Opcode::Text, true, false, 125, nullptr}, "\x81\x7d"},
    {"binary, 126 bytes: 16-bit",
     {Opcode::Binary, true, false, 126, nullptr},
     std::string("\x82\x7e\x00\x7e", 4)},
    {"binary, 65535 bytes: 16-bit",
     {Opcode::Binary, true, false, 65535, nullptr},
     "\x82\x7e\xff\xff"},
    {"binary, 65536 bytes: 64-bit",
     {Opcode::Binary, true, false, 65536, nullptr},
     std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10)},
    {"binary, 2^32 bytes",
     {Opcode::Binary, true, false, uint64_t{1} << 32, nullptr},
     std::string("\x82\x7f\x00\x00\x00\x01\x00\x00\x00\x00", 10)},
    {"not final", {Opcode::Text, false, false, 1, nullptr}, "\x01\x01"},
    {"continuation, final", {Opcode::Continuation, true, false, 1, nullptr}, "\x80\x01"},
    {"compressed", {Opcode::Text, true, true, 1, nullptr}, "\xc1\x01"},
    {"close", {Opcode::Close, true, false, 2, nullptr}, "\x88\x02"},
    {"ping", {Opcode::Ping, true, false, 0, nullptr}, std::string("\x89\x00", 2)},
    {"pong", {Opcode::Pong, true, false, 0, nullptr}, std::string("\x8a\x00", 2)},
    {"masked, 5 bytes", {Opcode::Text, true, false, 5, kKey}, "\x81\x85\x37\xfa\x21\x3d"},
    {"masked, 126 bytes",
     {Opcode::Text, true, false, 126, kKey},
     std::string("\x81\xfe\x00\x7e\x37\xfa\x21\x3d", 8)},
    {"masked, 65536 bytes",
     {Opcode::Text, true, false, 65536, kKey},
     std::string("\x81\xff\x00\x00\x00\x00\x00\x01\x00\x00\x37\xfa\x21\x3d", 14)},
};

TEST(Frame, HeaderTable) {
  for (const HeaderCase& c : kHeaders) {
    EXPECT_EQ(header(c.header), c.expected) << c.name;
    EXPECT_EQ(frameHeaderSize(c.header.payloadSize, c.header.maskKey != nullptr), c.expected.size())
        << c.name;
  }
}

// RFC 6455 5.7 examples.
TEST(Frame, RfcExamples) {
  EXPECT_EQ(buildFrame({Opcode::Text, true, false, 0, nullptr}, "Hello"),
            "\x81\x05\x48\x65\x6c\x6c\x6f");
  EXPECT_EQ(buildFrame({Opcode::Text, true, false, 0, kKey}, "Hello"),
            "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
  EXPECT_EQ(buildFrame({Opcode::Text, false, false, 0, nullptr}, "Hel"), "\x01\x03\x48\x65\x6c");
  EXPECT_EQ(buildFrame({Opcode::Continuation, true, false, 0, nullptr}, "lo"), "\x80\x02\x6c\x6f");
  EXPECT_EQ(buildFrame({Opcode::Ping, true, false, 0, nullptr}, "Hello"),
            "\x89\x05\x48\x65\x6c\x6c\x6f");
}

// What buildFrame writes, the Receiver reads back, for both roles and each length encoding.
TEST(Frame, BuildFrameRoundTripsThroughReceiver) {
  for (size_t n : {0, 1, 125, 126, 65535, 65536}) {
    const std::string payload(n, 'k');
    for (Role role : {Role::Server, Role::Client}) {
      FrameHeader h;
      h.opcode = Opcode::Binary;
      h.maskKey = role == Role::Server ? kKey : nullptr;  // clients mask, servers do not
      ReceiverConfig config;
      config.role = role;
      EXPECT_EQ(test::feedWhole(buildFrame(h, payload), config),
                std::vector<test::Seen>{test::message(Opcode::Binary, payload)})
          << n;
    }
  }
}

struct CloseCase {
  const char* name;
  uint16_t code;
  std::string reason;
  std::string expected;
};

TEST(Frame, ClosePayloadTable) {
  const std::string ascii200(200, 'r');
  // 122 ASCII bytes, then a 2-byte character straddling the 123-byte limit.
  const std::string straddle2 = std::string(122, 'a') + "\xc3\xa9";
  // 121 ASCII bytes, then a 4-byte character that would end at byte 125.
  const std::string straddle4 = std::string(121, 'a') + "\xf0\x9f\x98\x80";
  const std::string fits = std::string(119, 'a') + "\xf0\x9f\x98\x80";  // exactly 123
  const CloseCase rows[] = {
      {"code only", 1000, "", std::string("\x03\xe8", 2)},
      {"code and reason", 1001, "bye",
       "\x03\xe9"
       "bye"},
      {"application code", 4000, "x", "\x0f\xa0x"},
      {"ASCII reason cut at 123", 1000, ascii200, "\x03\xe8" + ascii200.substr(0, 123)},
      {"2-byte character not split", 1000, straddle2, "\x03\xe8" + std::string(122, 'a')},
      {"4-byte character not split", 1000, straddle4, "\x03\xe8" + std::string(121, 'a')},
      {"123 bytes ending in a 4-byte character", 1000, fits, "\x03\xe8" + fits},
      {"1005 is never sent: empty payload", 1005, "ignored", ""},
  };
  for (const CloseCase& c : rows) {
    uint8_t out[kMaxControlPayload];
    const size_t n = writeClosePayload(out, c.code, c.reason);
    const std::string got(reinterpret_cast<const char*>(out), n);
    EXPECT_EQ(got, c.expected) << c.name;
    EXPECT_LE(n, kMaxControlPayload) << c.name;
    if (n > 2) {
      EXPECT_TRUE(isValidUtf8(got.substr(2))) << c.name;
    }
  }
}

}  // namespace
}  // namespace duplex::protocol

namespace duplex::protocol {
// A default-constructed (null) reason is what WebSocket::handleClose passes when echoing a
// close; under UBSan a memcpy from it used to abort the server on every browser reload.
TEST(ClosePayload, NullReasonViewWritesJustTheCode) {
  uint8_t out[kMaxControlPayload];
  EXPECT_EQ(writeClosePayload(out, 1001, std::string_view{}), 2u);
  EXPECT_EQ(out[0], 0x03);
  EXPECT_EQ(out[1], 0xE9);
  FrameHeader header;
  header.opcode = Opcode::Binary;
  EXPECT_EQ(buildFrame(header, std::string_view{}).size(), 2u);
}
}  // namespace duplex::protocol
