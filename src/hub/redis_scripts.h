#pragma once
// The Redis engine's Lua scripts (docs/scaling.md). Each runs atomically in Redis, so a
// publication's idempotency check, offset, append, trim and pub/sub message are one step that
// either happened whole or not at all. Loaded with SCRIPT LOAD when a connection comes up and
// run with EVALSHA, falling back to EVAL when Redis answers NOSCRIPT (after a SCRIPT FLUSH or a
// restart without the cache).
#include <string>
#include <string_view>
#include <vector>

#include "redis/redis.h"

namespace duplex::hub {

struct RedisScript {
  std::string_view source;
  std::string sha1;  // hex, of source

  explicit RedisScript(std::string_view text);
  // EVALSHA (then EVAL on NOSCRIPT) with `keys` and `args`.
  void run(redis::Connection& connection, std::vector<std::string> keys,
           std::vector<std::string> args, redis::Connection::Callback done) const;
};

// KEYS meta, stream[, idempotency key]. ARGV data, history size, ttl ms (0: none), window ms,
// now ms, new epoch (used when the channel has none), pub/sub channel, node id.
// Answers {duplicate (0/1), offset, epoch}.
const RedisScript& publishScript();
// KEYS meta, stream. ARGV mode ("p" position, "l" latest, "s" since), create ("1": draw the
// epoch of a channel that has none), new epoch, limit, after offset, epoch, cutoff ms (entries
// older are expired; 0: none). Answers {epoch, top, recovered (0/1), {offset, data, ...}}.
const RedisScript& readScript();
// KEYS presence. ARGV client, "expiryMs user", max, now ms, ttl ms. Answers 1 joined, 0 full.
const RedisScript& joinScript();

}  // namespace duplex::hub
