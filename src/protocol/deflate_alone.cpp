#include "deflate_alone.h"

#include <libdeflate.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace duplex::protocol {
namespace {

// libdeflate's allocator hook is process-wide and has no per-compressor argument, so the
// counter to charge travels in a thread_local set around the calls that allocate or free;
// each block remembers its size and its counter in a max_align_t-sized header, like the
// zlib hook in deflate_codec.cpp, so memoryBytes() is measured, not estimated.
struct Header {
  size_t bytes;
  size_t* counter;
};
constexpr size_t kHeader = alignof(std::max_align_t);
static_assert(sizeof(Header) <= kHeader);

thread_local size_t* charging = nullptr;

void* countingMalloc(size_t bytes) {
  auto* block = static_cast<unsigned char*>(std::malloc(bytes + kHeader));
  if (block == nullptr) return nullptr;
  Header header{bytes, charging};
  std::memcpy(block, &header, sizeof header);
  if (charging != nullptr) *charging += bytes;
  return block + kHeader;
}

void countingFree(void* address) {
  if (address == nullptr) return;
  auto* block = static_cast<unsigned char*>(address) - kHeader;
  Header header;
  std::memcpy(&header, block, sizeof header);
  if (header.counter != nullptr) *header.counter -= header.bytes;
  std::free(block);
}

// libdeflate requires the hook to be installed before any compressor exists.
void installAllocator() {
  static std::once_flag once;
  std::call_once(once, [] { libdeflate_set_memory_allocator(countingMalloc, countingFree); });
}

// zlib's sync flush leaves the stream byte-aligned after an empty stored block; libdeflate
// pads its final block to a byte. 7.2.3.4: that block, then the stored block's header byte.
constexpr char kStoredBlockHeader = '\0';

}  // namespace

AloneCompressor::AloneCompressor(int level) : level_(level < 0 ? 6 : level) {}

AloneCompressor::~AloneCompressor() {
  // The header names the counter, so no thread_local is needed here.
  if (compressor_ != nullptr) libdeflate_free_compressor(compressor_);
}

bool AloneCompressor::compress(std::string_view message, std::string& out) {
  if (compressor_ == nullptr) {
    installAllocator();
    charging = &bytes_;
    compressor_ = libdeflate_alloc_compressor(level_);
    charging = nullptr;
    if (compressor_ == nullptr) return false;
  }
  const size_t start = out.size();
  out.resize(start + libdeflate_deflate_compress_bound(compressor_, message.size()) + 1);
  size_t produced = libdeflate_deflate_compress(compressor_, message.data(), message.size(),
                                                out.data() + start, out.size() - start - 1);
  if (produced == 0) {  // cannot happen with the bound's room, but never send half a message
    out.resize(start);
    return false;
  }
  out[start + produced] = kStoredBlockHeader;
  out.resize(start + produced + 1);
  return true;
}

}  // namespace duplex::protocol
