// What the tool sends: masked frames, checked messages (whole or fragmented), pings, closes and
// publishes.
#include <cstring>

#include "protocol/frame.h"
#include "protocol/mask.h"
#include "soak.h"

namespace soak {

namespace protocol = duplex::protocol;
using duplex::Opcode;

void Soak::writeFrame(Conn& c, Opcode opcode, bool fin, const uint8_t* payload, size_t size) {
  uint8_t key[4];
  const uint64_t r = random_();
  std::memcpy(key, &r, 4);
  protocol::FrameHeader header;
  header.opcode = opcode;
  header.fin = fin;
  header.payloadSize = size;
  header.maskKey = key;
  uint8_t head[protocol::kMaxFrameHeaderSize];
  const size_t headSize = protocol::writeFrameHeader(head, header);
  uint8_t* out = loop_.append(c, headSize + size);
  std::memcpy(out, head, headSize);
  if (size) std::memcpy(out + headSize, payload, size);
  protocol::applyMask(out + headSize, size, key);
}

void Soak::sendMessage(Conn& c, uint8_t sizeClass, bool binary, bool fragment) {
  const bench::PayloadCodec& codec = codecs_[sizeClass];
  scratch_.resize(codec.size());
  codec.write(scratch_.data(), c.serial, c.nextSeq);
  c.echoes.push_back({c.nextSeq++, sizeClass, binary});
  const Opcode opcode = binary ? Opcode::Binary : Opcode::Text;
  if (!fragment) return writeFrame(c, opcode, true, scratch_.data(), scratch_.size());
  // Two or three fragments (the payload is ASCII, so any cut keeps text valid UTF-8), with a
  // ping between them half the time (RFC 6455 5.4: control frames may be interleaved).
  const size_t size = scratch_.size();
  size_t a = 1 + random_() % (size - 1);
  size_t b = random_() % 2 ? a + (random_() % (size - a)) : size;
  writeFrame(c, opcode, false, scratch_.data(), a);
  if (random_() % 2) sendPing(c);
  if (b < size)
    writeFrame(c, Opcode::Continuation, false, scratch_.data() + a, b - a);
  else
    b = a;
  writeFrame(c, Opcode::Continuation, true, scratch_.data() + b, size - b);
}

void Soak::sendPing(Conn& c) {
  const std::string payload = hex8(pingCounter_);
  c.pongs.push_back(pingCounter_++);
  writeFrame(c, Opcode::Ping, true, reinterpret_cast<const uint8_t*>(payload.data()),
             payload.size());
}

void Soak::sendClose(Conn& c, uint16_t code) {
  // A reason too, cut to fit: the server must answer with the code whatever the reason.
  uint8_t payload[protocol::kMaxControlPayload];
  const size_t n = protocol::writeClosePayload(payload, code, "soak: going away");
  writeFrame(c, Opcode::Close, true, payload, n);
  c.closeCode = code;
  leaveHeld(c);
  c.phase = Phase::Closing;
}

void Soak::publish() {
  if (!publisher_ || publisher_->phase != Phase::Open) return;
  Conn& p = *publisher_;
  const uint8_t sizeClass = randomSizeClass();
  const bench::PayloadCodec& codec = codecs_[sizeClass];
  scratch_.resize(codec.size());
  codec.write(scratch_.data(), p.serial, publishNext_);
  writeFrame(p, publishNext_ % 2 ? Opcode::Binary : Opcode::Text, true, scratch_.data(),
             scratch_.size());
  ++publishNext_;
}

}  // namespace soak
