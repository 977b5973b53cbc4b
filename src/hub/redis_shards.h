#pragma once
// Which Redis shard holds a channel: a consistent hash of the channel's name over the shards in
// the order duplexd was given them (--engine, repeated). Every node must list the same shards
// in the same order. Jump consistent hash (Lamping and Veach, 2014) over FNV-1a: no table, and
// adding a shard at the end moves only about 1/n of the channels.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace duplex::hub {

uint64_t fnv1a64(std::string_view text);
// In [0, shards); 0 when shards <= 1.
size_t shardOf(std::string_view channel, size_t shards);

}  // namespace duplex::hub
