#pragma once
// What every message the generator sends looks like, so that whatever comes back can be checked
// for content and order: a server that drops, reorders, truncates or corrupts a message fails
// the run instead of looking fast.
//
// Layout, all ASCII so the same bytes are valid as text and as binary:
//   8 hex digits  connection id of the sender
//   8 hex digits  the sender's sequence number for this message
//   filler        letters a..z, starting at a letter that depends on the sequence number
// The filler is a slice of one precomputed pattern, so writing and checking a message are two
// memcpy/memcmp calls whatever its size.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bench {

inline constexpr size_t kPayloadHeaderSize = 16;

class PayloadCodec {
 public:
  explicit PayloadCodec(size_t size);  // size >= kPayloadHeaderSize

  size_t size() const { return size_; }
  void write(uint8_t* out, uint32_t connection, uint32_t seq) const;

  // Checks the filler and the length and returns the sender and sequence number. False (with
  // `why` set) when the payload is not one this codec wrote.
  bool read(std::string_view payload, uint32_t& connection, uint32_t& seq, std::string& why) const;

 private:
  static constexpr size_t kAlphabet = 26;
  size_t size_;
  std::string pattern_;  // size_ + kAlphabet letters cycling a..z
};

}  // namespace bench
