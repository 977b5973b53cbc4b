#pragma once
// permessage-deflate (RFC 7692) for the generator's connections: the offer and the check of
// the server's answer, built from the sans-I/O negotiation in src/protocol, not from duplex's
// client or server. Each agreed connection then holds a protocol::PerMessageDeflate, the same
// per-connection class production uses (one implementation to trust, not a copy to drift):
// without context takeover it borrows the thread's shared zlib streams, so a fan-out of 10,000
// subscribers costs the generator one Inflater, not 10,000.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "protocol/deflate_session.h"
#include "protocol/permessage_deflate.h"

namespace bench {

using ConnectionDeflate = duplex::protocol::PerMessageDeflate;

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
  static bool compress(ConnectionDeflate& c, std::string_view message, std::string& out) {
    out.clear();
    return c.compress(message, out);
  }
  // Inflates one whole received message into `out` (cleared first).
  static duplex::protocol::InflateStatus inflate(ConnectionDeflate& c, std::string_view payload,
                                                 std::string& out, size_t maxSize,
                                                 std::string& error);

 private:
  duplex::protocol::PerMessageDeflateConfig config_;
  duplex::protocol::DeflateOffer offer_;
  std::string offerHeader_;
};

}  // namespace bench
