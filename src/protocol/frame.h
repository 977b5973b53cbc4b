#pragma once
// Writing frames, RFC 6455 section 5.2. The reading side is Receiver (receiver.h).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "close_code.h"
#include "opcode.h"

namespace duplex::protocol {

// 2 bytes + 8 bytes of 64-bit length + 4 bytes of mask key.
inline constexpr size_t kMaxFrameHeaderSize = 14;
// RFC 6455 5.5: control frame payloads are at most 125 bytes; a close reason is 123 of them.
inline constexpr size_t kMaxControlPayload = 125;
inline constexpr size_t kMaxCloseReason = 123;

inline constexpr size_t frameHeaderSize(uint64_t payloadSize, bool masked) {
  return 2 + (payloadSize < 126 ? 0 : payloadSize <= 0xFFFF ? 2 : 8) + (masked ? 4 : 0);
}

struct FrameHeader {
  Opcode opcode = Opcode::Text;
  bool fin = true;
  bool rsv1 = false;  // "compressed" under permessage-deflate (RFC 7692 6)
  uint64_t payloadSize = 0;
  const uint8_t* maskKey = nullptr;  // 4 bytes; a client must always mask (RFC 6455 5.3)
};

// Writes the header into `out` (room for kMaxFrameHeaderSize bytes) and returns its length,
// always using the shortest length encoding (RFC 6455 5.2 requires the minimal one).
size_t writeFrameHeader(uint8_t* out, const FrameHeader& header);

// Writes a close payload (2-byte code, then the reason cut to 123 bytes on a UTF-8 character
// boundary) into `out` (room for kMaxControlPayload bytes) and returns its length. For 1005
// NoStatus, which must never be sent (RFC 6455 7.4.1), it writes nothing and returns 0: the
// empty close payload that 1005 stands for.
size_t writeClosePayload(uint8_t* out, uint16_t code, std::string_view reason);

// A whole frame as a string, masking the payload when header.maskKey is set. Convenient for
// clients, tests and rare frames; hot paths write the header and payload into their own buffers.
std::string buildFrame(const FrameHeader& header, std::string_view payload);

}  // namespace duplex::protocol
