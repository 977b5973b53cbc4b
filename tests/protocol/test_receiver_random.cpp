// Randomised streams, valid and broken: however they are cut into reads, the Receiver gives the
// same events and the same verdict. (Under the sanitizer build this also shakes out memory
// errors on inputs nobody thought to write by hand.)
#include <gtest/gtest.h>

#include <random>

#include "receiver_harness.h"

namespace duplex::protocol::test {
namespace {

// A frame that is usually valid and sometimes breaks one rule (bad opcode, RSV bits, missing
// mask, odd lengths, bad UTF-8), so that streams reach deep states before failing.
std::string randomFrame(std::mt19937& rng, bool& messageOpen) {
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };
  uint8_t op;
  if (chance(25)) {
    op = static_cast<uint8_t>(PING + rng() % 2);
  } else if (messageOpen) {
    op = chance(95) ? CONT : TEXT;
  } else {
    op = chance(95) ? static_cast<uint8_t>(TEXT + rng() % 2) : CONT;
  }
  if (chance(2)) op = static_cast<uint8_t>(rng() % 16);
  const bool control = (op & 0x8) != 0;
  bool fin = control ? !chance(2) : chance(60);
  uint8_t b0 = static_cast<uint8_t>(op | (fin ? FIN : 0));
  if (chance(2)) b0 |= static_cast<uint8_t>(RSV1 << (rng() % 3));

  size_t size;
  const size_t sizes[] = {0, 1, 2, 3, 125, 126, 127, 300, 65535, 65536};
  if (control) {
    size = chance(90) ? rng() % 20 : (chance(90) ? 125 : 126);
  } else {
    size = chance(80) ? rng() % 40 : sizes[rng() % std::size(sizes)];
  }
  std::string payload;
  if (op == CLOSE && size >= 2 && chance(90)) {
    const uint16_t codes[] = {1000, 1001, 1002, 1003, 1007, 1011, 3000, 4999, 1005, 999, 5000};
    payload = closePayload(codes[rng() % std::size(codes)]);
    size -= 2;
  }
  const std::string_view pieces[] = {"a", "hello ", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
  while (payload.size() < size) {
    const std::string_view piece = pieces[rng() % std::size(pieces)];
    if (chance(1)) {
      payload += static_cast<char>(0x80 + rng() % 128);  // likely breaks UTF-8
    } else if (payload.size() + piece.size() <= size || chance(10)) {
      payload += piece;  // now and then a character is cut, to go on in the next fragment
    } else {
      payload += 'a';
    }
  }
  payload.resize(size);
  const Mask mask = chance(1) ? Mask::No : Mask::Yes;
  Length form = Length::Minimal;
  if (chance(1)) form = chance(50) ? Length::Force16 : Length::Force64;
  if (!control) messageOpen = !fin;
  return rawFrame(b0, payload, mask, form);
}

TEST(ReceiverRandom, ChunkingNeverChangesTheOutcome) {
  std::mt19937 rng(20240601);
  size_t errors = 0, messages = 0;
  for (int round = 0; round < 300; ++round) {
    std::string stream;
    bool open = false;
    const int frames = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < frames; ++i) stream += randomFrame(rng, open);
    if (rng() % 10 == 0 && !stream.empty()) {
      stream[rng() % stream.size()] ^= static_cast<char>(1 << (rng() % 8));  // one flipped bit
    }
    ReceiverConfig config;
    config.maxFrameSize = 70000;
    config.maxMessageSize = 100000;
    const bool compression = rng() % 4 == 0;

    Receiver whole;
    whole.allowCompression(compression);
    const std::vector<Seen> expected = feedWhole(whole, stream, config);

    Receiver bytewise;
    bytewise.allowCompression(compression);
    ASSERT_EQ(feed(bytewise, stream, config, [] { return 1; }), expected) << "round " << round;

    Receiver chunked;
    chunked.allowCompression(compression);
    std::mt19937 chunks(static_cast<uint32_t>(round));
    ASSERT_EQ(feed(chunked, stream, config, [&] { return 1 + chunks() % 200; }), expected)
        << "round " << round;

    if (!expected.empty() && expected.back().kind == Event::Kind::Error) ++errors;
    for (const Seen& s : expected) messages += s.kind == Event::Kind::Message;
  }
  // The generator reaches both outcomes often, or this test would prove little.
  EXPECT_GT(errors, 30u);
  EXPECT_GT(messages, 300u);
}

}  // namespace
}  // namespace duplex::protocol::test
