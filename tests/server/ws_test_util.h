#pragma once
// Byte-level helpers for the server and client tests: HTTP requests and responses, and a frame
// reader/writer written here, independently of src/protocol's Receiver, so the tests do not
// take the code under test's word for what went over the wire.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/frame.h"
#include "protocol/http.h"

namespace duplex::test {

// RFC 6455 1.3's example: this key must be answered with this accept value.
inline constexpr std::string_view kSampleKey = "dGhlIHNhbXBsZSBub25jZQ==";
inline constexpr std::string_view kSampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

inline std::string upgradeRequest(std::string_view target, std::string_view extraHeaders = {}) {
  std::string r = "GET " + std::string(target) + " HTTP/1.1\r\n";
  r += "Host: 127.0.0.1\r\n";
  r += "Upgrade: websocket\r\n";
  r += "Connection: Upgrade\r\n";
  r += "Sec-WebSocket-Key: " + std::string(kSampleKey) + "\r\n";
  r += "Sec-WebSocket-Version: 13\r\n";
  r += extraHeaders;
  r += "\r\n";
  return r;
}

inline std::string getRequest(std::string_view target, std::string_view method = "GET",
                              std::string_view extraHeaders = {}) {
  return std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         std::string(extraHeaders) + "\r\n";
}

struct HttpReply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // First header with that name (case-insensitive); empty when absent.
  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (protocol::equalsIgnoreCase(n, name)) return v;
    }
    return {};
  }
  bool has(std::string_view name) const {
    for (const auto& h : headers) {
      if (protocol::equalsIgnoreCase(h.first, name)) return true;
    }
    return false;
  }
};

// Takes one complete response (head, and a body of Content-Length bytes unless `headOnly`) from
// the front of `buffer`. False while it is incomplete (or malformed: `error` says so).
inline bool takeResponse(std::string& buffer, HttpReply& out, bool headOnly = false,
                         std::string* error = nullptr) {
  size_t end = buffer.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::string_view head(buffer.data(), end + 4);
  protocol::HttpResponse parsed;
  std::string why;
  if (!protocol::parseResponse(head, parsed, why)) {
    if (error) *error = why.empty() ? "unparsable response head" : why;
    return false;
  }
  size_t length = 0;
  std::string_view lengthText = parsed.header("Content-Length");
  if (!lengthText.empty()) length = std::strtoul(std::string(lengthText).c_str(), nullptr, 10);
  size_t bodySize = headOnly ? 0 : length;
  if (buffer.size() < head.size() + bodySize) return false;
  out = HttpReply{};
  out.status = parsed.status;
  for (const auto& h : parsed.headers) out.headers.emplace_back(h.name, h.value);
  out.body = buffer.substr(head.size(), bodySize);
  buffer.erase(0, head.size() + bodySize);
  return true;
}

struct Frame {
  bool fin = true;
  bool rsv1 = false;  // permessage-deflate: the message is compressed
  uint8_t opcode = 0;
  bool masked = false;
  uint8_t key[4] = {};
  std::string payload;  // unmasked

  uint16_t closeCode() const {
    return payload.size() >= 2 ? static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                                       static_cast<uint8_t>(payload[1]))
                               : 0;
  }
  std::string closeReason() const { return payload.size() > 2 ? payload.substr(2) : ""; }
};

// Takes one frame from the front of `buffer`; false while it is incomplete.
inline bool takeFrame(std::string& buffer, Frame& out) {
  if (buffer.size() < 2) return false;
  auto byte = [&](size_t i) { return static_cast<uint8_t>(buffer[i]); };
  size_t pos = 2;
  uint64_t length = byte(1) & 0x7F;
  if (length == 126) {
    if (buffer.size() < 4) return false;
    length = (uint64_t{byte(2)} << 8) | byte(3);
    pos = 4;
  } else if (length == 127) {
    if (buffer.size() < 10) return false;
    length = 0;
    for (size_t i = 2; i < 10; ++i) length = (length << 8) | byte(i);
    pos = 10;
  }
  bool masked = (byte(1) & 0x80) != 0;
  if (masked) {
    if (buffer.size() < pos + 4) return false;
    pos += 4;
  }
  if (buffer.size() < pos + length) return false;
  out = Frame{};
  out.fin = (byte(0) & 0x80) != 0;
  out.rsv1 = (byte(0) & 0x40) != 0;
  out.opcode = byte(0) & 0x0F;
  out.masked = masked;
  if (masked) {
    for (size_t i = 0; i < 4; ++i) out.key[i] = byte(pos - 4 + i);
  }
  out.payload = buffer.substr(pos, length);
  if (masked) {
    for (size_t i = 0; i < out.payload.size(); ++i)
      out.payload[i] ^= static_cast<char>(out.key[i % 4]);
  }
  buffer.erase(0, pos + length);
  return true;
}

inline std::vector<Frame> takeFrames(std::string& buffer) {
  std::vector<Frame> frames;
  Frame f;
  while (takeFrame(buffer, f)) frames.push_back(f);
  return frames;
}

// A frame as a client sends it: masked (unless `masked` is false, to provoke the server).
inline std::string clientFrame(Opcode opcode, std::string_view payload, bool masked = true,
                               bool fin = true) {
  static const uint8_t kKey[4] = {0x37, 0xfa, 0x21, 0x3d};
  protocol::FrameHeader header;
  header.opcode = opcode;
  header.fin = fin;
  header.payloadSize = payload.size();
  header.maskKey = masked ? kKey : nullptr;
  return protocol::buildFrame(header, payload);
}

inline std::string closePayload(uint16_t code, std::string_view reason = {}) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  p += reason;
  return p;
}

}  // namespace duplex::test
