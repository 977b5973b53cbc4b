#pragma once
// Incremental UTF-8 validation (RFC 3629). A message may be split across frames and a frame
// across reads, so the validator keeps the state of a partial sequence between calls and says
// "invalid" as soon as a byte makes every continuation impossible: RFC 6455 8.1 lets us fail
// the connection early, and Autobahn 6.4.* checks that we do.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace duplex::protocol {

class Utf8Validator {
 public:
  // Feeds the next bytes. Returns false once the input can no longer be valid UTF-8.
  bool feed(const uint8_t* data, size_t size);
  bool feed(std::string_view s) {
    return feed(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  // True when everything fed so far ends on a character boundary (no partial sequence).
  bool complete() const { return state_ == 0; }
  void reset() { state_ = 0; }

 private:
  uint8_t state_ = 0;  // DFA state; 0 = accept, 1 = reject, others = inside a sequence
};

// One-shot check of a whole string.
bool isValidUtf8(std::string_view s);

}  // namespace duplex::protocol
