// Messages compressed on their own (no context takeover) go through libdeflate when the agreed
// window covers them and through zlib otherwise (deflate_alone.h). Both must decode with an
// inflater limited to the agreed window, in any order, and the libdeflate output must be no
// bigger than zlib's, or the speed would be bought with bandwidth.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "protocol/deflate_codec.h"

namespace duplex::protocol {
namespace {

constexpr size_t kNoLimit = SIZE_MAX;

// Chat-like JSON, words from small vocabularies: compresses about as real traffic does.
std::string json(size_t n, uint32_t seed = 3) {
  static const char* const kUsers[] = {"user-0042", "user-0007", "user-1234", "user-0999"};
  static const char* const kRooms[] = {"general", "random", "build", "ops"};
  static const char* const kWords[] = {"please", "review", "the",   "build", "deploy", "is",
                                       "green",  "again",  "lunch", "at",    "noon",   "ok"};
  std::mt19937 rng(seed);
  std::string s = "{\"items\":[";
  while (s.size() < n) {
    s += "{\"user\":\"" + std::string(kUsers[rng() % 4]) + "\",\"room\":\"" + kRooms[rng() % 4] +
         "\",\"ts\":" + std::to_string(1732483200000 + rng() % 100000) + ",\"text\":\"";
    for (int w = 0, words = 2 + int(rng() % 5); w < words; ++w) {
      s += std::string(w ? " " : "") + kWords[rng() % 12];
    }
    s += "\"},";
  }
  s.resize(n);
  return s;
}

std::string randomBytes(size_t n, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::string compressed(Deflater& deflater, std::string_view message) {
  std::string out;
  EXPECT_TRUE(deflater.compress(message, out));
  return out;
}

bool bfinalFirst(const std::string& wire) {
  return !wire.empty() && (static_cast<uint8_t>(wire[0]) & 1) == 1;
}

TEST(DeflateAlone, WithinTheWindowLibdeflateBeyondItZlibBothDecode) {
  for (uint8_t bits : {8, 9, 10, 12, 15}) {
    const size_t window = size_t{1} << bits;
    Deflater deflater({.windowBits = bits, .noContextTakeover = true});
    Inflater inflater({.windowBits = bits, .noContextTakeover = true});
    // Alternating, so each path starts right after the other one ran.
    for (size_t size : {window, window + 1, size_t{300}, 3 * window + 7, window - 1}) {
      SCOPED_TRACE(testing::Message() << "window bits " << int(bits) << " size " << size);
      std::string message = json(size, uint32_t(size));
      std::string wire = compressed(deflater, message);
      if (size <= 4096) {
        // One libdeflate block, final; zlib's sync-flushed first block never is.
        EXPECT_EQ(bfinalFirst(wire), size <= window);
      }
      std::string out;
      ASSERT_EQ(inflater.inflateMessage(wire, out, kNoLimit), InflateStatus::Ok)
          << inflater.error();
      EXPECT_TRUE(out == message);
    }
  }
}

TEST(DeflateAlone, OutputIsNoBiggerThanZlibs) {
  for (size_t size : {256, 1024, 4096, 16384}) {
    SCOPED_TRACE(testing::Message() << "size " << size);
    std::string message = json(size);
    Deflater alone({.noContextTakeover = true});
    Deflater zlib;  // context takeover: always zlib, and a first message is alone anyway
    size_t ours = compressed(alone, message).size();
    size_t theirs = compressed(zlib, message).size();
    EXPECT_LE(ours, theirs + theirs / 50) << "ours " << ours << " zlib " << theirs;
    if (size >= 1024) {
      EXPECT_LT(ours, size / 2);
    }
  }
  // Incompressible data costs a few header bytes, as with zlib (the caller then sends it plain).
  std::string noise = randomBytes(10000);
  Deflater alone({.noContextTakeover = true});
  EXPECT_LE(compressed(alone, noise).size(), noise.size() + 16);
}

TEST(DeflateAlone, ReceiverWithContextTakeoverDecodesItToo) {
  // A peer may keep its inflater's window even though we promised not to rely on it; the
  // BFINAL block must not leave its stream stuck.
  Deflater deflater({.noContextTakeover = true});
  Inflater inflater;
  for (int round = 0; round < 3; ++round) {
    std::string message = json(1024, uint32_t(round));
    std::string out;
    ASSERT_EQ(inflater.inflateMessage(compressed(deflater, message), out, kNoLimit),
              InflateStatus::Ok)
        << inflater.error();
    EXPECT_TRUE(out == message);
  }
}

TEST(DeflateAlone, EveryLevelRoundTrips) {
  std::string message = json(2000);
  for (int level = -1; level <= 9; ++level) {
    SCOPED_TRACE(testing::Message() << "level " << level);
    Deflater deflater({.noContextTakeover = true, .level = int8_t(level)});
    Inflater inflater({.noContextTakeover = true});
    std::string out;
    ASSERT_EQ(inflater.inflateMessage(compressed(deflater, message), out, kNoLimit),
              InflateStatus::Ok)
        << inflater.error();
    EXPECT_TRUE(out == message);
  }
}

TEST(DeflateAlone, ZlibOnlySendsZlibsSyncFlushedStream) {
  std::string message = json(1024);
  Deflater zlibOnly({.noContextTakeover = true, .zlibOnly = true});
  Deflater takeover;  // zlib; a first message with takeover is compressed alone too
  std::string wire = compressed(zlibOnly, message);
  EXPECT_FALSE(bfinalFirst(wire));
  EXPECT_EQ(wire, compressed(takeover, message));
  EXPECT_EQ(compressed(zlibOnly, message), wire);  // reset between messages
}

TEST(DeflateAlone, BothStatesAreCountedAndReleased) {
  Deflater deflater({.windowBits = 10, .noContextTakeover = true});
  compressed(deflater, json(1000));  // libdeflate
  size_t alone = deflater.memoryBytes();
  EXPECT_GT(alone, 0u);
  compressed(deflater, json(5000));  // zlib
  EXPECT_GT(deflater.memoryBytes(), alone);
  EXPECT_TRUE(deflater.release());
  EXPECT_EQ(deflater.memoryBytes(), 0u);
}

}  // namespace
}  // namespace duplex::protocol
