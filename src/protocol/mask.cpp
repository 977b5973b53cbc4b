#include "protocol/mask.h"

#include <cstring>

namespace duplex::protocol {

size_t applyMask(uint8_t* data, size_t size, const uint8_t key[4], size_t offset) {
  offset &= 3;
  // Rotate the key so that byte i of this piece uses rotated[i % 4]; then a word of 8 bytes
  // (a multiple of 4) always starts at the same key phase.
  const uint8_t rotated[4] = {key[offset], key[(offset + 1) & 3], key[(offset + 2) & 3],
                              key[(offset + 3) & 3]};
  uint8_t pattern[8];
  std::memcpy(pattern, rotated, 4);
  std::memcpy(pattern + 4, rotated, 4);
  uint64_t word;
  std::memcpy(&word, pattern, 8);

  // memcpy in and out makes unaligned words legal; compilers turn it into plain loads and
  // stores (and vectorise the 32-byte loop).
  size_t i = 0;
  for (; i + 32 <= size; i += 32) {
    uint64_t w[4];
    std::memcpy(w, data + i, 32);
    w[0] ^= word;
    w[1] ^= word;
    w[2] ^= word;
    w[3] ^= word;
    std::memcpy(data + i, w, 32);
  }
  for (; i + 8 <= size; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= word;
    std::memcpy(data + i, &w, 8);
  }
  for (; i < size; ++i) data[i] ^= rotated[i & 3];
  return (offset + size) & 3;
}

}  // namespace duplex::protocol
