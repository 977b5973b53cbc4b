#include "net/out_queue.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace duplex::net {

Chunk* Chunk::allocate(size_t capacity, bool pooled) {
  void* memory = std::malloc(sizeof(Chunk) + capacity);
  if (!memory) throw std::bad_alloc();
  auto* chunk = static_cast<Chunk*>(memory);
  chunk->refs = 1;
  chunk->capacity = static_cast<uint32_t>(capacity);
  chunk->used = 0;
  chunk->pooled = pooled;
  return chunk;
}

BufferPool::~BufferPool() {
  for (Chunk* chunk : free_) std::free(chunk);
}

Chunk* BufferPool::acquire(size_t minCapacity) {
  if (minCapacity <= kChunkSize) {
    if (!free_.empty()) {
      Chunk* chunk = free_.back();
      free_.pop_back();
      chunk->refs = 1;
      chunk->used = 0;
      return chunk;
    }
    return Chunk::allocate(kChunkSize, true);
  }
  return Chunk::allocate(minCapacity, false);
}

void BufferPool::release(Chunk* chunk) {
  if (--chunk->refs != 0) return;
  if (chunk->pooled && free_.size() < kMaxFree) {
    free_.push_back(chunk);
  } else {
    std::free(chunk);
  }
}

OutQueue::~OutQueue() {
  clear();
}

uint8_t* OutQueue::append(size_t size) {
  // Extend the last segment when it is the tail of a chunk we alone own: consecutive small
  // sends (the usual case within one loop iteration) then share one chunk and one iovec.
  if (head_ < segments_.size()) {
    Segment& last = segments_.back();
    Chunk* chunk = last.chunk;
    if (chunk->refs == 1 && last.end == chunk->used && chunk->capacity - chunk->used >= size) {
      uint8_t* out = chunk->bytes() + chunk->used;
      chunk->used += static_cast<uint32_t>(size);
      last.end = chunk->used;
      bytes_ += size;
      return out;
    }
  }
  Chunk* chunk = pool_->acquire(size);
  chunk->used = static_cast<uint32_t>(size);
  segments_.push_back({chunk, 0, static_cast<uint32_t>(size)});
  bytes_ += size;
  return chunk->bytes();
}

void OutQueue::appendCopy(const uint8_t* data, size_t size) {
  while (size > 0) {
    size_t room = 0;
    if (head_ < segments_.size()) {
      const Segment& last = segments_.back();
      const Chunk* chunk = last.chunk;
      if (chunk->refs == 1 && last.end == chunk->used) room = chunk->capacity - chunk->used;
    }
    size_t piece = std::min(size, room ? room : BufferPool::kChunkSize);
    std::memcpy(append(piece), data, piece);
    data += piece;
    size -= piece;
  }
}

void OutQueue::appendShared(Chunk* chunk, uint32_t offset, uint32_t size) {
  bytes_ += size;
  // Frames published in one iteration lie back to back in one chunk (pubsub::Topics packs
  // them): the next one extends the last segment, so a subscriber that gets 16 of them holds
  // one reference and hands the kernel one iovec, not 16 of each.
  if (head_ < segments_.size()) {
    Segment& last = segments_.back();
    if (last.chunk == chunk && last.end == offset) {
      last.end = offset + size;
      return;
    }
  }
  pool_->retain(chunk);
  segments_.push_back({chunk, offset, offset + size});
}

int OutQueue::gather(iovec* iov, int max) const {
  int count = 0;
  for (size_t i = head_; i < segments_.size() && count < max; ++i) {
    const Segment& s = segments_[i];
    iov[count].iov_base = s.chunk->bytes() + s.begin;
    iov[count].iov_len = s.end - s.begin;
    ++count;
  }
  return count;
}

void OutQueue::consume(size_t n) {
  bytes_ -= n;
  while (n > 0) {
    Segment& s = segments_[head_];
    size_t length = s.end - s.begin;
    if (n < length) {
      s.begin += static_cast<uint32_t>(n);
      return;
    }
    n -= length;
    pool_->release(s.chunk);
    ++head_;
  }
  if (head_ == segments_.size()) {
    segments_.clear();
    head_ = 0;
  } else if (head_ > 32 && head_ * 2 > segments_.size()) {
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void OutQueue::clear() {
  for (size_t i = head_; i < segments_.size(); ++i) pool_->release(segments_[i].chunk);
  segments_.clear();
  head_ = 0;
  bytes_ = 0;
}

}  // namespace duplex::net
