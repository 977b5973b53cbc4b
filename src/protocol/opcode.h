#pragma once
#include <cstdint>

namespace duplex {

// Frame opcodes, RFC 6455 section 5.2. 0x3-0x7 and 0xB-0xF are reserved.
enum class Opcode : uint8_t {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xA,
};

inline bool isControl(Opcode op) {
  return (static_cast<uint8_t>(op) & 0x8) != 0;
}

}  // namespace duplex
