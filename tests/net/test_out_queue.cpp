// OutQueue and BufferPool: coalescing, shared chunks and their reference counts, gather/consume
// across segments, and the pool's reuse of chunks.
#include <gtest/gtest.h>

#include <cstring>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "net/out_queue.h"
#include "net_test_util.h"

namespace duplex::net {
namespace {

void appendText(OutQueue& queue, std::string_view text) {
  std::memcpy(queue.append(text.size()), text.data(), text.size());
}

std::vector<std::string> gatherAll(const OutQueue& queue, int max = 64) {
  std::vector<iovec> iov(static_cast<size_t>(max));
  int n = queue.gather(iov.data(), max);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.emplace_back(static_cast<const char*>(iov[static_cast<size_t>(i)].iov_base),
                     iov[static_cast<size_t>(i)].iov_len);
  }
  return out;
}

std::string joined(const OutQueue& queue) {
  std::string all;
  for (const std::string& s : gatherAll(queue, 4096)) all += s;
  return all;
}

// A chunk holding `text`, as a broadcaster would build it (refs = 1: the broadcaster's own).
Chunk* sharedChunk(BufferPool& pool, std::string_view text) {
  Chunk* chunk = pool.acquire(text.size());
  std::memcpy(chunk->bytes(), text.data(), text.size());
  chunk->used = static_cast<uint32_t>(text.size());
  return chunk;
}

struct CoalesceCase {
  const char* name;
  std::vector<size_t> sizes;
  size_t expectedIovecs;
};
// Failure messages name the row rather than dumping its bytes.
void PrintTo(const CoalesceCase& c, std::ostream* os) {
  *os << c.name;
}

class OutQueueCoalesce : public ::testing::TestWithParam<CoalesceCase> {};

TEST_P(OutQueueCoalesce, AppendsShareChunksWhileTheyFit) {
  BufferPool pool;
  OutQueue queue(pool);
  std::string expected;
  char fill = 'a';
  for (size_t size : GetParam().sizes) {
    std::string block(size, fill++);
    appendText(queue, block);
    expected += block;
  }
  EXPECT_EQ(gatherAll(queue).size(), GetParam().expectedIovecs);
  EXPECT_EQ(queue.size(), expected.size());
  EXPECT_EQ(joined(queue), expected);
}

constexpr size_t kChunk = BufferPool::kChunkSize;

INSTANTIATE_TEST_SUITE_P(
    Table, OutQueueCoalesce,
    ::testing::Values(CoalesceCase{"one", {5}, 1}, CoalesceCase{"three_small", {3, 4, 1}, 1},
                      CoalesceCase{"hundred_frames", std::vector<size_t>(100, 20), 1},
                      CoalesceCase{"fills_chunk_exactly", {kChunk - 10, 10}, 1},
                      CoalesceCase{"overflows_chunk", {kChunk - 10, 11}, 2},
                      CoalesceCase{"large_then_small", {kChunk + 1, 3}, 2},
                      CoalesceCase{"small_large_small", {3, kChunk * 2, 3}, 3}),
    test::CaseName());

TEST(OutQueue, AppendAfterASharedSegmentDoesNotWriteIntoTheSharedChunk) {
  BufferPool pool;
  OutQueue queue(pool);
  Chunk* frame = sharedChunk(pool, "FRAME");
  queue.appendShared(frame, 0, 5);
  appendText(queue, "tail");
  EXPECT_EQ(gatherAll(queue), (std::vector<std::string>{"FRAME", "tail"}));
  // The broadcaster's bytes are untouched and its chunk did not grow.
  EXPECT_EQ(frame->used, 5u);
  EXPECT_EQ(std::string_view(reinterpret_cast<char*>(frame->bytes()), 5), "FRAME");
  pool.release(frame);
}

TEST(OutQueue, AppendSharedCountsReferencesAndTheLastQueueFreesTheChunk) {
  BufferPool pool;
  Chunk* frame = sharedChunk(pool, "0123456789");
  {
    OutQueue a(pool), b(pool), c(pool);
    a.appendShared(frame, 2, 5);
    b.appendShared(frame, 0, 10);
    c.appendShared(frame, 0, 10);
    EXPECT_EQ(frame->refs, 4u);
    EXPECT_EQ(joined(a), "23456");
    pool.release(frame);  // the broadcaster is done with it
    EXPECT_EQ(frame->refs, 3u);

    a.consume(2);  // partial: still referenced
    EXPECT_EQ(frame->refs, 3u);
    EXPECT_EQ(joined(a), "456");
    a.consume(3);
    EXPECT_EQ(frame->refs, 2u);
    EXPECT_TRUE(a.empty());
    b.clear();
    EXPECT_EQ(frame->refs, 1u);
    // c goes out of scope holding the last reference.
  }
  // Back in the pool: the next small acquire hands out this very chunk, reset.
  Chunk* again = pool.acquire(16);
  EXPECT_EQ(again, frame);
  EXPECT_EQ(again->refs, 1u);
  EXPECT_EQ(again->used, 0u);
  pool.release(again);
}

TEST(OutQueue, GatherHonoursMaxAndKeepsOrder) {
  BufferPool pool;
  OutQueue queue(pool);
  Chunk* frame = sharedChunk(pool, "world");
  appendText(queue, "hello");
  queue.appendShared(frame, 0, 5);
  appendText(queue, "!!");
  pool.release(frame);
  EXPECT_EQ(gatherAll(queue), (std::vector<std::string>{"hello", "world", "!!"}));
  EXPECT_EQ(gatherAll(queue, 2), (std::vector<std::string>{"hello", "world"}));
  EXPECT_EQ(gatherAll(queue, 0), std::vector<std::string>{});
}

struct ConsumeCase {
  const char* name;
  std::vector<size_t> steps;
};
// Failure messages name the row rather than dumping its bytes.
void PrintTo(const ConsumeCase& c, std::ostream* os) {
  *os << c.name;
}

class OutQueueConsume : public ::testing::TestWithParam<ConsumeCase> {};

// Segments "hello" (own chunk), "world" (shared), "!!" (own chunk): every consume leaves exactly
// the suffix of the bytes, whatever the boundaries crossed.
TEST_P(OutQueueConsume, LeavesTheRightSuffix) {
  BufferPool pool;
  OutQueue queue(pool);
  Chunk* frame = sharedChunk(pool, "xworldx");
  appendText(queue, "hello");
  queue.appendShared(frame, 1, 5);
  appendText(queue, "!!");
  pool.release(frame);
  const std::string all = "helloworld!!";
  size_t done = 0;
  for (size_t step : GetParam().steps) {
    queue.consume(step);
    done += step;
    EXPECT_EQ(queue.size(), all.size() - done) << "after consuming " << done;
    EXPECT_EQ(joined(queue), all.substr(done)) << "after consuming " << done;
  }
  // Whatever is left can still be appended to and read in order.
  appendText(queue, "?");
  EXPECT_EQ(joined(queue), all.substr(done) + "?");
}

INSTANTIATE_TEST_SUITE_P(Table, OutQueueConsume,
                         ::testing::Values(ConsumeCase{"byte_by_byte", std::vector<size_t>(12, 1)},
                                           ConsumeCase{"exact_segments", {5, 5, 2}},
                                           ConsumeCase{"inside_first", {3}},
                                           ConsumeCase{"across_one_boundary", {7}},
                                           ConsumeCase{"across_two_boundaries", {11}},
                                           ConsumeCase{"all_at_once", {12}},
                                           ConsumeCase{"zero_then_some", {0, 6, 0, 6}}),
                         test::CaseName());

TEST(OutQueue, ManySegmentsConsumedInUnevenStepsKeepTheirBytes) {
  // Enough segments for the lazy compaction of consumed ones to run several times.
  BufferPool pool;
  OutQueue queue(pool);
  std::string all;
  std::vector<Chunk*> chunks;
  for (int i = 0; i < 200; ++i) {
    std::string piece = std::to_string(i) + ":";
    if (i % 2) {
      Chunk* c = sharedChunk(pool, piece);
      queue.appendShared(c, 0, static_cast<uint32_t>(piece.size()));
      chunks.push_back(c);
    } else {
      appendText(queue, piece);
    }
    all += piece;
  }
  size_t done = 0;
  size_t step = 1;
  while (done < all.size()) {
    size_t n = std::min(step, all.size() - done);
    queue.consume(n);
    done += n;
    ASSERT_EQ(joined(queue), all.substr(done)) << "after consuming " << done;
    step = step % 7 + 1;
    // Interleave appends with consumes, as a socket under backpressure does.
    if (done % 3 == 0) {
      appendText(queue, "+");
      all += "+";
    }
  }
  EXPECT_TRUE(queue.empty());
  for (Chunk* c : chunks) {
    EXPECT_EQ(c->refs, 1u);  // every queue reference was released
    pool.release(c);
  }
}

TEST(OutQueue, DestructionAndClearReleaseEveryReference) {
  BufferPool pool;
  Chunk* frame = sharedChunk(pool, "abc");
  {
    OutQueue queue(pool);
    queue.appendShared(frame, 0, 3);
    queue.appendShared(frame, 1, 2);
    EXPECT_EQ(frame->refs, 3u);
  }
  EXPECT_EQ(frame->refs, 1u);
  OutQueue queue(pool);
  queue.appendShared(frame, 0, 3);
  queue.consume(1);
  queue.clear();
  EXPECT_EQ(frame->refs, 1u);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.size(), 0u);
  pool.release(frame);
}

TEST(OutQueue, SharedFramesBackToBackInOneChunkBecomeOneSegment) {
  // What a subscriber's queue holds after several publishes in one iteration: their frames
  // follow each other in the publisher's chunk. One reference, one iovec, the bytes in order.
  BufferPool pool;
  Chunk* frames = sharedChunk(pool, "aabbbcdddd");
  OutQueue queue(pool);
  queue.appendShared(frames, 0, 2);
  queue.appendShared(frames, 2, 3);
  queue.appendShared(frames, 5, 1);
  EXPECT_EQ(frames->refs, 2u);
  EXPECT_EQ(gatherAll(queue), (std::vector<std::string>{"aabbbc"}));
  // Not adjacent (a gap, or bytes already queued again): a segment of its own.
  queue.appendShared(frames, 7, 3);
  queue.appendShared(frames, 0, 2);
  EXPECT_EQ(frames->refs, 4u);
  EXPECT_EQ(gatherAll(queue), (std::vector<std::string>{"aabbbc", "ddd", "aa"}));
  // Consumed in part, the merged segment keeps the rest and extends again from where it ends.
  queue.consume(4);
  queue.appendShared(frames, 2, 3);
  EXPECT_EQ(joined(queue), "bcdddaabbb");
  queue.consume(queue.size());
  EXPECT_EQ(frames->refs, 1u);
  pool.release(frames);
}

TEST(BufferPool, ReusesSmallChunksAndFreesLargeOnes) {
  BufferPool pool;
  Chunk* small = pool.acquire(100);
  EXPECT_TRUE(small->pooled);
  EXPECT_GE(small->capacity, 100u);
  small->used = 42;
  pool.release(small);
  Chunk* reused = pool.acquire(BufferPool::kChunkSize);
  EXPECT_EQ(reused, small);
  EXPECT_EQ(reused->used, 0u);
  EXPECT_EQ(reused->refs, 1u);

  Chunk* large = pool.acquire(BufferPool::kChunkSize + 1);
  EXPECT_FALSE(large->pooled);
  EXPECT_GE(large->capacity, BufferPool::kChunkSize + 1);
  pool.release(large);  // freed, not pooled (ASan would report a leak otherwise)
  // Had the large chunk gone to the free list, it would come back here.
  Chunk* next = pool.acquire(10);
  EXPECT_TRUE(next->pooled);
  EXPECT_EQ(next->capacity, BufferPool::kChunkSize);
  pool.release(next);
  pool.release(reused);
}

TEST(BufferPool, RetainDelaysTheReturnToThePool) {
  BufferPool pool;
  Chunk* chunk = pool.acquire(10);
  pool.retain(chunk);
  pool.release(chunk);
  Chunk* other = pool.acquire(10);
  EXPECT_NE(other, chunk);  // still referenced: not handed out again
  pool.release(chunk);
  pool.release(other);
}

}  // namespace
}  // namespace duplex::net
