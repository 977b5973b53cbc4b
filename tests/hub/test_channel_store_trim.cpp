// ChannelStore::trimStep: history size and TTL are kept per channel, in bounded steps.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hub/channel_store.h"
#include "temp_dir.h"
#include "test_channel_store_util.h"

namespace duplex::hub {
namespace {

using test::appendOk;
using test::collectInto;
using test::countRows;
using test::keep;
using test::offsetsOf;
using test::openStoreOrFail;
using test::pub;
using test::range;
using test::Seen;
using test::TempDir;

std::vector<NewPublication> many(const char* channel, size_t count, int64_t nowMs,
                                 ChannelLimits limits) {
  return std::vector<NewPublication>(count, pub(channel, "{\"x\":1}", nowMs, limits));
}

struct TrimCase {
  const char* name;
  uint32_t trimChunk;
  size_t channels;
  size_t perChannel;
  uint64_t historySize;
};

class TrimBySize : public ::testing::TestWithParam<TrimCase> {};

// The size limit holds at once for readers; the rows go in steps of at most trimChunk, and the
// steps stop exactly when nothing is left.
TEST_P(TrimBySize, IsIncrementalAndBoundedPerStep) {
  const TrimCase& c = GetParam();
  TempDir dir;
  std::string path = dir.file("channels.db");
  auto store = openStoreOrFail(path, {.trimChunk = c.trimChunk});
  ASSERT_TRUE(store);
  std::vector<std::string> names;
  for (size_t i = 0; i < c.channels; ++i) names.push_back("ch" + std::to_string(i));
  for (const auto& name : names) {
    for (size_t done = 0; done < c.perChannel; done += 100) {
      appendOk(*store, many(name.c_str(), std::min<size_t>(100, c.perChannel - done), 1000,
                            keep(c.historySize)));
    }
    std::vector<Seen> seen;
    ASSERT_TRUE(store->latest(name, 100'000, collectInto(seen)).ok());
    EXPECT_EQ(offsetsOf(seen), range(c.perChannel - c.historySize + 1, c.perChannel));
  }

  const uint64_t dead = c.channels * (c.perChannel - c.historySize);
  uint64_t deleted = 0;
  size_t steps = 0;
  for (bool more = true; more; ++steps) {
    ASSERT_LT(steps, 10'000u) << "trimStep never finished";
    uint64_t commits = store->commits();
    auto step = store->trimStep(1000);
    ASSERT_TRUE(step.ok()) << step.error().message;
    EXPECT_LE(step->publications, c.trimChunk);
    EXPECT_GT(step->publications, 0u);
    EXPECT_EQ(store->commits(), commits + 1);
    deleted += step->publications;
    more = step->more;
  }
  EXPECT_EQ(deleted, dead);
  // Each step deletes a full chunk except where a channel's rows run out.
  EXPECT_LE(steps, (dead + c.trimChunk - 1) / c.trimChunk + c.channels);
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM pubs"),
            static_cast<int64_t>(c.channels * c.historySize));

  // Idle: no work, no transaction.
  uint64_t commits = store->commits();
  auto idle = store->trimStep(1000);
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->publications, 0u);
  EXPECT_FALSE(idle->more);
  EXPECT_EQ(store->commits(), commits);
}

INSTANTIATE_TEST_SUITE_P(Cases, TrimBySize,
                         ::testing::Values(TrimCase{"one_channel", 100, 1, 1000, 10},
                                           TrimCase{"chunk_of_one", 1, 1, 20, 5},
                                           TrimCase{"many_channels", 100, 5, 300, 10},
                                           TrimCase{"chunk_larger_than_all", 500, 3, 50, 20}),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(ChannelTrim, TtlExpiryIsIncrementalToo) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  auto store = openStoreOrFail(path, {.trimChunk = 50});
  ASSERT_TRUE(store);
  for (int i = 0; i < 3; ++i) appendOk(*store, many("a", 100, 1000 + i, keep(1000, 500)));
  appendOk(*store, many("a", 10, 2000, keep(1000, 500)));

  uint64_t deleted = 0;
  size_t steps = 0;
  for (bool more = true; more; ++steps) {
    ASSERT_LT(steps, 100u);
    auto step = store->trimStep(1600);
    ASSERT_TRUE(step.ok()) << step.error().message;
    EXPECT_LE(step->publications, 50u);
    deleted += step->publications;
    more = step->more;
  }
  EXPECT_EQ(deleted, 300u);
  EXPECT_GE(steps, 6u);
  std::vector<Seen> seen;
  ASSERT_TRUE(store->latest("a", 1000, collectInto(seen)).ok());
  EXPECT_EQ(offsetsOf(seen), range(301, 310));
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM pubs"), 10);
  EXPECT_EQ(store->trimStep(2499)->publications, 0u);
  EXPECT_EQ(store->trimStep(2500)->publications, 10u);
}

// A clock that steps back does not reorder `at`: a publication never expires before the one
// published ahead of it, so TTL trims exactly the oldest ones.
TEST(ChannelTrim, ClockSteppingBackDoesNotExpireNewerPublications) {
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  const ChannelLimits limits = keep(100, 1000);
  appendOk(*store,
           {pub("a", "1", 1000, limits), pub("a", "2", 5000, limits), pub("a", "3", 1000, limits)});
  EXPECT_EQ(store->trimStep(1999)->publications, 0u);
  EXPECT_EQ(store->trimStep(2000)->publications, 1u);
  std::vector<Seen> seen;
  Epoch epoch = store->position("a")->epoch;
  EXPECT_EQ(store->since("a", 1, epoch.view(), 100, collectInto(seen))->recovery,
            Recovery::Recovered);
  EXPECT_EQ(seen, (std::vector<Seen>{{2, "2"}, {3, "3"}}));
  EXPECT_EQ(store->trimStep(5999)->publications, 0u);
  EXPECT_EQ(store->trimStep(6000)->publications, 2u);
}

// The hub passes each channel's current options with every publish; a smaller size or a TTL
// that appears later applies from then on.
TEST(ChannelTrim, NewLimitsApplyFromTheNextAppend) {
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  appendOk(*store, many("a", 20, 1000, keep(100)));
  EXPECT_FALSE(store->trimStep(1000)->more);
  appendOk(*store, many("a", 1, 1000, keep(5, 10'000)));
  std::vector<Seen> seen;
  EXPECT_EQ(store->latest("a", 100, collectInto(seen))->visited, 5u);
  EXPECT_EQ(store->trimStep(1000)->publications, 16u);
  EXPECT_EQ(store->trimStep(10'999)->publications, 0u);
  EXPECT_EQ(store->trimStep(11'000)->publications, 5u);
}

}  // namespace
}  // namespace duplex::hub
