#pragma once
// One message compressed on its own, for a direction without context takeover (RFC 7692
// 7.1.1), by libdeflate rather than zlib. Why: such a message needs no stream, only "these
// bytes in, DEFLATE out", and for the 1 KiB messages chat traffic is made of, zlib's streaming
// machinery costs more than the compression itself; libdeflate's whole-buffer compressor makes
// the same output size (level 6 on JSON: 0.3718 of the input against zlib's 0.3720) in about
// two thirds of the time (docs/compression.md has the measurements).
//
// libdeflate ends its output with a block that has BFINAL set. RFC 7692 7.2.3.4 allows that:
// the payload is that block followed by the one 0x00 byte that holds the header of the empty
// stored block 7.2.1 appends (BFINAL 0, BTYPE 00, padding) once its 0x00 0x00 0xff 0xff are
// removed. Every conforming inflater (zlib's inflate stops at BFINAL and ignores the rest)
// reads it like a sync-flushed message.
//
// libdeflate's window is always 32 KiB, so Deflater uses this only when the agreed window
// covers the whole message: a match in a message alone never reaches further back than the
// message's own start.
#include <cstddef>
#include <string>
#include <string_view>

struct libdeflate_compressor;

namespace duplex::protocol {

class AloneCompressor {
 public:
  explicit AloneCompressor(int level);  // zlib's levels: 0..9, or -1 for 6
  ~AloneCompressor();
  AloneCompressor(const AloneCompressor&) = delete;
  AloneCompressor& operator=(const AloneCompressor&) = delete;

  // Appends `message` (not empty) compressed to `out`, in the RFC 7692 7.2.3.4 form above.
  // False, leaving `out` as it was, only when libdeflate cannot get memory.
  bool compress(std::string_view message, std::string& out);

  size_t memoryBytes() const { return bytes_; }  // what libdeflate allocated, 0 until used

 private:
  libdeflate_compressor* compressor_ = nullptr;
  size_t bytes_ = 0;
  int level_;
};

}  // namespace duplex::protocol
