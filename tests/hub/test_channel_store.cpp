// ChannelStore: offsets per channel, epochs, group commit, latest, reset, what survives a
// reopen, and that every statement is an index search.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>
#include <string>
#include <vector>

#include "hub/channel_store.h"
#include "hub/channel_store_schema.h"
#include "temp_dir.h"
#include "test_channel_store_util.h"

namespace duplex::hub {
namespace {

using test::appendOk;
using test::collectInto;
using test::isEpoch;
using test::keep;
using test::offsetsOf;
using test::openStoreOrFail;
using test::pub;
using test::range;
using test::Seen;
using test::TempDir;

TEST(ChannelStore, UnknownChannelHasNoEpochAndTopZero) {
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  auto position = store->position("talk:main");
  ASSERT_TRUE(position.ok()) << position.error().message;
  EXPECT_EQ(*position, Position{});
  EXPECT_TRUE(position->epoch.empty());

  std::vector<Seen> seen;
  auto latest = store->latest("talk:main", 100, collectInto(seen));
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->position, Position{});
  EXPECT_EQ(latest->visited, 0u);
  EXPECT_TRUE(seen.empty());
}

// Each row: the channels of one batch after another; the offsets each item must get.
struct OffsetCase {
  const char* name;
  std::vector<std::vector<const char*>> batches;
  std::vector<std::vector<uint64_t>> offsets;
};

class ChannelOffsets : public ::testing::TestWithParam<OffsetCase> {};

TEST_P(ChannelOffsets, ArePerChannelAndConsecutive) {
  const OffsetCase& c = GetParam();
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  for (size_t b = 0; b < c.batches.size(); ++b) {
    std::vector<NewPublication> batch;
    for (const char* channel : c.batches[b]) batch.push_back(pub(channel, "{}"));
    auto results = appendOk(*store, batch);
    EXPECT_EQ(offsetsOf(results), c.offsets[b]) << "batch " << b;
    for (size_t i = 0; i < results.size(); ++i) {
      EXPECT_FALSE(results[i].duplicate);
      auto position = store->position(c.batches[b][i]);
      ASSERT_TRUE(position.ok());
      EXPECT_EQ(results[i].epoch, position->epoch) << c.batches[b][i];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ChannelOffsets,
    ::testing::Values(
        OffsetCase{"one_channel", {{"a", "a", "a"}, {"a"}}, {{1, 2, 3}, {4}}},
        OffsetCase{"interleaved", {{"a", "b", "a"}, {"b", "c", "a"}}, {{1, 1, 2}, {2, 1, 3}}},
        OffsetCase{"one_per_batch", {{"a"}, {"b"}, {"a"}, {"b"}}, {{1}, {1}, {2}, {2}}},
        OffsetCase{"many_channels",
                   {{"a", "b", "c", "d"}, {"d", "c", "b", "a"}},
                   {{1, 1, 1, 1}, {2, 2, 2, 2}}}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(ChannelStore, EachChannelGetsItsOwnRandomEpoch) {
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  std::vector<NewPublication> batch;
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back("talk:" + std::to_string(i));
  for (const auto& name : names) batch.push_back(pub(name, "{}"));
  auto results = appendOk(*store, batch);
  std::set<std::string> epochs;
  for (const auto& result : results) {
    EXPECT_TRUE(isEpoch(result.epoch)) << result.epoch.view();
    epochs.insert(result.epoch.str());
  }
  EXPECT_EQ(epochs.size(), names.size());
}

TEST(ChannelStore, BatchAcrossChannelsIsOneCommit) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  auto store = openStoreOrFail(path);
  ASSERT_TRUE(store);
  std::vector<NewPublication> batch;
  for (int i = 0; i < 30; ++i) {
    batch.push_back(pub(i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c", "{\"i\":1}", 1000 + i));
  }
  uint64_t before = store->commits();
  appendOk(*store, batch);
  EXPECT_EQ(store->commits(), before + 1);
  appendOk(*store, batch);
  EXPECT_EQ(store->commits(), before + 2);
  EXPECT_EQ(test::countRows(path, "SELECT count(*) FROM pubs"), 60);

  std::vector<Appended> results;
  ASSERT_TRUE(store->append({}, results).ok());
  EXPECT_TRUE(results.empty());
  EXPECT_EQ(store->commits(), before + 2);  // an empty batch touches nothing
}

TEST(ChannelStore, DataIsStoredAsIsAndLatestIsNewestOldestFirst) {
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  const std::vector<std::string> data = {"{\"t\":\"ü ✓\"}", "[1,2]", "\"\"", "null", "{}"};
  std::vector<NewPublication> batch;
  for (const auto& d : data) batch.push_back(pub("talk:main", d));
  auto results = appendOk(*store, batch);

  struct Case {
    size_t limit;
    std::vector<uint64_t> offsets;
  };
  for (const Case& c : {Case{100, {1, 2, 3, 4, 5}}, Case{5, {1, 2, 3, 4, 5}}, Case{2, {4, 5}},
                        Case{1, {5}}, Case{0, {}}}) {
    std::vector<Seen> seen;
    auto latest = store->latest("talk:main", c.limit, collectInto(seen));
    ASSERT_TRUE(latest.ok()) << latest.error().message;
    EXPECT_EQ(offsetsOf(seen), c.offsets) << "limit " << c.limit;
    EXPECT_EQ(latest->visited, c.offsets.size());
    EXPECT_EQ(latest->position, (Position{results[0].epoch, 5}));
    for (const Seen& s : seen) EXPECT_EQ(s.data, data[s.offset - 1]);
  }
}

TEST(ChannelStore, OffsetsEpochsAndDataSurviveReopen) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  Position a, b;
  {
    auto store = openStoreOrFail(path);
    ASSERT_TRUE(store);
    appendOk(*store, {pub("a", "1"), pub("b", "1"), pub("a", "2")});
    appendOk(*store, {pub("a", "3")});
    a = *store->position("a");
    b = *store->position("b");
  }
  EXPECT_EQ(a.top, 3u);
  EXPECT_EQ(b.top, 1u);
  auto store = openStoreOrFail(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->position("a"), a);
  EXPECT_EQ(*store->position("b"), b);
  auto results = appendOk(*store, {pub("b", "2"), pub("a", "4")});
  EXPECT_EQ(results, (std::vector<Appended>{{2, b.epoch, false}, {4, a.epoch, false}}));
  std::vector<Seen> seen;
  ASSERT_TRUE(store->since("a", 0, a.epoch.view(), 100, collectInto(seen)).ok());
  EXPECT_EQ(seen, (std::vector<Seen>{{1, "1"}, {2, "2"}, {3, "3"}, {4, "4"}}));
}

TEST(ChannelStore, ResetDrawsANewEpochDropsHistoryAndOffsetsContinue) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  auto store = openStoreOrFail(path);
  ASSERT_TRUE(store);
  auto first = appendOk(*store, {pub("a", "1"), pub("a", "2"), pub("b", "1")});
  Epoch old = first[0].epoch;

  auto reset = store->reset("a");
  ASSERT_TRUE(reset.ok()) << reset.error().message;
  EXPECT_TRUE(isEpoch(reset->epoch));
  EXPECT_NE(reset->epoch, old);
  EXPECT_EQ(reset->top, 2u);
  EXPECT_EQ(*store->position("a"), *reset);
  EXPECT_EQ(store->position("b")->epoch, first[2].epoch);  // other channels untouched

  std::vector<Seen> seen;
  EXPECT_EQ(store->latest("a", 100, collectInto(seen))->visited, 0u);
  EXPECT_EQ(store->since("a", 2, old.view(), 100, collectInto(seen))->recovery,
            Recovery::NotRecoverable);
  EXPECT_EQ(store->since("a", 0, "", 100, collectInto(seen))->recovery, Recovery::NotRecoverable);
  EXPECT_EQ(store->since("a", 2, reset->epoch.view(), 100, collectInto(seen))->recovery,
            Recovery::Recovered);
  EXPECT_TRUE(seen.empty());

  auto next = appendOk(*store, {pub("a", "3")});
  EXPECT_EQ(next, (std::vector<Appended>{{3, reset->epoch, false}}));
  auto since = store->since("a", 2, reset->epoch.view(), 100, collectInto(seen));
  EXPECT_EQ(since->recovery, Recovery::Recovered);
  EXPECT_EQ(seen, (std::vector<Seen>{{3, "3"}}));

  // The reset's rows leave the file in trim steps.
  EXPECT_EQ(test::countRows(path,
                            "SELECT count(*) FROM pubs WHERE offset <= 2 AND channel = "
                            "(SELECT id FROM channels WHERE name = 'a')"),
            2);
  auto step = store->trimStep(5000);
  ASSERT_TRUE(step.ok()) << step.error().message;
  EXPECT_EQ(step->publications, 2u);
  EXPECT_FALSE(step->more);
  EXPECT_EQ(test::countRows(path, "SELECT count(*) FROM pubs"), 2);

  auto unknown = store->reset("never");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(*unknown, Position{});
  EXPECT_EQ(*store->position("never"), Position{});
}

TEST(ChannelStore, RefusesAFileOfAnotherKind) {
  TempDir dir;
  // A file with a schema (user_version 1, as the retired demo history file had) that is not
  // a channel store's.
  std::string path = dir.file("other.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE items(seq INTEGER PRIMARY KEY); PRAGMA user_version=1",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = ChannelStore::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("not a channel store"), std::string::npos)
      << store.error().message;
}

TEST(ChannelStore, RefusesHistorySizeZeroAndEmptyNamesBeforeTouchingTheFile) {
  TempDir dir;
  auto store = openStoreOrFail(dir.file("channels.db"));
  ASSERT_TRUE(store);
  std::vector<Appended> results;
  auto zero = store->append(std::vector{pub("a", "1"), pub("b", "1", 1000, keep(0))}, results);
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("history_size 0"), std::string::npos);
  auto unnamed = store->append(std::vector{pub("", "1")}, results);
  ASSERT_FALSE(unnamed.ok());
  EXPECT_EQ(store->commits(), 0u);
  EXPECT_EQ(*store->position("a"), Position{});
}

// Every statement the store prepares searches a key or an index: none scans a table, so reads
// cost O(log n + k) however many channels and publications the file holds.
TEST(ChannelStore, EveryStatementSearchesAnIndex) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  ASSERT_TRUE(openStoreOrFail(path));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  for (std::string_view sql : channel_sql::kAll) {
    std::string explain = "EXPLAIN QUERY PLAN " + std::string(sql);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, explain.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db) << " in " << sql;
    int steps = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::string detail = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
      EXPECT_NE(detail.rfind("SCAN", 0), 0u) << detail << " in " << sql;
      ++steps;
    }
    sqlite3_finalize(stmt);
    // A plain INSERT ... VALUES has no plan; everything else must show its search.
    if (sql.rfind("INSERT", 0) != 0) {
      EXPECT_GT(steps, 0) << sql;
    }
  }
  sqlite3_close(db);
}

}  // namespace
}  // namespace duplex::hub
