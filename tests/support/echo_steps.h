#pragma once
// The echo our test clients (duplex-interop-client, duplex-tls-client) check against a server:
// a text and a binary message of each size across the frame header's length encodings (7-bit,
// 16-bit, 64-bit) and a TLS record's 16 KiB, up to 1 MiB, text with non-ASCII UTF-8 in it. Each
// is sent once the echo of the one before came back byte for byte.
#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "connection/websocket.h"

namespace duplex::test {

class EchoSteps {
 public:
  EchoSteps() {
    std::mt19937 random(42);
    for (size_t size : {0u, 20u, 125u, 126u, 16384u, 65535u, 65536u, 1u << 20}) {
      std::string text(size, 'x');
      for (char& c : text) c = static_cast<char>('a' + random() % 26);
      if (size >= 4) text.replace(0, 2, "\xc3\xa9");  // some non-ASCII UTF-8 too
      steps_.push_back({Opcode::Text, text});
      std::string binary(size, '\0');
      for (char& c : binary) c = static_cast<char>(random());
      steps_.push_back({Opcode::Binary, binary});
    }
  }

  // Sends the first message.
  void start(WebSocket& ws) { ws.send(steps_[0].payload, steps_[0].opcode); }

  // A message came back: false, with `why`, when it is not the echo of the last one sent;
  // otherwise the next one is sent unless this was the last (then done()).
  bool onEcho(WebSocket& ws, std::string_view data, Opcode opcode, std::string& why) {
    const Step& step = steps_[next_];
    if (opcode != step.opcode || data != step.payload) {
      why = "echo " + std::to_string(next_) + " differs (" + std::to_string(data.size()) +
            " bytes back for " + std::to_string(step.payload.size()) + ")";
      return false;
    }
    if (++next_ < steps_.size()) ws.send(steps_[next_].payload, steps_[next_].opcode);
    return true;
  }

  bool done() const { return next_ == steps_.size(); }
  size_t count() const { return steps_.size(); }
  // The largest message, for the client's maxMessageSize.
  static constexpr size_t kLargest = 1u << 20;

 private:
  struct Step {
    Opcode opcode;
    std::string payload;
  };
  std::vector<Step> steps_;
  size_t next_ = 0;
};

}  // namespace duplex::test
