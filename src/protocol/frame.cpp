#include "protocol/frame.h"

#include <cstring>

#include "protocol/mask.h"

namespace duplex::protocol {

size_t writeFrameHeader(uint8_t* out, const FrameHeader& header) {
  out[0] = static_cast<uint8_t>((header.fin ? 0x80 : 0) | (header.rsv1 ? 0x40 : 0) |
                                (static_cast<uint8_t>(header.opcode) & 0x0F));
  const uint8_t maskBit = header.maskKey ? 0x80 : 0;
  const uint64_t size = header.payloadSize;
  size_t n = 2;
  if (size < 126) {
    out[1] = static_cast<uint8_t>(maskBit | size);
  } else if (size <= 0xFFFF) {
    out[1] = maskBit | 126;
    out[2] = static_cast<uint8_t>(size >> 8);
    out[3] = static_cast<uint8_t>(size);
    n = 4;
  } else {
    out[1] = maskBit | 127;
    for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(size >> (56 - 8 * i));
    n = 10;
  }
  if (header.maskKey) {
    std::memcpy(out + n, header.maskKey, 4);
    n += 4;
  }
  return n;
}

size_t writeClosePayload(uint8_t* out, uint16_t code, std::string_view reason) {
  // RFC 6455 7.4.1: 1005 means "no status code was present"; it must not go on the wire, so
  // echoing a peer's empty close with it produces an empty close again.
  if (code == static_cast<uint16_t>(CloseCode::NoStatus)) return 0;
  out[0] = static_cast<uint8_t>(code >> 8);
  out[1] = static_cast<uint8_t>(code);
  size_t cut = reason.size();
  if (cut > kMaxCloseReason) {
    // Back up to the first byte of a character, so that a cut reason stays valid UTF-8 (a
    // peer must fail a close whose reason is not, RFC 6455 8.1).
    cut = kMaxCloseReason;
    while (cut > 0 && (static_cast<uint8_t>(reason[cut]) & 0xC0) == 0x80) --cut;
  }
  // An empty reason may be a null view, and memcpy from null is undefined even for 0 bytes.
  if (cut > 0) std::memcpy(out + 2, reason.data(), cut);
  return 2 + cut;
}

std::string buildFrame(const FrameHeader& header, std::string_view payload) {
  FrameHeader h = header;
  h.payloadSize = payload.size();
  std::string frame(frameHeaderSize(payload.size(), h.maskKey != nullptr) + payload.size(), '\0');
  auto* out = reinterpret_cast<uint8_t*>(frame.data());
  const size_t headerSize = writeFrameHeader(out, h);
  if (!payload.empty()) std::memcpy(out + headerSize, payload.data(), payload.size());
  if (h.maskKey) applyMask(out + headerSize, payload.size(), h.maskKey);
  return frame;
}

}  // namespace duplex::protocol
