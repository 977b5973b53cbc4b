#pragma once
// What a WebSocket route does (the handler API) and the limits it enforces. Everything has a safe
// default, so the smallest route is `{.message = ...}`. It lives in the connection layer because
// the WebSocket adapter runs its handlers; the server's routes and the client (ClientBehavior)
// share its limits (protocol::ConnectionLimits, one set of defaults).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/close_code.h"
#include "protocol/connection_limits.h"
#include "protocol/opcode.h"
#include "protocol/permessage_deflate.h"

namespace duplex {

class WebSocket;
class Request;

// The limits (maxMessageSize, maxFrameSize, maxBackpressure, idleTimeoutSeconds, autoPing,
// closeTimeoutSeconds) are ConnectionLimits' fields: `behavior.maxMessageSize = 64 << 10;`.
struct WebSocketBehavior : protocol::ConnectionLimits {
  // Before the 101: return 0 to accept the upgrade, or an HTTP status (401, 403, 503...) to
  // refuse it. Runs after the handshake itself was found valid.
  std::function<int(const Request&)> accept;
  // The connection is open. `request` (path, query, headers, ...) is valid during this call only:
  // copy what you need into ws.data().
  std::function<void(WebSocket&, const Request&)> open;
  // A whole message (fragments reassembled, UTF-8 of text already validated). `data` is valid
  // during the call only.
  std::function<void(WebSocket&, std::string_view data, Opcode opcode)> message;
  // Called once when the connection is over: the code and reason the peer sent, the code we
  // failed the connection with (1002, 1007, 1009...), or 1006 Abnormal when TCP just ended.
  // ws.error() names the broken rule or the loss (protocol::Error), None for a clean close.
  std::function<void(WebSocket&, uint16_t code, std::string_view reason)> close;
  // The send queue emptied after the kernel had pushed back (see bufferedAmount()).
  std::function<void(WebSocket&)> drain;
  std::function<void(WebSocket&, std::string_view payload)> ping;  // pong is sent for you
  std::function<void(WebSocket&, std::string_view payload)> pong;

  // Subprotocols we speak, in our order of preference; the first one the client also offers is
  // chosen (RFC 6455 4.2.2). A client offering only others gets no Sec-WebSocket-Protocol.
  std::vector<std::string> subprotocols;

  // permessage-deflate (RFC 7692), negotiated with clients that offer it. The default (no
  // context takeover either way) holds no zlib state per connection: every message is
  // compressed alone with the thread's shared streams, and messages under 256 bytes go plain.
  // Allowing context takeover compresses chat-like traffic better for ~300 KiB per connection
  // (docs/compression.md). Set enabled = false to refuse compression.
  protocol::PerMessageDeflateConfig compression;
};

}  // namespace duplex
