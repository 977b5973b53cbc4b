#pragma once
// The limits and timeouts of a WebSocket connection, one set of defaults for both roles: a
// server's route (WebSocketBehavior) and a client (ClientBehavior) both derive from this
// struct, so `behavior.maxMessageSize = ...` reads the same on either side. The defaults are
// the safe ones a server needs against peers it does not trust; a client that expects larger
// messages from its server raises maxMessageSize.
#include <cstddef>
#include <cstdint>

namespace duplex::protocol {

struct ConnectionLimits {
  uint64_t maxMessageSize = 1 << 20;  // larger messages close the connection with 1009
  uint64_t maxFrameSize = 0;          // 0 = same as maxMessageSize
  // A peer that never reads: once more than this is queued for it, the next send drops the
  // connection instead of letting memory grow.
  size_t maxBackpressure = 4 << 20;
  uint32_t idleTimeoutSeconds = 120;  // 0 = never; with autoPing a ping goes first
  bool autoPing = true;
  uint32_t closeTimeoutSeconds = 5;  // how long we wait for the peer's close frame / TCP close
};

}  // namespace duplex::protocol
