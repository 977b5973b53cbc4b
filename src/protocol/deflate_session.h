#pragma once
// permessage-deflate for one connection (RFC 7692), as cheap as the agreed parameters allow.
// The one class every user of compression goes through: the connection (connection.h), the
// tests, the fuzzer and bench/loadgen.
//
// Each direction is set up from the agreed parameters for this side (a server sends with the
// server_* parameters and receives with the client_* ones). A direction with context takeover
// needs its own zlib stream for the connection's lifetime: its window is the shared history of
// that connection's messages. A direction without it compresses every message alone, so any
// stream will do: those borrow the thread's shared Deflater / Inflater (one per distinct
// setting), the way uWebSockets' SHARED_COMPRESSOR does. A connection negotiated with no
// context takeover both ways therefore holds no zlib state at all, idle or busy, and pays no
// stream setup per message.
//
// Sending:   if (pmd.compress(data, buf)) send buf with RSV1 set on the first frame;
//            else send data as is, RSV1 clear.
// Receiving: for a message the Receiver reported `compressed`, inflate its payload; on a
//            failure close with closeCodeFor(status). UTF-8 of text is checked after inflating.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "deflate_codec.h"
#include "permessage_deflate.h"
#include "receiver.h"  // Role

namespace duplex::protocol {

// Which agreed parameters bind which direction: a server sends with the server_* ones and
// receives with the client_* ones, a client the other way round.
DeflaterSettings sendSettings(const DeflateParams& agreed, Role role,
                              const PerMessageDeflateConfig& config);
InflaterSettings receiveSettings(const DeflateParams& agreed, Role role);
// Below this many bytes a message goes uncompressed (config, or the measured default).
size_t minMessageSizeFor(const DeflaterSettings& send, const PerMessageDeflateConfig& config);

class PerMessageDeflate {
 public:
  PerMessageDeflate(const DeflateParams& agreed, Role role, const PerMessageDeflateConfig& config);
  ~PerMessageDeflate();

  // Appends `message` compressed to `out` and returns true when it should go compressed (RSV1
  // set); returns false, leaving `out` as it was, when it should go as is: shorter than
  // minMessageSize (see PerMessageDeflateConfig), or (only when our side has no context
  // takeover, so skipping a message cannot desynchronise the peer) when compressing did not
  // make it smaller.
  bool compress(std::string_view message, std::string& out);

  // Inflates one whole received message (the Receiver reassembles fragments) into `out`, at
  // most maxSize bytes. On failure inflateError() says why (zlib's words).
  InflateStatus inflate(std::string_view payload, std::string& out, size_t maxSize);
  const std::string& inflateError() const { return error_; }

  // zlib state this connection holds by itself (the thread's shared streams are not counted):
  // none without context takeover.
  size_t memoryBytes() const;

  // What we send is compressed message by message (no context takeover on our side), so the
  // bytes compress() produces depend only on the message and these settings: a broadcast can
  // compress once for every connection that shares them (pubsub::Topics does).
  bool sendsAlone() const { return !ownDeflater_; }
  bool sameSendSettings(const PerMessageDeflate& other) const {
    return send_.windowBits == other.send_.windowBits && send_.level == other.send_.level &&
           send_.memLevel == other.send_.memLevel && send_.zlibOnly == other.send_.zlibOnly &&
           minMessageSize_ == other.minMessageSize_;
  }
  const DeflaterSettings& sendSettings() const { return send_; }
  const InflaterSettings& receiveSettings() const { return receive_; }
  size_t minMessageSize() const { return minMessageSize_; }

 private:
  DeflaterSettings send_;
  InflaterSettings receive_;
  size_t minMessageSize_;
  std::unique_ptr<Deflater> ownDeflater_;  // only with context takeover
  std::unique_ptr<Inflater> ownInflater_;
  std::string error_;  // why the last inflate failed
};

}  // namespace duplex::protocol
