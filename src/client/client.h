#pragma once
// The client: connects to ws://host:port/path (or wss://, over TLS) on a Loop, checks the
// server's handshake (Sec-WebSocket-Accept, the subprotocol), and then offers the same WebSocket
// API as the server side. Frames are masked with keys from the kernel's CSPRNG (RFC 6455 5.3).
// wss:// verifies the server's certificate and name unless told not to (ClientBehavior::tls).
//
//   net::Loop loop;
//   duplex::connect(loop, "ws://127.0.0.1:9001/echo", {
//       .open = [](duplex::WebSocket& ws) { ws.send("hi"); },
//       .message = [&](duplex::WebSocket& ws, std::string_view data, duplex::Opcode) {
//         std::puts(std::string(data).c_str()); ws.close(); },
//       .close = [&](duplex::WebSocket&, uint16_t, std::string_view) { loop.stop(); },
//   });
//   loop.run();
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connection/websocket.h"
#include "net/loop.h"
#include "net/resolver.h"
#include "protocol/connection_limits.h"

namespace duplex {

// For wss:// URLs.
struct ClientTlsOptions {
  // Check the certificate chain and that it names the host. Off only when asked, for tests or
  // a trusted network: anyone in the middle can then read and change the traffic.
  bool verify = true;
  // PEM bundle of trusted CAs instead of the system's store.
  std::string caFile;
  // The name sent in SNI and checked against the certificate; empty: the URL's host. For
  // connecting to an address (or another name) while expecting a certificate for this one.
  std::string serverName;
};

// The limits (maxMessageSize, maxFrameSize, maxBackpressure, idleTimeoutSeconds, autoPing,
// pingTimeoutSeconds, closeTimeoutSeconds) are ConnectionLimits' fields, with the same safe
// defaults as a server route's: 1 MiB messages, 4 MiB of backpressure, a ping after 120 idle
// seconds. Raise maxMessageSize for a server known to send more.
struct ClientBehavior : protocol::ConnectionLimits {
  std::function<void(WebSocket&)> open;
  std::function<void(WebSocket&, std::string_view data, Opcode opcode)> message;
  // After open: how the connection ended (see WebSocketBehavior::close).
  std::function<void(WebSocket&, uint16_t code, std::string_view reason)> close;
  // Before open: the connection or the handshake (TCP, TLS, HTTP) failed; `error` says why
  // ("certificate verify failed: hostname mismatch"). No close follows.
  std::function<void(std::string_view error)> error;
  std::function<void(WebSocket&)> drain;
  std::function<void(WebSocket&, std::string_view payload)> ping;
  std::function<void(WebSocket&, std::string_view payload)> pong;

  std::vector<std::string> subprotocols;                     // offered in this order
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  std::string origin;
  uint32_t handshakeTimeoutSeconds = 10;
  ClientTlsOptions tls;
  // permessage-deflate offered to the server (as browsers do); enabled = false offers nothing.
  protocol::PerMessageDeflateConfig compression;
  // How a host name is looked up (on a lookup thread, see net::Resolver); empty: the
  // system's resolver. For tests: a lookup that takes its time, or answers what they need.
  net::Lookup lookup;
};

// Starts connecting; nothing here blocks. A literal address (127.0.0.1, [::1]) is connected to at
// once; a host name is first looked up on a thread of its own (a slow DNS server holds up this
// connection, not the loop), then its addresses are tried in turn while they refuse.
// handshakeTimeoutSeconds covers all of it: lookup, connect, TLS and the HTTP exchange.
// Returns the connection, owned by the loop and valid until its close (or error) handler has
// returned; null when it failed at once (a TLS setup error, a literal address the kernel
// refuses outright: no route), with behavior.error still to come. Throws std::invalid_argument
// for a malformed URL; other failures go to behavior.error, at a later iteration, never inside
// connect(): "cannot resolve NAME: REASON", "connection failed: Connection refused", ...
// Before open, close() or terminate() abandons the attempt: no handler runs for it.
WebSocket* connect(net::Loop& loop, std::string_view url, ClientBehavior behavior);

}  // namespace duplex
