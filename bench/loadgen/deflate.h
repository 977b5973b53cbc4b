#pragma once
// permessage-deflate (RFC 7692) for the generator's connections, built from the sans-I/O pieces
// in src/protocol (the offer, the response check, Deflater/Inflater), not from the server's
// src/server/compression.*: a mistake there must not be able to agree with itself here.
//
// A direction without context takeover compresses every message alone, so one zlib stream per
// loop serves every connection (as duplex, uWebSockets and Node ws do on the server side): a
// fan-out of 10,000 subscribers then costs the generator one Inflater, not 10,000. A direction
// with context takeover needs the connection's own stream, created on its first message.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "protocol/deflate_codec.h"
#include "protocol/permessage_deflate.h"

namespace bench {

// What one connection agreed to; null in Connection when compression is off.
struct ConnectionDeflate {
  duplex::protocol::DeflaterSettings send;
  duplex::protocol::InflaterSettings receive;
  std::unique_ptr<duplex::protocol::Deflater> ownDeflater;  // only with context takeover
  std::unique_ptr<duplex::protocol::Inflater> ownInflater;
};

class ClientDeflate {
 public:
  // `takeover` false offers "permessage-deflate; server_no_context_takeover;
  // client_no_context_takeover" (what duplex's server asks for by default); true offers plain
  // "permessage-deflate" (RFC 7692's defaults: both sides keep their window).
  explicit ClientDeflate(bool takeover);

  const std::string& offerHeader() const { return offerHeader_; }

  // Checks the server's Sec-WebSocket-Extensions value against the offer. False with `error`
  // when the server declined (a server that silently does not compress must not look fast) or
  // answered with something RFC 7692 forbids.
  bool accept(std::string_view response, std::unique_ptr<ConnectionDeflate>& out,
              std::string& error) const;

  // Every data message goes compressed unless compressing alone did not shrink it (allowed
  // only without context takeover, RFC 7692 7.2.1). True: `out` holds the compressed bytes.
  bool compress(ConnectionDeflate& c, std::string_view message, std::string& out);
  // Inflates one whole received message into `out` (cleared first).
  duplex::protocol::InflateStatus inflate(ConnectionDeflate& c, std::string_view payload,
                                          std::string& out, size_t maxSize, std::string& error);

 private:
  duplex::protocol::PerMessageDeflateConfig config_;
  duplex::protocol::DeflateOffer offer_;
  std::string offerHeader_;
  // Shared streams for directions without context takeover, by window bits (8..15).
  std::unique_ptr<duplex::protocol::Deflater> sharedDeflaters_[16];
  std::unique_ptr<duplex::protocol::Inflater> sharedInflaters_[16];
};

}  // namespace bench
