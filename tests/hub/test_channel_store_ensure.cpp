// ChannelStore::ensureChannel: a channel a client subscribed to before anything was published
// still has an epoch, the one its publications later carry, so recovery by epoch works from the
// very first subscribe.
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
using test::isEpoch;
using test::keep;
using test::openStoreOrFail;
using test::pub;
using test::Seen;
using test::TempDir;

TEST(ChannelEnsure, DrawsTheEpochOnceAndTheFirstPublicationKeepsIt) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  Epoch epoch;
  {
    auto store = openStoreOrFail(path);
    ASSERT_TRUE(store);
    auto made = store->ensureChannel("talk:new", keep(100), 1000);
    ASSERT_TRUE(made.ok()) << made.error().message;
    EXPECT_TRUE(isEpoch(made->epoch));
    EXPECT_EQ(made->top, 0u);
    epoch = made->epoch;
    EXPECT_EQ(*store->ensureChannel("talk:new", keep(100), 2000), *made);
    EXPECT_EQ(*store->position("talk:new"), *made);
    EXPECT_EQ(store->commits(), 1u);  // the second call only read

    std::vector<Seen> seen;
    auto empty = store->since("talk:new", 0, epoch.view(), 100, collectInto(seen));
    EXPECT_EQ(empty->recovery, Recovery::Recovered);
    EXPECT_TRUE(seen.empty());

    auto first = appendOk(*store, {pub("talk:new", "1")});
    EXPECT_EQ(first, (std::vector<Appended>{{1, epoch, false}}));
  }
  // Across a reopen, both what the subscriber was told and the old ("", 0) recover.
  auto store = openStoreOrFail(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->ensureChannel("talk:new", keep(100), 3000), (Position{epoch, 1}));
  for (std::string_view told : {epoch.view(), std::string_view()}) {
    std::vector<Seen> seen;
    auto since = store->since("talk:new", 0, told, 100, collectInto(seen));
    EXPECT_EQ(since->recovery, Recovery::Recovered) << told;
    EXPECT_EQ(seen, (std::vector<Seen>{{1, "1"}}));
  }
}

TEST(ChannelEnsure, EachChannelGetsItsOwnEpoch) {
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  auto a = store->ensureChannel("a:1", keep(10), 1000);
  auto b = store->ensureChannel("a:2", keep(10), 1000);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->epoch, b->epoch);
}

// Trimming deletes publications, never a channel's row: a channel whose every publication
// expired keeps its epoch and top, so a client that saw everything still recovers.
TEST(ChannelEnsure, TheEpochOutlivesExpiredHistory) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  auto store = openStoreOrFail(path);
  ASSERT_TRUE(store);
  ChannelLimits limits = keep(10, /*ttlMs=*/1000);
  auto made = store->ensureChannel("t:x", limits, 1000);
  ASSERT_TRUE(made.ok());
  appendOk(*store, {pub("t:x", "1", 1000, limits), pub("t:x", "2", 1000, limits)});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->trimStep(10'000).ok());
  EXPECT_EQ(test::countRows(path, "SELECT count(*) FROM pubs"), 0);
  EXPECT_EQ(*store->ensureChannel("t:x", limits, 10'000), (Position{made->epoch, 2}));
  std::vector<Seen> seen;
  EXPECT_EQ(store->since("t:x", 2, made->epoch.view(), 100, collectInto(seen))->recovery,
            Recovery::Recovered);
  EXPECT_EQ(store->since("t:x", 1, made->epoch.view(), 100, collectInto(seen))->recovery,
            Recovery::NotRecoverable);
}

TEST(ChannelEnsure, RefusesHistorySizeZeroAndEmptyNames) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  auto store = openStoreOrFail(path);
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->ensureChannel("a:b", keep(0), 1000).ok());
  EXPECT_FALSE(store->ensureChannel("", keep(10), 1000).ok());
  EXPECT_EQ(test::countRows(path, "SELECT count(*) FROM channels"), 0);
}

}  // namespace
}  // namespace duplex::hub
