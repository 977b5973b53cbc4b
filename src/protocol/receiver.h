#pragma once
// The reading half of RFC 6455, sans-I/O: bytes in, events out. It parses frames, unmasks them,
// reassembles fragmented messages, validates UTF-8 as bytes arrive, checks every framing rule
// and the size limits, and says which close code a violation deserves. It never touches a
// socket or a clock, so every rule is unit-tested with plain byte strings, and the server and
// the client share it.
//
// Memory: a whole frame that sits in the caller's buffer is delivered in place (unmasked where
// it lies), with no copy. Only what spans calls (a partial header, a partial payload, the
// fragments of a message) is kept here, in storage allocated on first need and released when
// the message is delivered; an idle connection's Receiver holds no heap memory.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "close_code.h"
#include "error.h"
#include "opcode.h"
#include "utf8.h"

namespace duplex::protocol {

enum class Role : uint8_t { Server, Client };

// Per route or per client, shared by many connections (kept out of the per-connection state).
struct ReceiverConfig {
  Role role = Role::Server;  // a server requires masked frames, a client unmasked ones
  // Both limits are checked against the length a frame header declares, before its payload
  // arrives. They count bytes on the wire: for a compressed message, the inflater must bound
  // the inflated size itself. Control frames are bounded by RFC 6455 (125 bytes) instead.
  uint64_t maxMessageSize = 1 << 20;  // a larger message fails with 1009 MessageTooBig
  uint64_t maxFrameSize = 1 << 20;    // a larger single frame fails with 1009 too
};

struct Event {
  enum class Kind : uint8_t {
    NeedMore,  // all input consumed; feed more bytes
    Message,   // a whole data message in `payload`, of type `opcode`
    Ping,      // `payload` is the ping's application data (answer with a pong carrying it)
    Pong,
    Close,  // peer's close frame: `code` (1005 NoStatus when it carried none) and `payload` =
            // reason
    Error,  // a violation: close with `code`; `payload` says why (usable as the close reason)
  };
  Kind kind = Kind::NeedMore;
  Opcode opcode = Opcode::Text;
  bool compressed = false;  // Message: RSV1 was set on its first frame (permessage-deflate)
  uint16_t code = 0;
  Error error = Error::None;  // Error: which rule was broken (`code` is its close code)
  // Points into the caller's input or into the Receiver's storage. Valid until the next call
  // to next() or reset(), and while the input bytes stay where they are.
  std::string_view payload;
};

class Receiver {
 public:
  Receiver();
  ~Receiver();
  Receiver(Receiver&&) noexcept;
  Receiver& operator=(Receiver&&) noexcept;

  // Consumes bytes from the front of `input` (which it unmasks in place, hence mutable) until
  // it has an event to report or the input is exhausted (Kind::NeedMore). After an Error the
  // Receiver stays failed and keeps returning that Error. After a Close event the caller should
  // stop feeding data (RFC 6455 5.5.1: nothing follows a close frame).
  Event next(std::span<uint8_t>& input, const ReceiverConfig& config);

  // permessage-deflate negotiated: RSV1 becomes legal on the first frame of a data message,
  // and UTF-8 of compressed text is left to whoever inflates it.
  void allowCompression(bool on) { compressionAllowed_ = on; }

  // Bytes held between calls (partial frame, fragments). For memory accounting and tests.
  size_t bufferedBytes() const;

  // Back to the state of a new Receiver (compression setting kept), dropping any partial
  // frame or message and a failure.
  void reset();

 private:
  struct Spill;  // partial header, partial control payload, fragments of the open message

  Event fail(uint8_t violation);
  Event failure() const;
  Event controlEvent(Opcode op, std::string_view payload);
  uint8_t checkStart(uint8_t b0, uint8_t b1, const ReceiverConfig& config) const;
  uint8_t startFrame(const uint8_t* header, const ReceiverConfig& config);
  Spill& spill();
  bool idle() const;

  // State, kept small (a static_assert in receiver.cpp holds it to 48 bytes): it lives in
  // every connection. All that spans calls beyond these words lives in the Spill.
  std::unique_ptr<Spill> spill_;  // null while nothing spans calls
  uint64_t frameRemaining_ = 0;   // payload bytes of the current frame still to come
  uint8_t maskKey_[4] = {};
  uint8_t maskOffset_ = 0;
  uint8_t frameOpcode_ = 0;    // opcode of the frame whose payload is arriving
  uint8_t messageOpcode_ = 0;  // Text/Binary while a data message is being collected
  uint8_t failure_ = 0;        // the protocol::Error once failed, 0 (None) while healthy
  bool inPayload_ = false;     // the header is parsed; payload bytes are arriving
  bool frameFin_ = false;
  bool frameRsv1_ = false;
  bool messageCompressed_ = false;
  bool compressionAllowed_ = false;
  Utf8Validator utf8_;  // state of the open text message
};

}  // namespace duplex::protocol
