#include "protocol/receiver.h"

#include <algorithm>
#include <cstring>

#include "protocol/frame.h"
#include "protocol/mask.h"

namespace duplex::protocol {

namespace {

// Every way a peer can break the rules is a named protocol::Error (error.h gives its close code
// and a reason short enough for a close frame). The Receiver stores only the value, so that a
// failed Receiver can keep reporting its error without holding a string.
enum Violation : uint8_t {
  kNone = static_cast<uint8_t>(Error::None),
  kReservedBits = static_cast<uint8_t>(Error::ReservedBitsSet),
  kReservedOpcode = static_cast<uint8_t>(Error::BadOpcode),
  kRsv1NotNegotiated = static_cast<uint8_t>(Error::CompressionNotNegotiated),
  kRsv1OnContinuation = static_cast<uint8_t>(Error::CompressedContinuation),
  kRsv1OnControl = static_cast<uint8_t>(Error::CompressedControl),
  kFragmentedControl = static_cast<uint8_t>(Error::FragmentedControl),
  kControlTooLong = static_cast<uint8_t>(Error::ControlTooBig),
  kUnmasked = static_cast<uint8_t>(Error::UnmaskedFrameFromClient),
  kMasked = static_cast<uint8_t>(Error::MaskedFrameFromServer),
  kNonMinimalLength = static_cast<uint8_t>(Error::NonMinimalLength),
  kLengthTopBit = static_cast<uint8_t>(Error::LengthTopBitSet),
  kContinuationWithoutMessage = static_cast<uint8_t>(Error::UnexpectedContinuation),
  kMessageStillOpen = static_cast<uint8_t>(Error::MessageNotFinished),
  kFrameTooBig = static_cast<uint8_t>(Error::FrameTooBig),
  kMessageTooBig = static_cast<uint8_t>(Error::MessageTooBig),
  kInvalidUtf8 = static_cast<uint8_t>(Error::InvalidUtf8),
  kTruncatedUtf8 = static_cast<uint8_t>(Error::TruncatedUtf8),
  kCloseOneByte = static_cast<uint8_t>(Error::CloseOneByte),
  kInvalidCloseCode = static_cast<uint8_t>(Error::InvalidCloseCode),
  kInvalidCloseReason = static_cast<uint8_t>(Error::InvalidCloseReason),
};

constexpr uint8_t kFin = 0x80;
constexpr uint8_t kRsv1 = 0x40;
constexpr uint8_t kRsv23 = 0x30;
constexpr uint8_t kMaskBit = 0x80;

// A message spilling over calls starts with room for its declared size up to this much and
// grows geometrically after that: a peer declaring 16 MiB and sending one byte (on many
// connections) must not make us allocate 16 MiB each.
constexpr size_t kInitialReserveCap = 64 * 1024;

constexpr size_t headerLength(uint8_t b1) {
  const uint8_t len7 = b1 & 0x7F;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((b1 & kMaskBit) ? 4 : 0);
}

constexpr bool isKnownOpcode(uint8_t op) {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

}  // namespace

// What spans calls. Allocated on first need, released once nothing is pending.
struct Receiver::Spill {
  uint8_t header[kMaxFrameHeaderSize];
  uint8_t headerSize = 0;
  uint8_t controlSize = 0;
  uint8_t control[kMaxControlPayload];
  // Payload of the data message being reassembled (all its frames so far). A std::string
  // grows geometrically on append, so a message arriving in many reads is copied O(log n)
  // times, not once per read.
  std::string message;
};

// It lives in every connection: keep it to a few words.
static_assert(sizeof(Receiver) <= 48, "Receiver is per-connection state; keep it small");

Receiver::Receiver() = default;
Receiver::~Receiver() = default;
Receiver::Receiver(Receiver&&) noexcept = default;
Receiver& Receiver::operator=(Receiver&&) noexcept = default;

size_t Receiver::bufferedBytes() const {
  if (!spill_) return 0;
  size_t n = spill_->headerSize;
  if (inPayload_ && isControl(static_cast<Opcode>(frameOpcode_))) n += spill_->controlSize;
  if (messageOpcode_ != 0) n += spill_->message.size();
  return n;
}

void Receiver::reset() {
  spill_.reset();
  frameRemaining_ = 0;
  maskOffset_ = 0;
  frameOpcode_ = 0;
  messageOpcode_ = 0;
  inPayload_ = false;
  frameFin_ = false;
  messageCompressed_ = false;
  failure_ = kNone;
  utf8_.reset();
}

Event Receiver::failure() const {
  Event e;
  e.kind = Event::Kind::Error;
  e.error = static_cast<Error>(failure_);
  e.code = closeCodeFor(e.error);
  e.payload = errorMessage(e.error);
  return e;
}

Event Receiver::fail(uint8_t violation) {
  failure_ = violation;
  spill_.reset();
  return failure();
}

Receiver::Spill& Receiver::spill() {
  if (!spill_) spill_ = std::make_unique<Spill>();
  return *spill_;
}

bool Receiver::idle() const {
  return !inPayload_ && messageOpcode_ == 0 && spill_->headerSize == 0;
}

// Checks everything that the first two header bytes decide, so that a bad frame fails before
// the rest of its header arrives.
uint8_t Receiver::checkStart(uint8_t b0, uint8_t b1, const ReceiverConfig& config) const {
  const uint8_t op = b0 & 0x0F;
  if (b0 & kRsv23) return kReservedBits;
  if (!isKnownOpcode(op)) return kReservedOpcode;
  const bool control = (op & 0x8) != 0;
  if (b0 & kRsv1) {
    // RFC 7692 6: "compressed" is a property of a message, marked on its first frame only.
    if (control) return kRsv1OnControl;
    if (!compressionAllowed_) return kRsv1NotNegotiated;
    if (op == 0) return kRsv1OnContinuation;
  }
  if (control) {
    // RFC 6455 5.5: control frames are not fragmented and carry at most 125 bytes.
    if (!(b0 & kFin)) return kFragmentedControl;
    if ((b1 & 0x7F) > kMaxControlPayload) return kControlTooLong;
  }
  // RFC 6455 5.1: a client masks every frame, a server none.
  const bool masked = (b1 & kMaskBit) != 0;
  if (config.role == Role::Server && !masked) return kUnmasked;
  if (config.role == Role::Client && masked) return kMasked;
  if (!control) {
    // RFC 6455 5.4: fragments of one message are not interleaved with another message.
    if (op == 0 && messageOpcode_ == 0) return kContinuationWithoutMessage;
    if (op != 0 && messageOpcode_ != 0) return kMessageStillOpen;
  }
  return kNone;
}

// The rest of a complete header: length encoding and the size limits, decided before any of
// the payload arrives. Sets up the frame state on success.
uint8_t Receiver::startFrame(const uint8_t* h, const ReceiverConfig& config) {
  const uint8_t b0 = h[0], b1 = h[1];
  const uint8_t len7 = b1 & 0x7F;
  uint64_t length = len7;
  size_t pos = 2;
  if (len7 == 126) {
    length = (uint64_t{h[2]} << 8) | h[3];
    pos = 4;
    if (length < 126) return kNonMinimalLength;
  } else if (len7 == 127) {
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | h[2 + i];
    pos = 10;
    if (length >> 63) return kLengthTopBit;
    if (length <= 0xFFFF) return kNonMinimalLength;
  }
  const uint8_t op = b0 & 0x0F;
  if (!(op & 0x8)) {
    if (length > config.maxFrameSize) return kFrameTooBig;
    const uint64_t soFar = messageOpcode_ != 0 && spill_ ? spill_->message.size() : 0;
    if (soFar + length > config.maxMessageSize) return kMessageTooBig;
  }
  if (b1 & kMaskBit) {
    std::memcpy(maskKey_, h + pos, 4);
  } else {
    std::memset(maskKey_, 0, 4);
  }
  maskOffset_ = 0;
  frameOpcode_ = op;
  frameFin_ = (b0 & kFin) != 0;
  frameRemaining_ = length;
  frameRsv1_ = (b0 & kRsv1) != 0;
  return kNone;
}

Event Receiver::controlEvent(Opcode op, std::string_view payload) {
  Event e;
  e.opcode = op;
  e.payload = payload;
  if (op == Opcode::Ping) {
    e.kind = Event::Kind::Ping;
    return e;
  }
  if (op == Opcode::Pong) {
    e.kind = Event::Kind::Pong;
    return e;
  }
  // RFC 6455 5.5.1: an optional 2-byte code, then an optional UTF-8 reason.
  e.kind = Event::Kind::Close;
  if (payload.empty()) {
    e.code = static_cast<uint16_t>(CloseCode::NoStatus);
    return e;
  }
  if (payload.size() == 1) return fail(kCloseOneByte);
  e.code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                 static_cast<uint8_t>(payload[1]));
  if (!isValidWireCloseCode(e.code)) return fail(kInvalidCloseCode);
  e.payload = payload.substr(2);
  if (!isValidUtf8(e.payload)) return fail(kInvalidCloseReason);
  return e;
}

Event Receiver::next(std::span<uint8_t>& input, const ReceiverConfig& config) {
  if (failure_ != kNone) return failure();
  // The previous event's payload may have pointed into the spill; it is dead now.
  if (spill_ && idle()) spill_.reset();
  const bool masked = config.role == Role::Server;

  for (;;) {
    if (!inPayload_) {
      // 1. The header: straight from the input when it is all there, else gathered in the spill.
      const uint8_t* header = nullptr;
      if (spill_ && spill_->headerSize > 0) {
        Spill& s = *spill_;
        for (;;) {
          const size_t want = s.headerSize < 2 ? 2 : headerLength(s.header[1]);
          if (s.headerSize == want) break;
          if (input.empty()) return Event{};
          const size_t n = std::min(want - s.headerSize, input.size());
          std::memcpy(s.header + s.headerSize, input.data(), n);
          input = input.subspan(n);
          const bool startComplete = s.headerSize < 2 && s.headerSize + n >= 2;
          s.headerSize = static_cast<uint8_t>(s.headerSize + n);
          if (startComplete) {
            if (uint8_t v = checkStart(s.header[0], s.header[1], config)) return fail(v);
          }
        }
        header = s.header;
        s.headerSize = 0;
      } else {
        if (input.empty()) return Event{};
        if (input.size() >= 2) {
          if (uint8_t v = checkStart(input[0], input[1], config)) return fail(v);
        }
        const size_t want = input.size() >= 2 ? headerLength(input[1]) : 2;
        if (input.size() < want) {
          Spill& s = spill();
          std::memcpy(s.header, input.data(), input.size());
          s.headerSize = static_cast<uint8_t>(input.size());
          input = input.subspan(input.size());
          return Event{};
        }
        header = input.data();
        input = input.subspan(want);
      }
      if (uint8_t v = startFrame(header, config)) return fail(v);

      const Opcode op = static_cast<Opcode>(frameOpcode_);
      const bool control = isControl(op);
      // 2. Fast path: a whole frame that is a whole message (or a control frame) is unmasked
      // where it lies and delivered as a view of the input. No copy, no allocation.
      if (frameRemaining_ <= input.size() && (control || (frameFin_ && messageOpcode_ == 0))) {
        const size_t n = static_cast<size_t>(frameRemaining_);
        uint8_t* p = input.data();
        input = input.subspan(n);
        frameRemaining_ = 0;
        if (masked) applyMask(p, n, maskKey_);
        const std::string_view payload(reinterpret_cast<const char*>(p), n);
        if (control) return controlEvent(op, payload);
        if (op == Opcode::Text && !frameRsv1_ && !isValidUtf8(payload)) return fail(kInvalidUtf8);
        Event e;
        e.kind = Event::Kind::Message;
        e.opcode = op;
        e.compressed = frameRsv1_;
        e.payload = payload;
        return e;
      }

      // 3. Slow path: the payload is collected in the spill.
      inPayload_ = true;
      if (control) {
        spill().controlSize = 0;
      } else {
        Spill& s = spill();
        if (messageOpcode_ == 0) {
          messageOpcode_ = frameOpcode_;
          messageCompressed_ = frameRsv1_;
          utf8_.reset();
          s.message.clear();
          // Later growth is geometric (std::string::append), so reserving once is enough.
          s.message.reserve(
              static_cast<size_t>(std::min<uint64_t>(frameRemaining_, kInitialReserveCap)));
        }
      }
    }

    // 4. Payload bytes of a frame that did not fit in one call.
    const Opcode op = static_cast<Opcode>(frameOpcode_);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(frameRemaining_, input.size()));
    uint8_t* p = input.data();
    input = input.subspan(n);
    frameRemaining_ -= n;
    if (masked) maskOffset_ = static_cast<uint8_t>(applyMask(p, n, maskKey_, maskOffset_));
    Spill& s = *spill_;
    if (isControl(op)) {
      if (n > 0) std::memcpy(s.control + s.controlSize, p, n);  // p may be null when n is 0
      s.controlSize = static_cast<uint8_t>(s.controlSize + n);
    } else {
      // Validate as bytes arrive, so that a bad text message fails at its first impossible
      // byte even in the middle of a frame (RFC 6455 8.1; Autobahn 6.4.*).
      if (messageOpcode_ == static_cast<uint8_t>(Opcode::Text) && !messageCompressed_ &&
          !utf8_.feed(p, n)) {
        return fail(kInvalidUtf8);
      }
      s.message.append(reinterpret_cast<const char*>(p), n);
    }
    if (frameRemaining_ > 0) return Event{};
    inPayload_ = false;

    if (isControl(op)) {
      return controlEvent(
          op, std::string_view(reinterpret_cast<const char*>(s.control), s.controlSize));
    }
    if (!frameFin_) continue;
    if (messageOpcode_ == static_cast<uint8_t>(Opcode::Text) && !messageCompressed_ &&
        !utf8_.complete()) {
      return fail(kTruncatedUtf8);
    }
    Event e;
    e.kind = Event::Kind::Message;
    e.opcode = static_cast<Opcode>(messageOpcode_);
    e.compressed = messageCompressed_;
    e.payload = s.message;
    // The message is out; the next call to next() releases its storage.
    messageOpcode_ = 0;
    messageCompressed_ = false;
    return e;
  }
}

}  // namespace duplex::protocol
