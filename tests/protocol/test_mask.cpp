#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "protocol/mask.h"

namespace duplex::protocol {
namespace {

void referenceMask(uint8_t* data, size_t size, const uint8_t key[4], size_t offset) {
  for (size_t i = 0; i < size; ++i) data[i] ^= key[(offset + i) % 4];
}

// Every key phase, every start alignment within a 16-byte line, and every length around the
// word and block sizes, against the byte-at-a-time definition of RFC 6455 5.3.
TEST(Mask, MatchesByteWiseReferenceAtEveryOffsetAndAlignment) {
  const uint8_t key[4] = {0xA1, 0x5C, 0x07, 0xF3};
  std::mt19937 rng(7);
  std::vector<uint8_t> original(256 + 16);
  for (auto& b : original) b = static_cast<uint8_t>(rng());
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 72; ++n) lengths.push_back(n);
  for (size_t n : {95, 96, 97, 127, 128, 129, 255, 256}) lengths.push_back(n);
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t align = 0; align < 16; ++align) {
      for (size_t n : lengths) {
        std::vector<uint8_t> fast = original, slow = original;
        const size_t next = applyMask(fast.data() + align, n, key, offset);
        referenceMask(slow.data() + align, n, key, offset);
        ASSERT_EQ(fast, slow) << "offset " << offset << " align " << align << " length " << n;
        ASSERT_EQ(next, (offset + n) % 4);
      }
    }
  }
}

TEST(Mask, PiecewiseEqualsWhole) {
  const uint8_t key[4] = {1, 2, 3, 4};
  std::vector<uint8_t> whole(1000);
  for (size_t i = 0; i < whole.size(); ++i) whole[i] = static_cast<uint8_t>(i * 31);
  std::vector<uint8_t> pieces = whole;
  applyMask(whole.data(), whole.size(), key);
  size_t offset = 0, pos = 0;
  for (size_t piece : {1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 392}) {
    offset = applyMask(pieces.data() + pos, piece, key, offset);
    pos += piece;
  }
  ASSERT_EQ(pos, pieces.size());
  EXPECT_EQ(pieces, whole);
}

TEST(Mask, IsAnInvolution) {
  const uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};
  std::vector<uint8_t> data(100, 0x42), copy = data;
  applyMask(data.data(), data.size(), key, 1);
  EXPECT_NE(data, copy);
  applyMask(data.data(), data.size(), key, 1);
  EXPECT_EQ(data, copy);
}

// RFC 6455 5.7: "Hello" masked with 37 fa 21 3d.
TEST(Mask, RfcExample) {
  const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  uint8_t data[] = {'H', 'e', 'l', 'l', 'o'};
  applyMask(data, sizeof data, key);
  const uint8_t expected[] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
  EXPECT_EQ(std::vector<uint8_t>(data, data + 5), std::vector<uint8_t>(expected, expected + 5));
}

}  // namespace
}  // namespace duplex::protocol
