// Deflater / Inflater (deflate_codec.h): RFC 7692 7.2 compression and decompression, the RFC's
// worked examples, window sizes, context takeover, and the limits that make a decompression
// bomb cheap.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/close_code.h"
#include "protocol/deflate_codec.h"

namespace duplex::protocol {
namespace {

std::string bytes(std::initializer_list<uint8_t> list) {
  return std::string(list.begin(), list.end());
}

std::string randomBytes(size_t n, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Text-like data: words from a small vocabulary, so it compresses the way chat messages do.
std::string repetitive(size_t n, uint32_t seed = 2) {
  static const char* const kWords[] = {
      "hello ",     "world ",  "{\"type\":\"message\",", "duplex ", "\"channel\":\"lobby\"} ",
      "websocket ", "deflate "};
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < n) s += kWords[rng() % 7];
  s.resize(n);
  return s;
}

constexpr size_t kNoLimit = SIZE_MAX;

std::string compressed(Deflater& deflater, std::string_view message) {
  std::string out;
  EXPECT_TRUE(deflater.compress(message, out));
  return out;
}

// ---- RFC 7692 7.2.3 examples -----------------------------------------------------------------

const std::string kHello = bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});  // 7.2.3.1
// A Deflater without context takeover sends 7.2.3.4's form (libdeflate, deflate_alone.h): a
// block with BFINAL set, then the one 0x00 byte left of the empty stored block. For five bytes
// libdeflate picks a stored block, as the RFC's 7.2.3.3 does.
const std::string kHelloBfinal =
    bytes({0x01, 0x05, 0x00, 0xfa, 0xff, 'H', 'e', 'l', 'l', 'o', 0x00});

TEST(DeflateRfcExamples, HelloCompressesToTheRfcBytes) {
  Deflater deflater;
  EXPECT_EQ(compressed(deflater, "Hello"), kHello);
}

TEST(DeflateRfcExamples, SecondHelloSharesTheWindowWithContextTakeover) {  // 7.2.3.2
  Deflater takeover;
  EXPECT_EQ(compressed(takeover, "Hello"), kHello);
  EXPECT_EQ(compressed(takeover, "Hello"), bytes({0xf2, 0x00, 0x11, 0x00, 0x00}));

  Deflater noTakeover({.noContextTakeover = true});
  EXPECT_EQ(compressed(noTakeover, "Hello"), kHelloBfinal);
  EXPECT_EQ(compressed(noTakeover, "Hello"), kHelloBfinal);
}

TEST(DeflateRfcExamples, InflatesEachExample) {
  struct Example {
    const char* section;
    std::string payload;
  };
  const Example examples[] = {
      {"7.2.3.1 one compressed block", kHello},
      {"7.2.3.3 a block with no compression",
       bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00})},
      {"7.2.3.4 a block with BFINAL set", bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00})},
      {"7.2.3.5 two blocks in one message",
       bytes({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00})},
  };
  for (const Example& example : examples) {
    SCOPED_TRACE(example.section);
    Inflater inflater;
    std::string out;
    ASSERT_EQ(inflater.inflateMessage(example.payload, out, kNoLimit), InflateStatus::Ok)
        << inflater.error();
    EXPECT_EQ(out, "Hello");
  }
}

TEST(DeflateRfcExamples, FragmentedHello) {  // 7.2.3.1: fragments of 3 and 4 octets
  Inflater inflater;
  std::string out;
  ASSERT_EQ(inflater.feed(kHello.substr(0, 3), out, kNoLimit), InflateStatus::Ok);
  ASSERT_EQ(inflater.feed(kHello.substr(3), out, kNoLimit), InflateStatus::Ok);
  ASSERT_EQ(inflater.finish(out, kNoLimit), InflateStatus::Ok);
  EXPECT_EQ(out, "Hello");
}

TEST(DeflateRfcExamples, SharedWindowAcrossMessages) {  // 7.2.3.2, receiving side
  Inflater inflater;
  std::string first, second;
  ASSERT_EQ(inflater.inflateMessage(kHello, first, kNoLimit), InflateStatus::Ok);
  ASSERT_EQ(inflater.inflateMessage(bytes({0xf2, 0x00, 0x11, 0x00, 0x00}), second, kNoLimit),
            InflateStatus::Ok)
      << inflater.error();
  EXPECT_EQ(first, "Hello");
  EXPECT_EQ(second, "Hello");
}

TEST(DeflateRfcExamples, WindowSurvivesABfinalBlock) {
  // 7.2.3.4 then 7.2.3.2: after a stream ended with BFINAL, the peer may still refer back to
  // it under context takeover, so the window must carry over into the new stream.
  Inflater inflater;
  std::string first, second;
  ASSERT_EQ(inflater.inflateMessage(bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}), first,
                                    kNoLimit),
            InflateStatus::Ok);
  ASSERT_EQ(inflater.inflateMessage(bytes({0xf2, 0x00, 0x11, 0x00, 0x00}), second, kNoLimit),
            InflateStatus::Ok)
      << inflater.error();
  EXPECT_EQ(second, "Hello");
}

TEST(DeflateRfcExamples, EmptyMessage) {  // 7.2.3.6: an empty stored block, tail removed
  Deflater deflater;
  EXPECT_EQ(compressed(deflater, ""), bytes({0x00}));
  EXPECT_EQ(compressed(deflater, "Hello"), kHello);
  EXPECT_EQ(compressed(deflater, ""), bytes({0x00}));  // also after a message (no zlib output)

  Inflater inflater;
  std::string out;
  EXPECT_EQ(inflater.inflateMessage(bytes({0x00}), out, kNoLimit), InflateStatus::Ok);
  EXPECT_EQ(out, "");
  // An empty payload with RSV1 is tolerated and leaves the stream usable.
  EXPECT_EQ(inflater.inflateMessage("", out, kNoLimit), InflateStatus::Ok);
  EXPECT_EQ(inflater.inflateMessage(kHello, out, kNoLimit), InflateStatus::Ok);
  EXPECT_EQ(out, "Hello");
}

// ---- Round trips -----------------------------------------------------------------------------

TEST(DeflateRoundTrip, SizesDataAndTakeover) {
  const size_t sizes[] = {0, 1, 125, 126, 1000, 65535, 65536, 1 << 20};
  for (bool noContextTakeover : {false, true}) {
    Deflater deflater({.noContextTakeover = noContextTakeover});
    Inflater inflater({.noContextTakeover = noContextTakeover});
    std::string wire, out;  // reused across messages, as a connection would
    for (size_t size : sizes) {
      for (bool random : {true, false}) {
        SCOPED_TRACE(testing::Message() << "size " << size << (random ? " random" : " text")
                                        << (noContextTakeover ? " no takeover" : " takeover"));
        std::string message = random ? randomBytes(size, uint32_t(size)) : repetitive(size);
        wire.clear();
        out.clear();
        ASSERT_TRUE(deflater.compress(message, wire));
        if (!random && size >= 1000) {
          EXPECT_LT(wire.size(), message.size() / 3);
        }
        ASSERT_EQ(inflater.inflateMessage(wire, out, message.size()), InflateStatus::Ok)
            << inflater.error();
        EXPECT_TRUE(out == message);
      }
    }
  }
}

TEST(DeflateRoundTrip, CompressAppendsToTheCallersBuffer) {
  Deflater deflater;
  std::string out = "prefix";
  ASSERT_TRUE(deflater.compress("Hello", out));
  EXPECT_EQ(out, "prefix" + kHello);

  Inflater inflater;
  std::string text = "before:";
  ASSERT_EQ(inflater.inflateMessage(kHello, text, 5), InflateStatus::Ok);
  EXPECT_EQ(text, "before:Hello");  // maxSize counts the message, not what `out` held
}

TEST(DeflateRoundTrip, FragmentedInputInAnyPieces) {
  std::string message = repetitive(200000) + randomBytes(50000);
  Deflater deflater;
  std::string wire = compressed(deflater, message);
  for (size_t piece : {size_t{1}, size_t{7}, size_t{1000}, size_t{65536}}) {
    SCOPED_TRACE(testing::Message() << "pieces of " << piece);
    Inflater inflater;
    std::string out;
    for (size_t at = 0; at < wire.size(); at += piece) {
      ASSERT_EQ(inflater.feed(std::string_view(wire).substr(at, piece), out, message.size()),
                InflateStatus::Ok);
    }
    ASSERT_EQ(inflater.finish(out, message.size()), InflateStatus::Ok);
    EXPECT_TRUE(out == message);
    EXPECT_EQ(inflater.messageBytesIn(), wire.size() + 4);  // the tail counts too
  }
}

TEST(DeflateRoundTrip, ContextTakeoverMakesARepeatSmaller) {
  std::string message = repetitive(2000, 7);
  Deflater takeover;
  std::string first = compressed(takeover, message);
  std::string second = compressed(takeover, message);
  EXPECT_LT(second.size() * 4, first.size());  // the whole message is one back-reference away

  // Without takeover every message is alone: the same bytes each time, and no bigger than the
  // first message with takeover (libdeflate's encoding differs from zlib's, its size should not).
  Deflater noTakeover({.noContextTakeover = true});
  std::string alone = compressed(noTakeover, message);
  EXPECT_EQ(compressed(noTakeover, message), alone);
  EXPECT_LE(alone.size(), first.size() + first.size() / 50);

  // And each side's inflater must agree with its deflater's mode.
  Inflater inflater;
  std::string out;
  ASSERT_EQ(inflater.inflateMessage(first, out, kNoLimit), InflateStatus::Ok);
  out.clear();
  ASSERT_EQ(inflater.inflateMessage(second, out, kNoLimit), InflateStatus::Ok);
  EXPECT_EQ(out, message);
  // Without the first message's history the second one cannot be decoded.
  Inflater fresh;
  out.clear();
  EXPECT_EQ(fresh.inflateMessage(second, out, kNoLimit), InflateStatus::Corrupt);
}

TEST(DeflateRoundTrip, NoContextTakeoverInflaterForgetsBetweenMessages) {
  Deflater takeover;  // a peer that (wrongly) keeps its window although it agreed not to
  std::string message = repetitive(2000, 9);
  std::string first = compressed(takeover, message);
  std::string second = compressed(takeover, message);
  Inflater inflater({.noContextTakeover = true});
  std::string out;
  ASSERT_EQ(inflater.inflateMessage(first, out, kNoLimit), InflateStatus::Ok);
  EXPECT_EQ(inflater.inflateMessage(second, out, kNoLimit), InflateStatus::Corrupt);
}

// Data whose only repeats are `period` bytes back: a random block over and over.
std::string periodic(size_t period, size_t n) {
  std::string block = randomBytes(period, 99);
  std::string s;
  while (s.size() < n) s += block;
  s.resize(n);
  return s;
}

TEST(DeflateWindow, EveryWindowSizeRoundTrips) {
  for (uint8_t bits = 9; bits <= 15; ++bits) {
    SCOPED_TRACE(testing::Message() << "window bits " << int(bits));
    // Repeats just inside the window, where only a correctly sized window can decode them.
    size_t period = (size_t{1} << bits) - 300;
    std::string message = periodic(period, 4 * period + 1000) + repetitive(30000);
    for (bool noContextTakeover : {false, true}) {
      Deflater deflater({.windowBits = bits, .noContextTakeover = noContextTakeover});
      Inflater inflater({.windowBits = bits, .noContextTakeover = noContextTakeover});
      for (int round = 0; round < 2; ++round) {
        std::string wire = compressed(deflater, message);
        EXPECT_LT(wire.size(), message.size() / 2);  // the repeats were found
        std::string out;
        ASSERT_EQ(inflater.inflateMessage(wire, out, message.size()), InflateStatus::Ok)
            << inflater.error();
        EXPECT_TRUE(out == message);
      }
    }
  }
}

TEST(DeflateWindow, InflaterRejectsReferencesBeyondTheAgreedWindow) {
  std::string message = periodic(2000, 20000);
  Deflater wide({.windowBits = 15});
  std::string wire = compressed(wide, message);
  Inflater narrow({.windowBits = 10});
  std::string out;
  EXPECT_EQ(narrow.inflateMessage(wire, out, kNoLimit), InflateStatus::Corrupt);
  EXPECT_FALSE(narrow.error().empty());
}

TEST(DeflateWindow, EightBitsAgreedMeansNoDistanceBeyond256) {
  // zlib deflates with 9 bits when 8 are agreed (it has no 8-bit raw deflate). That is only
  // sound if it never refers more than 256 bytes back; a window-8 inflater checks it. Data
  // repeating every 300 bytes tempts any encoder whose reach exceeds 256 bytes...
  std::string message = periodic(300, 60000) + periodic(200, 20000);
  for (bool noContextTakeover : {false, true}) {
    Deflater deflater({.windowBits = 8, .noContextTakeover = noContextTakeover});
    Inflater inflater({.windowBits = 8, .noContextTakeover = noContextTakeover});
    for (int round = 0; round < 3; ++round) {
      std::string out;
      ASSERT_EQ(inflater.inflateMessage(compressed(deflater, message), out, kNoLimit),
                InflateStatus::Ok)
          << inflater.error();
      EXPECT_TRUE(out == message);
    }
  }
  // ...as a 10-bit deflater shows: it does use distance 300, which window 8 cannot decode.
  Deflater wider({.windowBits = 10});
  Inflater inflater({.windowBits = 8});
  std::string out;
  EXPECT_EQ(inflater.inflateMessage(compressed(wider, message), out, kNoLimit),
            InflateStatus::Corrupt);
}

// ---- Failures --------------------------------------------------------------------------------

TEST(DeflateBomb, StopsAtTheLimitWithoutInflatingTheRest) {
  const size_t kBomb = 10 << 20;
  const size_t kMax = 1 << 20;
  Deflater deflater({.level = 9});
  std::string bomb = compressed(deflater, std::string(kBomb, '\0'));
  ASSERT_LT(bomb.size(), 20000u);  // about 1000:1

  Inflater inflater;
  std::string out;
  EXPECT_EQ(inflater.inflateMessage(bomb, out, kMax), InflateStatus::TooBig);
  EXPECT_LE(out.size(), kMax + 1);
  EXPECT_LE(out.capacity(), 2 * kMax + 64);
  // It read about a tenth of the input: the rest, 9 MiB of zeros, was never produced.
  EXPECT_LT(inflater.messageBytesIn(), bomb.size() / 5);
  EXPECT_EQ(inflater.memoryBytes(), 0u);  // the state is given back at once
  EXPECT_EQ(closeCodeFor(InflateStatus::TooBig), uint16_t(CloseCode::MessageTooBig));
  EXPECT_EQ(inflater.feed(kHello, out, kMax), InflateStatus::TooBig);  // and stays failed
}

TEST(DeflateBomb, FragmentedBombStopsAtTheFrameThatPassesTheLimit) {
  const size_t kMax = 1 << 20;
  Deflater deflater;
  std::string bomb = compressed(deflater, std::string(10 << 20, 'a'));
  Inflater inflater;
  std::string out;
  size_t piece = bomb.size() / 20;
  InflateStatus status = InflateStatus::Ok;
  size_t fed = 0;
  while (status == InflateStatus::Ok && fed < bomb.size()) {
    status = inflater.feed(std::string_view(bomb).substr(fed, piece), out, kMax);
    fed += piece;
  }
  EXPECT_EQ(status, InflateStatus::TooBig);
  EXPECT_LT(fed, bomb.size() / 2);
  EXPECT_LE(out.size(), kMax + 1);
}

TEST(DeflateLimits, ExactlyMaxSizeIsAllowed) {
  std::string message = repetitive(5000);
  Deflater deflater;
  std::string wire = compressed(deflater, message);
  std::string out;
  Inflater exact;
  EXPECT_EQ(exact.inflateMessage(wire, out, message.size()), InflateStatus::Ok);
  EXPECT_EQ(out, message);
  Inflater tooSmall;
  out.clear();
  EXPECT_EQ(tooSmall.inflateMessage(wire, out, message.size() - 1), InflateStatus::TooBig);
}

TEST(DeflateCorrupt, GarbageIsAnErrorWithAReason) {
  Inflater inflater;
  std::string out;
  // BTYPE 11 is reserved (RFC 1951 3.2.3).
  EXPECT_EQ(inflater.inflateMessage(bytes({0xff, 0xff, 0xff, 0xff}), out, kNoLimit),
            InflateStatus::Corrupt);
  EXPECT_FALSE(inflater.error().empty());
  EXPECT_EQ(closeCodeFor(InflateStatus::Corrupt), uint16_t(CloseCode::InvalidPayload));
  EXPECT_EQ(inflater.inflateMessage(kHello, out, kNoLimit), InflateStatus::Corrupt);
}

TEST(DeflateCorrupt, MessageCutInsideABlock) {
  Inflater inflater;
  std::string out;
  EXPECT_EQ(inflater.inflateMessage(kHello.substr(0, 3), out, kNoLimit), InflateStatus::Corrupt);
  EXPECT_NE(inflater.error().find("ends inside"), std::string::npos) << inflater.error();
}

TEST(DeflateCorrupt, RandomBytesNeverCrashOrExceedTheLimit) {
  // Whatever arrives, the result is a status and the output respects maxSize.
  for (uint32_t seed = 0; seed < 300; ++seed) {
    std::string junk = randomBytes(1 + seed % 200, seed);
    Inflater inflater;
    std::string out;
    InflateStatus status = inflater.inflateMessage(junk, out, 4096);
    EXPECT_LE(out.size(), 4097u);
    if (status != InflateStatus::Ok) {
      EXPECT_EQ(inflater.memoryBytes(), 0u);
    }
  }
}

// ---- Memory ----------------------------------------------------------------------------------

TEST(DeflateMemory, StateIsCreatedOnFirstUseAndReleasedWithoutTakeover) {
  Deflater deflater({.noContextTakeover = true});
  Inflater inflater({.noContextTakeover = true});
  EXPECT_EQ(deflater.memoryBytes(), 0u);
  EXPECT_EQ(inflater.memoryBytes(), 0u);
  std::string wire = compressed(deflater, "Hello");
  EXPECT_GT(deflater.memoryBytes(), 100000u);  // libdeflate's level-6 compressor
  std::string out;
  ASSERT_EQ(inflater.inflateMessage(wire, out, kNoLimit), InflateStatus::Ok);
  EXPECT_GT(inflater.memoryBytes(), 32768u);

  EXPECT_TRUE(deflater.release());
  EXPECT_TRUE(inflater.release());
  EXPECT_EQ(deflater.memoryBytes(), 0u);
  EXPECT_EQ(inflater.memoryBytes(), 0u);
  // And everything works again afterwards.
  EXPECT_EQ(compressed(deflater, "Hello"), kHelloBfinal);
  out.clear();
  ASSERT_EQ(inflater.inflateMessage(kHello, out, kNoLimit), InflateStatus::Ok);
  EXPECT_EQ(out, "Hello");
}

TEST(DeflateMemory, ContextTakeoverStateIsKept) {
  Deflater deflater;
  Inflater inflater;
  std::string out;
  ASSERT_EQ(inflater.inflateMessage(compressed(deflater, "Hello"), out, kNoLimit),
            InflateStatus::Ok);
  EXPECT_FALSE(deflater.release());
  EXPECT_FALSE(inflater.release());
  EXPECT_GT(deflater.memoryBytes(), 0u);
  EXPECT_GT(inflater.memoryBytes(), 0u);
  // The shared history is still there: the RFC's short second "Hello".
  EXPECT_EQ(compressed(deflater, "Hello"), bytes({0xf2, 0x00, 0x11, 0x00, 0x00}));
}

TEST(DeflateMemory, InflaterKeepsItsStateInsideAMessage) {
  Inflater inflater({.noContextTakeover = true});
  std::string out;
  ASSERT_EQ(inflater.feed(kHello.substr(0, 3), out, kNoLimit), InflateStatus::Ok);
  EXPECT_FALSE(inflater.release());  // half a message: its state is still needed
  ASSERT_EQ(inflater.feed(kHello.substr(3), out, kNoLimit), InflateStatus::Ok);
  ASSERT_EQ(inflater.finish(out, kNoLimit), InflateStatus::Ok);
  EXPECT_EQ(out, "Hello");
  EXPECT_TRUE(inflater.release());
}

TEST(DeflateMemory, EmptyMessagesNeedNoState) {
  Deflater deflater;
  Inflater inflater;
  std::string out;
  ASSERT_EQ(inflater.inflateMessage(compressed(deflater, ""), out, kNoLimit), InflateStatus::Ok);
  EXPECT_EQ(deflater.memoryBytes(), 0u);
}

}  // namespace
}  // namespace duplex::protocol
