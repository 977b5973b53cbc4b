#pragma once
// What a connection holds once permessage-deflate is agreed: a Deflater for what it sends and
// an Inflater for what it receives, each set up from the agreed parameters for this side
// (a server sends with the server_* parameters and receives with the client_* ones). The
// connection layer calls only this; it never needs to know which RFC parameter binds whom.
//
// Sending:   if (pmd.compress(data, buf)) send buf with RSV1 set on the first frame;
//            else send data as is, RSV1 clear.
// Receiving: for a message the Receiver reported `compressed`, inflate its payload; on a
//            failure close with closeCodeFor(status). UTF-8 of text is checked after inflating.
// Idle:      releaseIdle() after a burst (or after every message) returns what no context
//            takeover allows; a connection in that mode costs nothing between messages.
#include <cstddef>
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

  // Appends `message` compressed to `out` and returns true when it should go compressed (RSV1
  // set); returns false, leaving `out` as it was, when it should go as is: shorter than
  // minMessageSize (see PerMessageDeflateConfig), or (only when our side has no context takeover,
  // so skipping a message cannot desynchronise the peer) when compressing did not make it smaller.
  bool compress(std::string_view message, std::string& out);

  // A whole received message (the Receiver reassembles fragments), or its frames one by one
  // with inflateFrame() then finishInflate(). `maxSize` bounds the inflated message.
  InflateStatus inflate(std::string_view payload, std::string& out, size_t maxSize) {
    return inflater_.inflateMessage(payload, out, maxSize);
  }
  InflateStatus inflateFrame(std::string_view payload, std::string& out, size_t maxSize) {
    return inflater_.feed(payload, out, maxSize);
  }
  InflateStatus finishInflate(std::string& out, size_t maxSize) {
    return inflater_.finish(out, maxSize);
  }
  const std::string& inflateError() const { return inflater_.error(); }

  // Frees the zlib state of each direction that has no context takeover. Cheap to call.
  void releaseIdle();

  size_t memoryBytes() const { return deflater_.memoryBytes() + inflater_.memoryBytes(); }
  const Deflater& deflater() const { return deflater_; }
  const Inflater& inflater() const { return inflater_; }
  size_t minMessageSize() const { return minMessageSize_; }

 private:
  Deflater deflater_;
  Inflater inflater_;
  size_t minMessageSize_;
};

}  // namespace duplex::protocol
