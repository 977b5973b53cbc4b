#include "deflate.h"

namespace bench {

namespace protocol = duplex::protocol;

ClientDeflate::ClientDeflate(bool takeover) {
  config_.serverNoContextTakeover = !takeover;
  config_.clientNoContextTakeover = !takeover;
  // Every data message is offered to the compressor, however short.
  config_.minMessageSize = 0;
  // Browsers and most clients compress with zlib's stream; so does the generator, so that every
  // server inflates what it would meet in the field, as in the runs before duplex's own sends
  // moved to libdeflate.
  config_.zlibOnly = true;
  offer_ = protocol::makeDeflateOffer(config_);
  offerHeader_ = offer_.headerValue();
}

bool ClientDeflate::accept(std::string_view response, std::unique_ptr<ConnectionDeflate>& out,
                           std::string& error) const {
  protocol::DeflateResponse agreed;
  if (!protocol::validateDeflateResponse(response, offer_, agreed, error)) return false;
  if (!agreed.enabled) {
    error = "the server did not accept permessage-deflate (offered '" + offerHeader_ + "')";
    return false;
  }
  out = std::make_unique<ConnectionDeflate>(agreed.params, protocol::Role::Client, config_);
  return true;
}

protocol::InflateStatus ClientDeflate::inflate(ConnectionDeflate& c, std::string_view payload,
                                               std::string& out, size_t maxSize,
                                               std::string& error) {
  out.clear();
  const protocol::InflateStatus status = c.inflate(payload, out, maxSize);
  if (status != protocol::InflateStatus::Ok) error = c.inflateError();
  return status;
}

}  // namespace bench
