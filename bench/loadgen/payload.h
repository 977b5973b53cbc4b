#pragma once
// What every message the generator sends looks like, so that whatever comes back can be checked
// for content and order: a server that drops, reorders, truncates or corrupts a message fails
// the run instead of looking fast.
//
// Every payload is ASCII, so the same bytes are valid as text and as binary, and carries the
// sender's connection id and its sequence number (8 hex digits each) at fixed offsets, then a
// filler that depends on the sequence number. Two kinds:
//
//   letters  "<id><seq>" then letters a..z, starting at a letter that depends on seq. The
//            uncompressed workloads: cheap to write and check, and its content is irrelevant.
//   json     {"from":"<id>","seq":"<seq>","items":[ ... ]} where ... is a run of chat-like
//            records ({"user":"user-0042","room":"general","ts":1732483200123,"text":"..."},
//            words from a small vocabulary, seeded pseudo-random) starting at a point of a
//            1 MiB run that depends on seq, cut to length. The compression workloads: it shrinks
//            about as much as real JSON traffic does (see docs/performance.md for the measured
//            ratio), where the letters would shrink to almost nothing and flatter every compressor.
// The filler is a slice of one precomputed pattern, so writing and checking a message are a
// few memcpy/memcmp calls whatever its size.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bench {

inline constexpr size_t kPayloadHeaderSize = 16;  // letters: id and seq, nothing else

// The smallest payload of a kind ("letters" or "json") that holds id, seq and its framing.
size_t minimumPayloadSize(std::string_view kind);

class PayloadCodec {
 public:
  // size >= minimumPayloadSize(kind); kind "letters" or "json".
  explicit PayloadCodec(size_t size, std::string_view kind = "letters");

  size_t size() const { return size_; }
  void write(uint8_t* out, uint32_t connection, uint32_t seq) const;

  // Checks the filler and the length and returns the sender and sequence number. False (with
  // `why` set) when the payload is not one this codec wrote.
  bool read(std::string_view payload, uint32_t& connection, uint32_t& seq, std::string& why) const;

 private:
  size_t fillerStart(uint32_t seq) const { return (seq * step_ % starts_) * stride_; }
  size_t fillerSize() const { return size_ - prefix_.size() - suffix_.size(); }

  size_t size_;
  std::string prefix_;  // with zeros where id and seq go
  size_t idOffset_ = 0, seqOffset_ = 8;
  std::string suffix_;
  std::string pattern_;  // fillers are slices of it
  size_t starts_ = 26, stride_ = 1;
  uint64_t step_ = 1;  // json: 509, prime to 1,024, so consecutive messages start far apart
};

}  // namespace bench
