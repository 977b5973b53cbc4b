#include <gtest/gtest.h>

#include <random>
#include <string>

#include "protocol/utf8.h"

namespace duplex::protocol {
namespace {

struct Utf8Case {
  const char* name;
  std::string bytes;
  bool valid;
};

const Utf8Case kCases[] = {
    {"empty", "", true},
    {"ascii", "Hello, world", true},
    {"all of ascii",
     [] {
       std::string s;
       for (int c = 0; c < 128; ++c) s += static_cast<char>(c);
       return s;
     }(),
     true},
    {"2 bytes", "\xc3\xa9", true},
    {"smallest 2-byte U+0080", "\xc2\x80", true},
    {"largest 2-byte U+07FF", "\xdf\xbf", true},
    {"smallest 3-byte U+0800", "\xe0\xa0\x80", true},
    {"3 bytes", "\xe2\x82\xac", true},
    {"last before surrogates U+D7FF", "\xed\x9f\xbf", true},
    {"first after surrogates U+E000", "\xee\x80\x80", true},
    {"U+FFFF", "\xef\xbf\xbf", true},
    {"smallest 4-byte U+10000", "\xf0\x90\x80\x80", true},
    {"emoji", "\xf0\x9f\x98\x80", true},
    {"largest U+10FFFF", "\xf4\x8f\xbf\xbf", true},
    {"greek kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", true},
    {"mixed", "a\xc3\xa9z\xe2\x82\xac!\xf0\x9f\x98\x80.", true},
    // Invalid bytes anywhere.
    {"lone continuation 80", "\x80", false},
    {"lone continuation BF", "\xbf", false},
    {"continuation after ascii", "abc\x80", false},
    {"FE", "\xfe", false},
    {"FF", "\xff", false},
    {"F5 (would be above U+10FFFF)", "\xf5\x80\x80\x80", false},
    {"F8 (5-byte form)", "\xf8\x88\x80\x80\x80", false},
    {"FC (6-byte form)", "\xfc\x84\x80\x80\x80\x80", false},
    // Overlongs (RFC 3629 3: must not be decoded).
    {"overlong C0 80 (NUL)", "\xc0\x80", false},
    {"overlong C0 AF ('/')", "\xc0\xaf", false},
    {"overlong C1 BF", "\xc1\xbf", false},
    {"overlong E0 80 80", "\xe0\x80\x80", false},
    {"overlong E0 9F BF", "\xe0\x9f\xbf", false},
    {"overlong F0 80 80 80", "\xf0\x80\x80\x80", false},
    {"overlong F0 8F BF BF", "\xf0\x8f\xbf\xbf", false},
    // Surrogates U+D800-DFFF.
    {"surrogate U+D800", "\xed\xa0\x80", false},
    {"surrogate U+DBFF", "\xed\xaf\xbf", false},
    {"surrogate U+DC00", "\xed\xb0\x80", false},
    {"surrogate U+DFFF", "\xed\xbf\xbf", false},
    {"surrogate pair", "\xed\xa0\x80\xed\xb0\x80", false},
    // Above U+10FFFF.
    {"U+110000", "\xf4\x90\x80\x80", false},
    {"U+13FFFF", "\xf4\xbf\xbf\xbf", false},
    // Truncated sequences.
    {"truncated 2-byte", "\xc3", false},
    {"truncated 3-byte after 1", "\xe2", false},
    {"truncated 3-byte after 2", "\xe2\x82", false},
    {"truncated 4-byte after 3", "\xf0\x9f\x98", false},
    {"truncated then ascii", "\xc3\x41", false},
    {"3-byte cut by a new lead", "\xe2\x82\xe2\x82\xac", false},
    {"too many continuations", "\xc3\xa9\xa9", false},
};

TEST(Utf8, Table) {
  for (const Utf8Case& c : kCases) EXPECT_EQ(isValidUtf8(c.bytes), c.valid) << c.name;
}

// Splitting the input anywhere (as frames and reads do) does not change the verdict.
TEST(Utf8, EveryTwoWaySplitGivesTheSameVerdict) {
  for (const Utf8Case& c : kCases) {
    for (size_t cut = 0; cut <= c.bytes.size(); ++cut) {
      Utf8Validator v;
      const bool ok = v.feed(std::string_view(c.bytes).substr(0, cut)) &&
                      v.feed(std::string_view(c.bytes).substr(cut));
      EXPECT_EQ(ok && v.complete(), c.valid) << c.name << " cut at " << cut;
    }
  }
}

// RFC 6455 8.1 fail-fast: feed() says "invalid" at the first byte that rules out every
// continuation, not later.
TEST(Utf8, FailsAtTheFirstImpossibleByte) {
  struct Row {
    const char* name;
    std::string bytes;
    size_t failsAt;  // index of the byte whose feed() returns false
  };
  const Row rows[] = {
      {"C0", "ab\xc0\x80", 2},
      {"F5", "\xf5", 0},
      {"lone continuation", "a\x80", 1},
      {"E0 80", "\xe0\x80\x80", 1},
      {"ED A0 (surrogate)", "\xed\xa0\x80", 1},
      {"F0 80", "\xf0\x80", 1},
      {"F4 90", "\xf4\x90\x80\x80", 1},
      {"ascii after a lead", "\xe2\x82z", 2},
  };
  for (const Row& row : rows) {
    Utf8Validator v;
    size_t i = 0;
    for (; i < row.bytes.size(); ++i) {
      if (!v.feed(std::string_view(row.bytes).substr(i, 1))) break;
    }
    EXPECT_EQ(i, row.failsAt) << row.name;
    EXPECT_FALSE(v.feed("more")) << row.name << ": stays failed";
    EXPECT_FALSE(v.complete()) << row.name;
  }
}

TEST(Utf8, CompleteOnlyOnCharacterBoundaries) {
  Utf8Validator v;
  EXPECT_TRUE(v.complete());
  EXPECT_TRUE(v.feed("\xf0\x9f"));
  EXPECT_FALSE(v.complete());
  EXPECT_TRUE(v.feed("\x98"));
  EXPECT_FALSE(v.complete());
  EXPECT_TRUE(v.feed("\x80"));
  EXPECT_TRUE(v.complete());
  v.feed("\xc3");
  v.reset();
  EXPECT_TRUE(v.complete());
}

// A non-ASCII byte at every position of a long ASCII run, so that the 16- and 8-byte fast
// paths hand over to the DFA at every possible point (and back).
TEST(Utf8, FastPathHandsOverAtEveryPosition) {
  for (size_t pos = 0; pos < 40; ++pos) {
    std::string valid(40, 'a');
    valid.replace(pos, 1, "\xc3\xa9");
    EXPECT_TRUE(isValidUtf8(valid)) << pos;
    std::string invalid(40, 'a');
    invalid[pos] = '\xff';
    EXPECT_FALSE(isValidUtf8(invalid)) << pos;
    std::string truncated(pos, 'a');
    truncated += "\xe2\x82";
    EXPECT_FALSE(isValidUtf8(truncated)) << pos;
  }
}

// A reference decoder written from RFC 3629's definition (decode, then range-check the code
// point), to cross-check the DFA table exhaustively over short sequences.
bool referenceValid(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<uint8_t>(s[i]);
    size_t n;
    uint32_t cp;
    if (b < 0x80) {
      n = 1, cp = b;
    } else if ((b & 0xE0) == 0xC0) {
      n = 2, cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      n = 3, cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      n = 4, cp = b & 0x07;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const auto c = static_cast<uint8_t>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    const uint32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < minimum[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

TEST(Utf8, AgreesWithReferenceOnAllShortSequences) {
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    ASSERT_EQ(isValidUtf8(s), referenceValid(s)) << a;
    for (int b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      ASSERT_EQ(isValidUtf8(s), referenceValid(s)) << a << " " << b;
    }
  }
  // Three bytes: every lead from C0 up with every second byte, and a set of third bytes that
  // covers each class boundary.
  const int thirds[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
                        0xC0, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF};
  for (int a = 0xC0; a < 256; ++a)
    for (int b = 0; b < 256; ++b)
      for (int c : thirds) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        ASSERT_EQ(isValidUtf8(s), referenceValid(s)) << a << " " << b << " " << c;
        s += '\x80';
        ASSERT_EQ(isValidUtf8(s), referenceValid(s)) << a << " " << b << " " << c << " 80";
      }
  // Random longer strings biased towards non-ASCII bytes.
  std::mt19937 rng(11);
  for (int round = 0; round < 20000; ++round) {
    s.clear();
    const size_t n = rng() % 24;
    for (size_t i = 0; i < n; ++i)
      s += static_cast<char>(rng() % 3 == 0 ? rng() % 128 : 0x80 + rng() % 128);
    ASSERT_EQ(isValidUtf8(s), referenceValid(s));
  }
}

}  // namespace
}  // namespace duplex::protocol
