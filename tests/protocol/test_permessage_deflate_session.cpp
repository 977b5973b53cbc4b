// PerMessageDeflate (deflate_session.h), the one per-connection compression class: the agreed
// parameters applied to the right direction for each role, the small-message and no-gain
// shortcuts, own zlib state only where context takeover needs it, and the memory numbers that
// docs/compression.md quotes.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>

#include "protocol/deflate_session.h"

namespace duplex::protocol {
namespace {

std::string text(size_t n) {
  std::string s;
  while (s.size() < n) s += "{\"type\":\"chat\",\"channel\":\"lobby\",\"text\":\"hello there\"} ";
  s.resize(n);
  return s;
}

std::string noise(size_t n) {
  std::mt19937 rng(5);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(PerMessageDeflateSession, ServerAndClientTalk) {
  PerMessageDeflateConfig config;
  config.minMessageSize = 0;
  // Asymmetric terms, so that a role mix-up shows: the server keeps its window (takeover) and
  // uses 10 bits; the client has no takeover and 12 bits.
  DeflateParams agreed{10, 12, false, true};
  PerMessageDeflate server(agreed, Role::Server, config);
  PerMessageDeflate client(agreed, Role::Client, config);
  EXPECT_EQ(server.sendSettings().windowBits, 10);
  EXPECT_FALSE(server.sendSettings().noContextTakeover);
  EXPECT_FALSE(server.sendsAlone());
  EXPECT_EQ(client.sendSettings().windowBits, 12);
  EXPECT_TRUE(client.sendSettings().noContextTakeover);
  EXPECT_TRUE(client.sendsAlone());
  EXPECT_EQ(server.receiveSettings().windowBits, 12);
  EXPECT_EQ(client.receiveSettings().windowBits, 10);

  for (int i = 0; i < 3; ++i) {
    std::string message = text(3000 + i);
    std::string wire, out;
    ASSERT_TRUE(server.compress(message, wire));
    ASSERT_EQ(client.inflate(wire, out, 1 << 20), InflateStatus::Ok) << client.inflateError();
    EXPECT_EQ(out, message);
    wire.clear();
    out.clear();
    ASSERT_TRUE(client.compress(message, wire));
    ASSERT_EQ(server.inflate(wire, out, 1 << 20), InflateStatus::Ok) << server.inflateError();
    EXPECT_EQ(out, message);
  }
}

TEST(PerMessageDeflateSession, CorruptMessageFailsWithoutPoisoningOthers) {
  PerMessageDeflateConfig config;
  config.minMessageSize = 0;
  DeflateParams agreed{15, 15, true, true};  // both directions borrow the thread's streams
  PerMessageDeflate server(agreed, Role::Server, config);
  PerMessageDeflate client(agreed, Role::Client, config);
  PerMessageDeflate other(agreed, Role::Server, config);
  std::string out;
  EXPECT_EQ(server.inflate("\xff\xff\xff\xff", out, 1 << 20), InflateStatus::Corrupt);
  EXPECT_FALSE(server.inflateError().empty());
  // The shared stream was replaced: another connection on this thread still inflates.
  std::string message = text(3000), wire;
  ASSERT_TRUE(client.compress(message, wire));
  out.clear();
  ASSERT_EQ(other.inflate(wire, out, 1 << 20), InflateStatus::Ok) << other.inflateError();
  EXPECT_EQ(out, message);
}

TEST(PerMessageDeflateSession, SmallMessagesGoUncompressed) {
  PerMessageDeflateConfig config;
  config.minMessageSize = 100;
  PerMessageDeflate session(DeflateParams{}, Role::Server, config);
  std::string out = "x";
  EXPECT_FALSE(session.compress(text(99), out));
  EXPECT_EQ(out, "x");
  EXPECT_EQ(session.memoryBytes(), 0u);  // never touched zlib
  EXPECT_TRUE(session.compress(text(100), out));
  EXPECT_LT(out.size(), 100u);
}

TEST(PerMessageDeflateSession, DefaultThresholdFollowsOurContextTakeover) {
  PerMessageDeflateConfig config;  // minMessageSize unset
  std::string message = text(200);
  std::string out;
  // The server sends with server_no_context_takeover: 200 bytes are not worth it alone.
  PerMessageDeflate alone(DeflateParams{15, 15, true, false}, Role::Server, config);
  EXPECT_EQ(alone.minMessageSize(), kMinMessageSizeAlone);
  EXPECT_FALSE(alone.compress(message, out));
  EXPECT_TRUE(alone.compress(text(kMinMessageSizeAlone), out));
  // The client of the same connection keeps its window: short messages pay off.
  PerMessageDeflate shared(DeflateParams{15, 15, true, false}, Role::Client, config);
  EXPECT_EQ(shared.minMessageSize(), kMinMessageSizeWithTakeover);
  out.clear();
  EXPECT_TRUE(shared.compress(message, out));
  EXPECT_FALSE(shared.compress(text(kMinMessageSizeWithTakeover - 1), out));
}

TEST(PerMessageDeflateSession, IncompressibleMessagesGoAsIsOnlyWithoutTakeover) {
  PerMessageDeflateConfig config;
  std::string message = noise(5000);
  std::string out;
  PerMessageDeflate noTakeover(DeflateParams{15, 15, true, true}, Role::Server, config);
  EXPECT_FALSE(noTakeover.compress(message, out));
  EXPECT_TRUE(out.empty());
  // With takeover the deflater has already taken the message into its window: it must be sent
  // compressed, or the peer's window would no longer match ours.
  PerMessageDeflate takeover(DeflateParams{15, 15, false, false}, Role::Server, config);
  EXPECT_TRUE(takeover.compress(message, out));
  EXPECT_GE(out.size(), message.size());
}

TEST(PerMessageDeflateSession, OwnsZlibStateOnlyWhereTakeoverNeedsIt) {
  PerMessageDeflateConfig config;
  std::string message = text(4000);
  // No takeover either way: every message borrows the thread's streams; nothing is owned.
  PerMessageDeflate alone(DeflateParams{15, 15, true, true}, Role::Server, config);
  std::string wire;
  ASSERT_TRUE(alone.compress(message, wire));
  EXPECT_EQ(alone.memoryBytes(), 0u);
  // Server: no takeover for what it sends, takeover for what the client sends: it owns an
  // Inflater (the client's window) and no Deflater.
  PerMessageDeflate server(DeflateParams{15, 15, true, false}, Role::Server, config);
  PerMessageDeflate client(DeflateParams{15, 15, true, false}, Role::Client, config);
  std::string out, back;
  ASSERT_TRUE(client.compress(message, out));
  ASSERT_EQ(server.inflate(out, back, 1 << 20), InflateStatus::Ok);
  EXPECT_TRUE(server.sendsAlone());
  EXPECT_GT(server.memoryBytes(), 0u);
  EXPECT_LT(server.memoryBytes(), 100u * 1024);  // an Inflater's window, not a Deflater's
}

// The numbers for docs/compression.md: real bytes held by zlib for each direction after one
// message, by configuration. Bounds keep the doc honest if zlib changes its layout.
struct Measured {
  size_t deflate;
  size_t inflate;
};

Measured measure(uint8_t windowBits, uint8_t memLevel) {
  Deflater deflater({.windowBits = windowBits, .memLevel = memLevel});
  Inflater inflater({.windowBits = windowBits});
  std::string wire, out;
  EXPECT_TRUE(deflater.compress(text(20000), wire));
  EXPECT_EQ(inflater.inflateMessage(wire, out, 1 << 20), InflateStatus::Ok);
  return {deflater.memoryBytes(), inflater.memoryBytes()};
}

TEST(PerMessageDeflateMemory, MatchesZlibsFormulaAndIsReported) {
  struct Row {
    uint8_t windowBits;
    uint8_t memLevel;
  };
  const Row rows[] = {{15, 8}, {15, 9}, {15, 4}, {12, 5}, {10, 4}, {9, 1}, {10, 1}};
  for (const Row& row : rows) {
    Measured m = measure(row.windowBits, row.memLevel);
    int w = std::max<int>(row.windowBits, 9);  // zlib deflates with 9 when asked 8
    size_t deflateFormula = (size_t{1} << (w + 2)) + (size_t{1} << (row.memLevel + 9));
    size_t inflateFormula = (size_t{1} << row.windowBits) + 7 * 1024;
    std::printf(
        "[ memory   ] window %2d memLevel %d: deflate %7zu B (formula %7zu), "
        "inflate %6zu B (formula %6zu)\n",
        row.windowBits, row.memLevel, m.deflate, deflateFormula, m.inflate, inflateFormula);
    // zlib adds its state struct (~6 KiB for deflate) to the formula; allow 10 KiB.
    EXPECT_GE(m.deflate, deflateFormula);
    EXPECT_LE(m.deflate, deflateFormula + 10 * 1024);
    EXPECT_GE(m.inflate, size_t{1} << row.windowBits);
    EXPECT_LE(m.inflate, inflateFormula + 2 * 1024);
  }
}

}  // namespace
}  // namespace duplex::protocol
