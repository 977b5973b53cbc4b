#pragma once
// The opening handshake, RFC 6455 section 4, for both sides. Sans-I/O.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http.h"

namespace duplex::protocol {

// What a valid upgrade request asks for (views into the request's head).
struct UpgradeRequest {
  std::string_view key;                      // Sec-WebSocket-Key
  std::string_view origin;                   // Origin, empty when absent (non-browser clients)
  std::vector<std::string_view> protocols;   // Sec-WebSocket-Protocol tokens, in offer order
  std::vector<std::string_view> extensions;  // each Sec-WebSocket-Extensions header line
};

// Checks an already parsed request against RFC 6455 4.2.1: GET (else 405 with Allow: GET),
// HTTP/1.1 (else 400), Host present, Upgrade containing "websocket" (absent: 426 with
// Upgrade: websocket; wrong: 400), Connection containing "upgrade" (400), a
// Sec-WebSocket-Key that is the base64 of exactly 16 bytes and appears once (400), and
// Sec-WebSocket-Version 13 (else 426 with Sec-WebSocket-Version: 13). 400 messages name the
// header that was wrong.
bool validateUpgrade(const HttpRequest& request, UpgradeRequest& out, HttpError& error);

// base64(SHA-1(key + the RFC's GUID)).
std::string computeAccept(std::string_view key);

// The 101 response. `protocol` and `extensions` are omitted when empty.
std::string writeUpgradeResponse(std::string_view key, std::string_view protocol = {},
                                 std::string_view extensions = {});

// Client side. `nonce16` are 16 random bytes that the caller draws from a CSPRNG; the returned
// key is their base64 (RFC 6455 4.1).
std::string makeClientKey(std::span<const uint8_t, 16> nonce16);
struct ClientRequest {
  std::string_view host;  // "host:port" as it goes into Host
  std::string_view path;  // path plus query, starting with '/'
  std::string_view key;
  std::vector<std::string_view> protocols;
  std::string_view extensions;
  std::string_view origin;
  std::vector<Header> extraHeaders;
};
std::string writeClientRequest(const ClientRequest& request);

struct UpgradeResponse {
  int status = 0;
  std::string_view protocol;
  std::string_view extensions;
  std::vector<Header> headers;
};
// Parses the server's answer (a complete head) and checks it per RFC 6455 4.1: status 101,
// Upgrade: websocket, Connection: upgrade, the right Sec-WebSocket-Accept, and a protocol that
// was offered. Returns false with a message saying what was wrong.
bool parseUpgradeResponse(std::string_view head, std::string_view key,
                          const std::vector<std::string_view>& offeredProtocols,
                          UpgradeResponse& out, std::string& error);

}  // namespace duplex::protocol
