#include "hub/redis_shards.h"

namespace duplex::hub {

uint64_t fnv1a64(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

size_t shardOf(std::string_view channel, size_t shards) {
  if (shards <= 1) return 0;
  uint64_t key = fnv1a64(channel);
  int64_t bucket = -1, next = 0;
  while (next < static_cast<int64_t>(shards)) {
    bucket = next;
    key = key * 2862933555777941757ull + 1;
    next = static_cast<int64_t>(
        static_cast<double>(bucket + 1) *
        (static_cast<double>(1ll << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<size_t>(bucket);
}

}  // namespace duplex::hub
