#pragma once
// One message to a list of connections the caller holds (python-websockets' `broadcast()`): the
// frame is built once, compressed once for the connections that compress each message alone, and
// the same bytes are queued on every connection, as Topics::publish does for a topic's
// subscribers. Connections that are not open are skipped, and so is one whose peer has left
// more than `slowBytes` unread (it misses this message; it is neither waited for nor closed).
#include <cstddef>
#include <span>
#include <string_view>

#include "net/loop.h"
#include "protocol/opcode.h"
#include "server/websocket.h"

namespace duplex::pubsub {

// Returns how many connections the message was queued for. Server-side connections only: a
// client's frames are masked one by one, so client connections get their own frame (send()).
size_t broadcast(net::Loop& loop, std::span<WebSocket* const> connections, std::string_view data,
                 Opcode opcode = Opcode::Text, size_t slowBytes = 1 << 20);

}  // namespace duplex::pubsub
