#include "deflate.h"

#include "protocol/deflate_session.h"

namespace bench {

namespace protocol = duplex::protocol;

ClientDeflate::ClientDeflate(bool takeover) {
  config_.serverNoContextTakeover = !takeover;
  config_.clientNoContextTakeover = !takeover;
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
  out = std::make_unique<ConnectionDeflate>();
  out->send = protocol::sendSettings(agreed.params, protocol::Role::Client, config_);
  // Browsers and most clients compress with zlib's stream; so does the generator, so that every
  // server inflates what it would meet in the field, as in the runs before duplex's own sends
  // moved to libdeflate.
  out->send.zlibOnly = true;
  out->receive = protocol::receiveSettings(agreed.params, protocol::Role::Client);
  return true;
}

bool ClientDeflate::compress(ConnectionDeflate& c, std::string_view message, std::string& out) {
  out.clear();
  protocol::Deflater* deflater = c.ownDeflater.get();
  if (c.send.noContextTakeover) {
    auto& shared = sharedDeflaters_[c.send.windowBits & 15];
    if (!shared) shared = std::make_unique<protocol::Deflater>(c.send);
    deflater = shared.get();
  } else if (!deflater) {
    c.ownDeflater = std::make_unique<protocol::Deflater>(c.send);
    deflater = c.ownDeflater.get();
  }
  if (!deflater->compress(message, out)) return false;
  if (c.send.noContextTakeover && out.size() >= message.size()) return false;
  return true;
}

protocol::InflateStatus ClientDeflate::inflate(ConnectionDeflate& c, std::string_view payload,
                                               std::string& out, size_t maxSize,
                                               std::string& error) {
  out.clear();
  protocol::Inflater* inflater = c.ownInflater.get();
  std::unique_ptr<protocol::Inflater>* shared = nullptr;
  if (c.receive.noContextTakeover) {
    shared = &sharedInflaters_[c.receive.windowBits & 15];
    if (!*shared) *shared = std::make_unique<protocol::Inflater>(c.receive);
    inflater = shared->get();
  } else if (!inflater) {
    c.ownInflater = std::make_unique<protocol::Inflater>(c.receive);
    inflater = c.ownInflater.get();
  }
  const protocol::InflateStatus status = inflater->inflateMessage(payload, out, maxSize);
  if (status != protocol::InflateStatus::Ok) {
    error = inflater->error();
    if (shared) shared->reset();  // a failed Inflater stays failed; the run ends anyway
  }
  return status;
}

}  // namespace bench
