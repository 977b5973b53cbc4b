#pragma once
// permessage-deflate negotiation, RFC 7692 section 7.1, for both sides of the handshake.
//
// Server: acceptDeflateOffer() reads the client's Sec-WebSocket-Extensions lines, accepts the
// first permessage-deflate offer that the config can honour and returns the response header
// value; offers it cannot honour (unknown or duplicated parameters, invalid values) are
// declined, never answered with something the client would have to reject.
// Client: makeDeflateOffer() builds the offer, validateDeflateResponse() checks the server's
// answer and fails the connection (returns an error) on anything RFC 7692 forbids.
//
// Either way the result is DeflateParams, the "agreed parameters", from which a connection
// builds its PerMessageDeflate (deflate_session.h). Sans-I/O, and allocation only here, in
// the handshake.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace duplex::protocol {

inline constexpr std::string_view kPerMessageDeflate = "permessage-deflate";

// Per route (server) or per client; shared by all its connections. The window and takeover
// fields name the side they constrain, as the RFC's parameters do, so the same struct serves
// both roles. The defaults are chosen so that an idle connection holds no compression memory
// (no context takeover both ways; see docs/compression.md for what the other choices cost).
struct PerMessageDeflateConfig {
  bool enabled = true;
  // Largest LZ77 window (8..15 bits) each side may use. A server answers with the smaller of
  // this and what the client asked; a client offers it when below 15.
  uint8_t serverMaxWindowBits = 15;
  uint8_t clientMaxWindowBits = 15;
  // Ask (client) or require (server) that the side compresses each message on its own.
  bool serverNoContextTakeover = true;
  bool clientNoContextTakeover = true;
  int8_t level = 6;      // zlib compression level for what we send: 1 fast .. 9 small, 0 none
  uint8_t memLevel = 8;  // zlib memLevel 1..9 for what we send: hash table of 2^(memLevel+7)
  // Messages shorter than this are sent uncompressed. Unset picks by what we may do: without
  // context takeover a message is compressed alone, and a 128-byte JSON message shrinks by
  // under 20% for ~10 us of CPU, so 256; with takeover even 32 bytes shrink to about a
  // third (they repeat earlier messages), so 32. docs/compression.md has the measurements.
  std::optional<size_t> minMessageSize;
  // Compress with zlib's sync-flushed stream only, never libdeflate (deflate_alone.h): for a
  // benchmark generator that must send what browsers send. Not negotiated.
  bool zlibOnly = false;
};

inline constexpr size_t kMinMessageSizeAlone = 256;
inline constexpr size_t kMinMessageSizeWithTakeover = 32;

// Returns false, saying which field is wrong, when a config is out of range.
bool validateDeflateConfig(const PerMessageDeflateConfig& config, std::string& error);

// The agreed parameters (RFC 7692 7.1): what each side may do once negotiation is over.
struct DeflateParams {
  uint8_t serverMaxWindowBits = 15;
  uint8_t clientMaxWindowBits = 15;
  bool serverNoContextTakeover = false;
  bool clientNoContextTakeover = false;

  bool operator==(const DeflateParams&) const = default;
};

// ---- Server side ----------------------------------------------------------------------------

struct DeflateAcceptance {
  bool accepted = false;
  std::string response;  // the Sec-WebSocket-Extensions value to send when accepted
  DeflateParams params;
  // Why nothing was accepted, or why an offer before the accepted one was declined. For a log
  // line at debug level; never sent to the client.
  std::string note;
};

// `lines` are the request's Sec-WebSocket-Extensions header lines, in order (as
// UpgradeRequest::extensions holds them). A line that does not parse declines everything:
// there is no telling where its offers begin and end.
DeflateAcceptance acceptDeflateOffer(std::span<const std::string_view> lines,
                                     const PerMessageDeflateConfig& config);

// ---- Client side ----------------------------------------------------------------------------

// What a client offered, kept to check the server's answer against.
struct DeflateOffer {
  bool serverNoContextTakeover = false;
  bool clientNoContextTakeover = false;
  uint8_t serverMaxWindowBits = 0;  // 0: not offered (the server may use any window)
  // 0: not offered, so the server may not limit our window. 15: offered without a value
  // ("we can limit it if you ask"). 8..14: offered with that value.
  uint8_t clientMaxWindowBits = 0;

  std::string headerValue() const;  // "permessage-deflate; client_max_window_bits; ..."
};

DeflateOffer makeDeflateOffer(const PerMessageDeflateConfig& config);

struct DeflateResponse {
  bool enabled = false;  // false: the server declined, messages go uncompressed
  DeflateParams params;
};

// Checks the server's Sec-WebSocket-Extensions lines (none, or empty, when it declined)
// against what we offered. False with `error` set means the caller must fail the connection
// (RFC 7692 5 and 7: parameters not allowed in a response, bad or duplicated values, two
// permessage-deflate elements, limits looser than we asked, or an extension we never offered).
bool validateDeflateResponse(std::span<const std::string_view> lines, const DeflateOffer& offer,
                             DeflateResponse& out, std::string& error);
// The same for a single header value, as UpgradeResponse::extensions holds it.
bool validateDeflateResponse(std::string_view line, const DeflateOffer& offer, DeflateResponse& out,
                             std::string& error);

}  // namespace duplex::protocol
