#pragma once
// RFC 6455 5.3 masking, XOR with a 4-byte key, done a machine word (or vector) at a time.
#include <cstddef>
#include <cstdint>

namespace duplex::protocol {

// XORs data[i] with key[(offset + i) % 4]. `offset` lets a payload that arrives in pieces be
// unmasked piece by piece. Returns the offset to pass for the next piece ((offset + size) % 4).
size_t applyMask(uint8_t* data, size_t size, const uint8_t key[4], size_t offset = 0);

}  // namespace duplex::protocol
