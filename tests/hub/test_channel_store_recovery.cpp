// ChannelStore::since (recovery after a reconnect) and idempotent publish.
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
using test::keep;
using test::offsetsOf;
using test::openStoreOrFail;
using test::pub;
using test::range;
using test::Seen;
using test::TempDir;

enum class Given { Current, Other, Empty };

struct SinceCase {
  const char* name;
  uint64_t after;
  Given epoch;
  size_t limit;
  Recovery recovery;
  std::vector<uint64_t> offsets;
  bool limited = false;
};

class Since : public ::testing::TestWithParam<SinceCase> {};

// A channel with offsets 1..10 all kept.
TEST_P(Since, OnAnUntrimmedChannel) {
  const SinceCase& c = GetParam();
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  std::vector<NewPublication> batch;
  std::vector<std::string> data;
  for (int i = 1; i <= 10; ++i) data.push_back("{\"n\":" + std::to_string(i) + "}");
  for (const auto& d : data) batch.push_back(pub("talk:main", d, 1000, keep(20)));
  Epoch epoch = appendOk(*store, batch)[0].epoch;

  std::string given = c.epoch == Given::Current ? epoch.str()
                      : c.epoch == Given::Other ? "0123456789abcdef"
                                                : "";
  std::vector<Seen> seen;
  auto since = store->since("talk:main", c.after, given, c.limit, collectInto(seen));
  ASSERT_TRUE(since.ok()) << since.error().message;
  EXPECT_EQ(since->recovery, c.recovery);
  EXPECT_EQ(since->position, (Position{epoch, 10}));
  EXPECT_EQ(offsetsOf(seen), c.offsets);
  EXPECT_EQ(since->visited, c.offsets.size());
  EXPECT_EQ(since->limited, c.limited);
  for (const Seen& s : seen) EXPECT_EQ(s.data, data[s.offset - 1]);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Since,
    ::testing::Values(
        SinceCase{"exact_catch_up", 7, Given::Current, 100, Recovery::Recovered, {8, 9, 10}},
        SinceCase{"from_the_start", 0, Given::Current, 100, Recovery::Recovered, range(1, 10)},
        SinceCase{"caught_up", 10, Given::Current, 100, Recovery::Recovered, {}},
        SinceCase{"limit_cuts", 2, Given::Current, 3, Recovery::Recovered, {3, 4, 5}, true},
        SinceCase{"limit_exact", 7, Given::Current, 3, Recovery::Recovered, {8, 9, 10}, false},
        SinceCase{"limit_zero", 2, Given::Current, 0, Recovery::Recovered, {}, true},
        SinceCase{"epoch_mismatch", 7, Given::Other, 100, Recovery::NotRecoverable, {}},
        SinceCase{"offset_from_the_future", 11, Given::Current, 100, Recovery::NotRecoverable, {}},
        // What a subscriber was told before the first publication: ("", 0).
        SinceCase{"before_first_publication", 0, Given::Empty, 100, Recovery::Recovered,
                  range(1, 10)},
        SinceCase{
            "empty_epoch_with_an_offset", 3, Given::Empty, 100, Recovery::NotRecoverable, {}}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(ChannelRecovery, UnknownChannelRecoversOnlyFromNothing) {
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  std::vector<Seen> seen;
  auto fresh = store->since("talk:new", 0, "", 100, collectInto(seen));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->recovery, Recovery::Recovered);
  EXPECT_EQ(fresh->position, Position{});
  auto stale = store->since("talk:new", 4, "0123456789abcdef", 100, collectInto(seen));
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->recovery, Recovery::NotRecoverable);
  EXPECT_EQ(stale->position, Position{});
  EXPECT_TRUE(seen.empty());
}

// History size 5 after 12 publications: 8..12 are kept, at once and after trimming.
TEST(ChannelRecovery, TrimmedPastIsNotRecoverable) {
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  std::vector<NewPublication> batch(12, pub("a", "{}", 1000, keep(5)));
  Epoch epoch = appendOk(*store, batch)[0].epoch;
  for (bool trimmed : {false, true}) {
    if (trimmed) {
      ASSERT_EQ(store->trimStep(1000)->publications, 7u);
    }
    std::vector<Seen> seen;
    auto below = store->since("a", 6, epoch.view(), 100, collectInto(seen));
    EXPECT_EQ(below->recovery, Recovery::NotRecoverable);
    EXPECT_EQ(below->position, (Position{epoch, 12}));
    EXPECT_TRUE(seen.empty());
    auto edge = store->since("a", 7, epoch.view(), 100, collectInto(seen));
    EXPECT_EQ(edge->recovery, Recovery::Recovered);
    EXPECT_EQ(offsetsOf(seen), range(8, 12));
  }
}

// TTL 1 s: three publications at t=1000, two at t=1500.
TEST(ChannelRecovery, TtlExpiryKeepsEpochAndTopButNotTheOldOffsets) {
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  const ChannelLimits limits = keep(100, 1000);
  appendOk(*store,
           {pub("a", "1", 1000, limits), pub("a", "2", 1000, limits), pub("a", "3", 1000, limits)});
  Epoch epoch =
      appendOk(*store, {pub("a", "4", 1500, limits), pub("a", "5", 1500, limits)})[0].epoch;

  auto idle = store->trimStep(1999);
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->publications, 0u);
  auto step = store->trimStep(2000);  // 1000 + 1000: the first three are exactly 1 s old
  ASSERT_TRUE(step.ok()) << step.error().message;
  EXPECT_EQ(step->publications, 3u);
  std::vector<Seen> seen;
  EXPECT_EQ(store->since("a", 0, epoch.view(), 100, collectInto(seen))->recovery,
            Recovery::NotRecoverable);
  EXPECT_EQ(store->since("a", 3, epoch.view(), 100, collectInto(seen))->recovery,
            Recovery::Recovered);
  EXPECT_EQ(offsetsOf(seen), (std::vector<uint64_t>{4, 5}));

  ASSERT_EQ(store->trimStep(2500)->publications, 2u);
  EXPECT_EQ(*store->position("a"), (Position{epoch, 5}));
  seen.clear();
  EXPECT_EQ(store->latest("a", 100, collectInto(seen))->visited, 0u);
  // Everything expired, nothing missed: a client at the top still recovers.
  auto top = store->since("a", 5, epoch.view(), 100, collectInto(seen));
  EXPECT_EQ(top->recovery, Recovery::Recovered);
  EXPECT_EQ(top->position, (Position{epoch, 5}));
  EXPECT_EQ(store->since("a", 4, epoch.view(), 100, collectInto(seen))->recovery,
            Recovery::NotRecoverable);
  EXPECT_TRUE(seen.empty());

  // The next publication continues the same history.
  auto next = appendOk(*store, {pub("a", "6", 3000, limits)});
  EXPECT_EQ(next, (std::vector<Appended>{{6, epoch, false}}));
  EXPECT_EQ(store->since("a", 5, epoch.view(), 100, collectInto(seen))->recovery,
            Recovery::Recovered);
  EXPECT_EQ(seen, (std::vector<Seen>{{6, "6"}}));
}

TEST(ChannelIdempotency, DuplicateInALaterBatchReturnsTheFirstResult) {
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  auto first = appendOk(*store, {pub("a", "first", 1000, keep(100), "k1")});
  appendOk(*store, {pub("a", "other", 1001)});
  auto retry = appendOk(*store, {pub("a", "retry", 1002, keep(100), "k1"),
                                 pub("b", "same key, other channel", 1002, keep(100), "k1")});
  ASSERT_EQ(retry.size(), 2u);
  EXPECT_EQ(retry[0], (Appended{1, first[0].epoch, true}));
  EXPECT_FALSE(retry[1].duplicate);
  EXPECT_EQ(retry[1].offset, 1u);
  EXPECT_EQ(store->position("a")->top, 2u);
  std::vector<Seen> seen;
  ASSERT_TRUE(store->latest("a", 100, collectInto(seen)).ok());
  EXPECT_EQ(seen, (std::vector<Seen>{{1, "first"}, {2, "other"}}));
}

TEST(ChannelIdempotency, DuplicateWithinOneBatch) {
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  auto results = appendOk(
      *store, {pub("a", "x", 1000, keep(100), "k1"), pub("a", "y", 1000, keep(100), "k1"),
               pub("a", "z", 1000, keep(100), "k2"), pub("a", "w", 1000, keep(100), "k2")});
  ASSERT_EQ(results.size(), 4u);
  Epoch epoch = results[0].epoch;
  EXPECT_EQ(results,
            (std::vector<Appended>{
                {1, epoch, false}, {1, epoch, true}, {2, epoch, false}, {2, epoch, true}}));
  EXPECT_EQ(store->position("a")->top, 2u);
}

// Window 1 s from t=1000: a retry at 1999 is a duplicate, one at 2000 a new publication.
TEST(ChannelIdempotency, AfterTheWindowTheKeyPublishesAgain) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  auto store = openStoreOrFail(path);
  ASSERT_TRUE(store);
  const ChannelLimits limits = keep(100, 0, 1000);
  appendOk(*store, {pub("a", "1", 1000, limits, "k")});
  EXPECT_TRUE(appendOk(*store, {pub("a", "1", 1999, limits, "k")})[0].duplicate);
  auto late = appendOk(*store, {pub("a", "1", 2000, limits, "k")});
  EXPECT_EQ(offsetsOf(late), (std::vector<uint64_t>{2}));
  EXPECT_FALSE(late[0].duplicate);
  // The new publication's key has its own window.
  EXPECT_EQ(appendOk(*store, {pub("a", "1", 2999, limits, "k")})[0],
            (Appended{2, late[0].epoch, true}));

  // Expired keys leave the file in trim steps.
  EXPECT_EQ(test::countRows(path, "SELECT count(*) FROM keys"), 1);
  auto step = store->trimStep(3000);
  ASSERT_TRUE(step.ok());
  EXPECT_EQ(step->keys, 1u);
  EXPECT_EQ(test::countRows(path, "SELECT count(*) FROM keys"), 0);
}

TEST(ChannelIdempotency, KeysSurviveReopen) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  Appended first;
  {
    auto store = openStoreOrFail(path);
    ASSERT_TRUE(store);
    first = appendOk(*store, {pub("a", "1", 1000, keep(100), "retry-me")})[0];
  }
  auto store = openStoreOrFail(path);
  ASSERT_TRUE(store);
  auto retry = appendOk(*store, {pub("a", "1", 5000, keep(100), "retry-me")});
  EXPECT_EQ(retry, (std::vector<Appended>{{first.offset, first.epoch, true}}));
  EXPECT_EQ(store->position("a")->top, 1u);
}

// The key outlives its publication's history: the publish happened, so a retry must not
// publish again even when history size 1 has already dropped it.
TEST(ChannelIdempotency, KeyOutlivesTrimmingOfItsPublication) {
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  auto first = appendOk(*store, {pub("a", "1", 1000, keep(1), "k")});
  appendOk(*store, {pub("a", "2", 1001, keep(1)), pub("a", "3", 1002, keep(1))});
  ASSERT_EQ(store->trimStep(1003)->publications, 2u);
  auto retry = appendOk(*store, {pub("a", "1", 1004, keep(1), "k")});
  EXPECT_EQ(retry, (std::vector<Appended>{{1, first[0].epoch, true}}));
}

TEST(ChannelIdempotency, ResetForgetsKeys) {
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  appendOk(*store, {pub("a", "1", 1000, keep(100), "k")});
  auto reset = store->reset("a");
  ASSERT_TRUE(reset.ok());
  auto again = appendOk(*store, {pub("a", "1", 1001, keep(100), "k")});
  EXPECT_EQ(again, (std::vector<Appended>{{2, reset->epoch, false}}));
}

TEST(ChannelIdempotency, ZeroWindowIgnoresKeys) {
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  auto results = appendOk(*store, {pub("a", "1", 1000, keep(100, 0, 0), "k"),
                                   pub("a", "1", 1000, keep(100, 0, 0), "k")});
  EXPECT_EQ(offsetsOf(results), (std::vector<uint64_t>{1, 2}));
}

}  // namespace
}  // namespace duplex::hub
