#pragma once
// permessage-deflate for one connection (RFC 7692), as cheap as the agreed parameters allow.
//
// A direction with context takeover needs its own zlib stream for the connection's lifetime:
// its window is the shared history of that connection's messages. A direction without it
// compresses every message alone, so any stream will do: those borrow the thread's shared
// Deflater / Inflater (one per distinct setting), the way uWebSockets' SHARED_COMPRESSOR does.
// A connection negotiated with no context takeover both ways therefore holds no zlib state at
// all, idle or busy, and pays no stream setup per message.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "protocol/deflate_codec.h"
#include "protocol/deflate_session.h"
#include "protocol/permessage_deflate.h"

namespace duplex {

class Compression {
 public:
  Compression(const protocol::DeflateParams& agreed, protocol::Role role,
              const protocol::PerMessageDeflateConfig& config);
  ~Compression();

  // Appends `message` compressed to `out` and returns true when it should go compressed (RSV1);
  // false when it should go as is (short, or not smaller and allowed to skip).
  bool compress(std::string_view message, std::string& out);
  // Inflates one whole received message into `out`, at most maxSize bytes. On failure `error`
  // says why (zlib's words).
  protocol::InflateStatus inflate(std::string_view payload, std::string& out, size_t maxSize,
                                  std::string& error);

  // zlib state this connection holds by itself (the shared streams are not counted).
  size_t ownMemoryBytes() const;

  // What we send is compressed message by message (no context takeover on our side), so the
  // bytes compress() produces depend only on the message and these settings: a broadcast can
  // compress once for every connection that shares them (pubsub::Topics does).
  bool sendsAlone() const { return !ownDeflater_; }
  bool sameSendSettings(const Compression& other) const {
    return send_.windowBits == other.send_.windowBits && send_.level == other.send_.level &&
           send_.memLevel == other.send_.memLevel && minMessageSize_ == other.minMessageSize_;
  }

 private:
  protocol::DeflaterSettings send_;
  protocol::InflaterSettings receive_;
  size_t minMessageSize_;
  std::unique_ptr<protocol::Deflater> ownDeflater_;  // only with context takeover
  std::unique_ptr<protocol::Inflater> ownInflater_;
};

}  // namespace duplex
