// What the Receiver costs in memory: nothing on the fast path, nothing while idle, no huge
// reservations on a peer's word, and no quadratic copying of a message arriving in pieces.
// Allocations are observed by replacing the global operator new for this test binary.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "receiver_harness.h"

namespace {

std::atomic<size_t> gAllocations{0};
std::atomic<size_t> gAllocatedBytes{0};
std::atomic<long long> gLiveBytes{0};

// Each block carries its size in front, so that unsized delete can account for it.
constexpr size_t kPrefix = alignof(std::max_align_t);

void* countedNew(size_t size) {
  void* block = std::malloc(size + kPrefix);
  if (!block) throw std::bad_alloc();
  *static_cast<size_t*>(block) = size;
  ++gAllocations;
  gAllocatedBytes += size;
  gLiveBytes += static_cast<long long>(size);
  return static_cast<char*>(block) + kPrefix;
}

void countedDelete(void* p) noexcept {
  if (!p) return;
  void* block = static_cast<char*>(p) - kPrefix;
  gLiveBytes -= static_cast<long long>(*static_cast<size_t*>(block));
  std::free(block);
}

}  // namespace

void* operator new(size_t size) {
  return countedNew(size);
}
void* operator new[](size_t size) {
  return countedNew(size);
}
void operator delete(void* p) noexcept {
  countedDelete(p);
}
void operator delete[](void* p) noexcept {
  countedDelete(p);
}
void operator delete(void* p, size_t) noexcept {
  countedDelete(p);
}
void operator delete[](void* p, size_t) noexcept {
  countedDelete(p);
}

namespace duplex::protocol::test {
namespace {

struct Counters {
  size_t allocations = gAllocations;
  size_t bytes = gAllocatedBytes;
  long long live = gLiveBytes;
  size_t allocationsSince() const { return gAllocations - allocations; }
  size_t bytesSince() const { return gAllocatedBytes - bytes; }
  long long liveSince() const { return gLiveBytes - live; }
};

std::vector<uint8_t> toBuffer(const std::string& s) {
  return {s.begin(), s.end()};
}

TEST(ReceiverMemory, StaysSmall) {
  static_assert(sizeof(Receiver) <= 48);
  EXPECT_LE(sizeof(Receiver), 48u);
}

TEST(ReceiverMemory, WholeFramesAreDeliveredInPlaceWithoutAllocating) {
  const ReceiverConfig config;
  for (uint8_t b0 : {uint8_t(FIN | TEXT), uint8_t(FIN | BINARY), uint8_t(FIN | PING),
                     uint8_t(FIN | PONG), uint8_t(FIN | CLOSE)}) {
    const std::string payload = b0 == (FIN | CLOSE) ? closePayload(1000, "bye") : "payload";
    std::vector<uint8_t> buffer = toBuffer(rawFrame(b0, payload) + rawFrame(b0, payload));
    Receiver r;
    std::span<uint8_t> input(buffer);
    const Counters before;
    const Event e1 = r.next(input, config);
    const Event e2 = r.next(input, config);
    const Event e3 = r.next(input, config);
    const size_t allocations = before.allocationsSince();
    EXPECT_EQ(allocations, 0u) << int(b0);
    EXPECT_EQ(e3.kind, Event::Kind::NeedMore);
    for (const Event* e : {&e1, &e2}) {
      // The payload is a view into the input, unmasked in place.
      const auto* p = reinterpret_cast<const uint8_t*>(e->payload.data());
      EXPECT_GE(p, buffer.data());
      EXPECT_LE(p + e->payload.size(), buffer.data() + buffer.size());
      EXPECT_EQ(e->payload, b0 == (FIN | CLOSE) ? "bye" : "payload");
    }
  }
}

TEST(ReceiverMemory, SpillIsReleasedOnceTheMessageIsDelivered) {
  struct Row {
    const char* name;
    std::string stream;
    size_t cut;
  };
  const std::string text(1000, 't');
  const Row rows[] = {
      {"partial header", rawFrame(FIN | TEXT, text), 3},
      {"partial payload", rawFrame(FIN | TEXT, text), 500},
      {"fragments", rawFrame(TEXT, text) + rawFrame(FIN | CONT, text), 1100},
      {"partial ping", rawFrame(FIN | PING, "0123456789"), 9},
  };
  const ReceiverConfig config;
  for (const Row& row : rows) {
    Receiver r;
    std::vector<uint8_t> first = toBuffer(row.stream.substr(0, row.cut));
    std::vector<uint8_t> second = toBuffer(row.stream.substr(row.cut));
    const Counters before;
    std::span<uint8_t> input(first);
    const Event e1 = r.next(input, config);
    const long long heldWhilePartial = before.liveSince();
    const size_t buffered = r.bufferedBytes();
    input = std::span<uint8_t>(second);
    const Event e2 = r.next(input, config);
    const Event e3 = r.next(input, config);  // the caller's loop ends with NeedMore
    const long long heldWhenIdle = before.liveSince();

    EXPECT_EQ(e1.kind, Event::Kind::NeedMore) << row.name;
    EXPECT_NE(e2.kind, Event::Kind::NeedMore) << row.name;
    EXPECT_NE(e2.kind, Event::Kind::Error) << row.name;
    EXPECT_EQ(e3.kind, Event::Kind::NeedMore) << row.name;
    EXPECT_GT(heldWhilePartial, 0) << row.name;
    EXPECT_GT(buffered, 0u) << row.name;
    EXPECT_EQ(heldWhenIdle, 0) << row.name;
    EXPECT_EQ(r.bufferedBytes(), 0u) << row.name;
  }
}

TEST(ReceiverMemory, BufferedBytesCountsWhatSpansCalls) {
  const ReceiverConfig config;
  Receiver r;
  std::vector<uint8_t> header = toBuffer(rawFrame(FIN | TEXT, "abcdef").substr(0, 4));
  std::span<uint8_t> input(header);
  r.next(input, config);
  EXPECT_EQ(r.bufferedBytes(), 4u);
  std::vector<uint8_t> rest = toBuffer(rawFrame(FIN | TEXT, "abcdef").substr(4, 5));
  input = std::span<uint8_t>(rest);
  r.next(input, config);
  EXPECT_EQ(r.bufferedBytes(), 3u);  // the header is parsed, 3 payload bytes are held
}

TEST(ReceiverMemory, DeclaredLengthIsNotReservedUpFront) {
  ReceiverConfig config;
  config.maxFrameSize = config.maxMessageSize = 64 << 20;
  Receiver r;
  std::vector<uint8_t> buffer = toBuffer(rawHeader(FIN | BINARY, 16 << 20) + "x");
  std::span<uint8_t> input(buffer);
  const Counters before;
  const Event e = r.next(input, config);
  const long long held = before.liveSince();
  EXPECT_EQ(e.kind, Event::Kind::NeedMore);
  EXPECT_LE(held, 128 * 1024);
}

// A 16 MiB message in ~1000 reads: the spill grows geometrically, so it is reallocated a
// handful of times, not once per read.
TEST(ReceiverMemory, LargeMessageInManyReadsIsNotCopiedPerRead) {
  constexpr size_t kSize = 16 << 20;
  ReceiverConfig config;
  config.maxFrameSize = config.maxMessageSize = kSize;
  struct Row {
    const char* name;
    std::string stream;
  };
  std::string fragmented;
  constexpr size_t kFragment = kSize / 1024;
  for (size_t i = 0; i < 1024; ++i) {
    fragmented += rawFrame(static_cast<uint8_t>((i == 0 ? BINARY : CONT) | (i == 1023 ? FIN : 0)),
                           std::string(kFragment, 'f'));
  }
  const Row rows[] = {
      {"one frame", rawFrame(FIN | BINARY, std::string(kSize, 'b'))},
      {"1024 fragments", std::move(fragmented)},
  };
  for (const Row& row : rows) {
    Receiver r;
    const size_t read = row.stream.size() / 1000 + 1;
    std::vector<uint8_t> buffer = toBuffer(row.stream);
    size_t messages = 0, delivered = 0;
    const Counters before;
    for (size_t pos = 0; pos < buffer.size(); pos += read) {
      std::span<uint8_t> input(buffer.data() + pos, std::min(read, buffer.size() - pos));
      for (Event e = r.next(input, config); e.kind != Event::Kind::NeedMore;
           e = r.next(input, config)) {
        ++messages;
        delivered = e.payload.size();
      }
    }
    const size_t allocations = before.allocationsSince();
    const size_t bytes = before.bytesSince();
    EXPECT_EQ(messages, 1u) << row.name;
    EXPECT_EQ(delivered, kSize) << row.name;
    EXPECT_LE(allocations, 20u) << row.name;
    EXPECT_LE(bytes, 3 * kSize) << row.name;
  }
}

}  // namespace
}  // namespace duplex::protocol::test
