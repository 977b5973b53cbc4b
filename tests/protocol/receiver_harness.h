#pragma once
// Helpers for the Receiver tests: raw frame builders that can break every rule, and a driver
// that feeds a byte stream in chosen chunks and records the events that come out.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/receiver.h"

namespace duplex::protocol::test {

inline constexpr uint8_t FIN = 0x80;
inline constexpr uint8_t RSV1 = 0x40;
inline constexpr uint8_t RSV2 = 0x20;
inline constexpr uint8_t RSV3 = 0x10;
inline constexpr uint8_t TEXT = 0x1;
inline constexpr uint8_t BINARY = 0x2;
inline constexpr uint8_t CONT = 0x0;
inline constexpr uint8_t CLOSE = 0x8;
inline constexpr uint8_t PING = 0x9;
inline constexpr uint8_t PONG = 0xA;

enum class Mask { Yes, No };
enum class Length { Minimal, Force16, Force64 };

inline constexpr uint8_t kTestKey[4] = {0x12, 0x34, 0x56, 0x78};

// A frame with first byte `b0` (FIN, RSV bits and opcode as given), masked with kTestKey
// unless told otherwise, its length written in the requested (possibly non-minimal) form.
inline std::string rawFrame(uint8_t b0, std::string_view payload, Mask mask = Mask::Yes,
                            Length form = Length::Minimal) {
  std::string f;
  f += static_cast<char>(b0);
  const uint8_t maskBit = mask == Mask::Yes ? 0x80 : 0;
  const uint64_t n = payload.size();
  if (form == Length::Minimal && n < 126) {
    f += static_cast<char>(maskBit | n);
  } else if (form == Length::Force16 || (form == Length::Minimal && n <= 0xFFFF)) {
    f += static_cast<char>(maskBit | 126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xFF);
  } else {
    f += static_cast<char>(maskBit | 127);
    for (int i = 7; i >= 0; --i) f += static_cast<char>((n >> (8 * i)) & 0xFF);
  }
  if (mask == Mask::Yes) {
    f.append(reinterpret_cast<const char*>(kTestKey), 4);
    for (size_t i = 0; i < payload.size(); ++i)
      f += static_cast<char>(payload[i] ^ kTestKey[i % 4]);
  } else {
    f += payload;
  }
  return f;
}

// Only a header, declaring `length` bytes (masked): for limits decided before the payload.
inline std::string rawHeader(uint8_t b0, uint64_t length, Mask mask = Mask::Yes) {
  std::string f;
  f += static_cast<char>(b0);
  const uint8_t maskBit = mask == Mask::Yes ? 0x80 : 0;
  if (length < 126) {
    f += static_cast<char>(maskBit | length);
  } else if (length <= 0xFFFF) {
    f += static_cast<char>(maskBit | 126);
    f += static_cast<char>(length >> 8);
    f += static_cast<char>(length & 0xFF);
  } else {
    f += static_cast<char>(maskBit | 127);
    for (int i = 7; i >= 0; --i) f += static_cast<char>((length >> (8 * i)) & 0xFF);
  }
  if (mask == Mask::Yes) f.append(reinterpret_cast<const char*>(kTestKey), 4);
  return f;
}

inline std::string closePayload(uint16_t code, std::string_view reason = {}) {
  std::string p;
  p += static_cast<char>(code >> 8);
  p += static_cast<char>(code & 0xFF);
  p += reason;
  return p;
}

// An event with its payload copied, so it outlives the buffers.
struct Seen {
  Event::Kind kind;
  Opcode opcode;
  bool compressed;
  uint16_t code;
  std::string payload;
  bool operator==(const Seen&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << "{kind " << int(s.kind) << ", op " << int(s.opcode) << ", compressed "
            << s.compressed << ", code " << s.code << ", " << s.payload.size() << " bytes}";
}

inline Seen message(Opcode op, std::string payload, bool compressed = false) {
  return {Event::Kind::Message, op, compressed, 0, std::move(payload)};
}
inline Seen ping(std::string payload) {
  return {Event::Kind::Ping, Opcode::Ping, false, 0, std::move(payload)};
}
inline Seen pong(std::string payload) {
  return {Event::Kind::Pong, Opcode::Pong, false, 0, std::move(payload)};
}
inline Seen closeEvent(uint16_t code, std::string reason = {}) {
  return {Event::Kind::Close, Opcode::Close, false, code, std::move(reason)};
}

// Feeds `stream` in chunks whose sizes `nextChunk` picks, each chunk in a buffer of its own
// that is destroyed after use (as a reused read buffer would be overwritten), and records the
// events. Stops at the first Error, which is recorded with only its code.
inline std::vector<Seen> feed(Receiver& receiver, const std::string& stream,
                              const ReceiverConfig& config,
                              const std::function<size_t()>& nextChunk) {
  std::vector<Seen> seen;
  size_t pos = 0;
  while (pos < stream.size()) {
    const size_t n = std::min(std::max<size_t>(nextChunk(), 1), stream.size() - pos);
    std::vector<uint8_t> buffer(stream.begin() + static_cast<std::ptrdiff_t>(pos),
                                stream.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
    std::span<uint8_t> input(buffer);
    for (;;) {
      const Event e = receiver.next(input, config);
      if (e.kind == Event::Kind::NeedMore) break;
      if (e.kind == Event::Kind::Error) {
        seen.push_back({e.kind, Opcode::Continuation, false, e.code, {}});
        return seen;
      }
      seen.push_back({e.kind, e.opcode, e.compressed, e.code, std::string(e.payload)});
    }
    // Poison what the Receiver consumed: anything it kept a view of must have been copied.
    std::fill(buffer.begin(), buffer.end(), uint8_t{0xEE});
  }
  return seen;
}

inline std::vector<Seen> feedWhole(Receiver& receiver, const std::string& stream,
                                   const ReceiverConfig& config) {
  return feed(receiver, stream, config, [&] { return stream.size(); });
}

inline std::vector<Seen> feedWhole(const std::string& stream,
                                   const ReceiverConfig& config = ReceiverConfig{},
                                   bool compression = false) {
  Receiver r;
  r.allowCompression(compression);
  return feedWhole(r, stream, config);
}

}  // namespace duplex::protocol::test
