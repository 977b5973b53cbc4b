#pragma once
// Outgoing bytes of one socket, waiting for the end of the loop iteration (corking) or for the
// kernel to take them (backpressure). Bytes live in reference-counted chunks so that one
// broadcast frame can sit in many sockets' queues without a copy per subscriber.
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace duplex::net {

// A reference-counted byte block. Small blocks come from a per-loop pool (BufferPool), so the
// steady state of an echo loop allocates nothing.
struct alignas(16) Chunk {
  uint32_t refs;
  uint32_t capacity;
  uint32_t used;  // bytes written so far (the owner appends at the end)
  bool pooled;

  // The bytes follow the header in the same allocation.
  uint8_t* bytes() { return reinterpret_cast<uint8_t*>(this + 1); }
  static Chunk* allocate(size_t capacity, bool pooled);
};

class BufferPool {
 public:
  static constexpr size_t kChunkSize = 16 * 1024 - 64;  // fits a 16 KiB malloc bucket
  static constexpr size_t kMaxFree = 512;               // keep at most ~8 MiB of spare chunks

  ~BufferPool();
  // A chunk with refs = 1 holding at least `minCapacity` bytes.
  Chunk* acquire(size_t minCapacity);
  void retain(Chunk* chunk) { ++chunk->refs; }
  void release(Chunk* chunk);

 private:
  std::vector<Chunk*> free_;
};

class OutQueue {
 public:
  explicit OutQueue(BufferPool& pool) : pool_(&pool) {}
  ~OutQueue();
  OutQueue(const OutQueue&) = delete;
  OutQueue& operator=(const OutQueue&) = delete;

  // Room for `size` contiguous bytes at the end of the queue; the caller fills all of them.
  uint8_t* append(size_t size);
  // Copies `size` bytes to the end of the queue, filling the last chunk's free tail before
  // taking pooled chunks: for producers whose pieces do not fit one chunk (TLS records).
  void appendCopy(const uint8_t* data, size_t size);
  // Queues `size` bytes of a shared chunk without copying them: takes a reference, or extends
  // the last segment when the bytes follow it in the same chunk (which it already holds).
  void appendShared(Chunk* chunk, uint32_t offset, uint32_t size);

  size_t size() const { return bytes_; }
  bool empty() const { return bytes_ == 0; }

  // Fills up to `max` iovecs with the queued bytes, oldest first; returns how many.
  int gather(iovec* iov, int max) const;
  // Drops `n` bytes from the front (what the kernel accepted).
  void consume(size_t n);
  void clear();

 private:
  struct Segment {
    Chunk* chunk;
    uint32_t begin;
    uint32_t end;
  };
  BufferPool* pool_;
  std::vector<Segment> segments_;
  size_t head_ = 0;  // first live segment; consumed ones before it are compacted lazily
  size_t bytes_ = 0;
};

}  // namespace duplex::net
