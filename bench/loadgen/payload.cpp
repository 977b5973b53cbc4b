#include "payload.h"

#include <cstring>

namespace bench {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void writeHex32(uint8_t* out, uint32_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(kHex[v & 0xF]);
    v >>= 4;
  }
}

bool readHex32(const char* in, uint32_t& v) {
  v = 0;
  for (int i = 0; i < 8; ++i) {
    const char c = in[i];
    uint32_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<uint32_t>(c - 'a' + 10);
    } else {
      return false;
    }
    v = (v << 4) | d;
  }
  return true;
}

}  // namespace

PayloadCodec::PayloadCodec(size_t size)
    : size_(size < kPayloadHeaderSize ? kPayloadHeaderSize : size) {
  pattern_.resize(size_ + kAlphabet);
  for (size_t i = 0; i < pattern_.size(); ++i) pattern_[i] = static_cast<char>('a' + i % kAlphabet);
}

void PayloadCodec::write(uint8_t* out, uint32_t connection, uint32_t seq) const {
  writeHex32(out, connection);
  writeHex32(out + 8, seq);
  std::memcpy(out + kPayloadHeaderSize, pattern_.data() + seq % kAlphabet,
              size_ - kPayloadHeaderSize);
}

bool PayloadCodec::read(std::string_view payload, uint32_t& connection, uint32_t& seq,
                        std::string& why) const {
  if (payload.size() != size_) {
    why = "payload of " + std::to_string(payload.size()) + " bytes, expected " +
          std::to_string(size_);
    return false;
  }
  if (!readHex32(payload.data(), connection) || !readHex32(payload.data() + 8, seq)) {
    why = "payload header is not hex: '" + std::string(payload.substr(0, kPayloadHeaderSize)) + "'";
    return false;
  }
  if (std::memcmp(payload.data() + kPayloadHeaderSize, pattern_.data() + seq % kAlphabet,
                  size_ - kPayloadHeaderSize) != 0) {
    why = "payload filler corrupted (connection " + std::to_string(connection) + ", seq " +
          std::to_string(seq) + ")";
    return false;
  }
  return true;
}

}  // namespace bench
