#pragma once
// Helpers for the protocol::Connection tests: a sink that collects the bytes the connection
// sends (masking with the harness's fixed key, so a client's frames are predictable), and a
// driver that feeds chunks and records every event as a short line of text.
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/connection.h"
#include "receiver_harness.h"

namespace duplex::protocol::test {

class StringSink final : public ConnectionSink {
 public:
  uint8_t* reserveOutput(size_t size) override {
    if (refuse) return nullptr;
    const size_t start = bytes.size();
    bytes.resize(start + size);
    return reinterpret_cast<uint8_t*>(bytes.data()) + start;
  }
  void maskKey(uint8_t key[4]) override {
    for (int i = 0; i < 4; ++i) key[i] = kTestKey[i];
  }
  // What was sent since the last call.
  std::string take() { return std::exchange(bytes, std::string()); }

  std::string bytes;
  bool refuse = false;  // play a peer that stopped reading
};

// "message text Hello", "ping p", "pong ", "closed"; NeedMore is not recorded.
inline std::string describe(const ConnectionEvent& e) {
  switch (e.kind) {
    case ConnectionEvent::Kind::Message:
      return std::string(e.opcode == Opcode::Text ? "message text " : "message binary ") +
             std::string(e.payload);
    case ConnectionEvent::Kind::Ping:
      return "ping " + std::string(e.payload);
    case ConnectionEvent::Kind::Pong:
      return "pong " + std::string(e.payload);
    case ConnectionEvent::Kind::Closed:
      return "closed";
    case ConnectionEvent::Kind::NeedMore:
      break;
  }
  return "";
}

// Feeds each chunk (copied: the connection unmasks in place) until it is used up.
inline std::vector<std::string> feed(Connection& c, StringSink& sink,
                                     const std::vector<std::string>& chunks) {
  std::vector<std::string> events;
  for (const std::string& chunk : chunks) {
    std::string copy = chunk;
    std::span<uint8_t> input(reinterpret_cast<uint8_t*>(copy.data()), copy.size());
    for (;;) {
      ConnectionEvent e = c.receive(input, sink);
      if (e.kind == ConnectionEvent::Kind::NeedMore) break;
      events.push_back(describe(e));
    }
  }
  return events;
}

}  // namespace duplex::protocol::test
