// HistoryStore: ordering, replay, seqs and epoch across reopen, group commit, and what another
// connection to the same file sees.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "history_test_util.h"
#include "hub/history_store.h"
#include "temp_dir.h"

namespace duplex::hub {
namespace {

using test::openOrFail;
using test::seqsOf;
using test::TempDir;
using test::throws;

TEST(HistoryStore, NewFileIsEmptyWithAnEpoch) {
  TempDir dir;
  auto store = openOrFail(dir.file("history.db"));
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->latestSeq(), 0u);
  EXPECT_EQ(*store->size(), 0u);
  EXPECT_TRUE(store->since(0, 100)->empty());
  ASSERT_EQ(store->epoch().size(), 16u);
  EXPECT_EQ(store->epoch().find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(HistoryStore, AppendGivesConsecutiveSeqsAndSinceReplaysInOrder) {
  TempDir dir;
  auto store = openOrFail(dir.file("history.db"));
  ASSERT_TRUE(store);
  std::vector<NewItem> first = {{"tomato", "boo", 10}, {"candy", "", 11}};
  auto a = store->append(first);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->first, 1u);
  EXPECT_EQ(a->count, 2u);
  EXPECT_EQ(a->last(), 2u);

  std::vector<NewItem> second = {{"egg", "ü ✓", 12}, {"cat", "meow", 13}, {"tomato", "", 14}};
  auto b = store->append(second);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ((*b)[0], 3u);
  EXPECT_EQ(b->last(), 5u);

  auto all = store->since(0, 100);
  ASSERT_TRUE(all.ok());
  std::vector<HistoryItem> expected = {{1, "tomato", "boo", 10},
                                       {2, "candy", "", 11},
                                       {3, "egg", "ü ✓", 12},
                                       {4, "cat", "meow", 13},
                                       {5, "tomato", "", 14}};
  EXPECT_EQ(*all, expected);

  // Catch-up from a seq, and a limit that splits the replay into pages.
  EXPECT_EQ(seqsOf(*store->since(3, 100)), (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(seqsOf(*store->since(0, 2)), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(seqsOf(*store->since(2, 2)), (std::vector<uint64_t>{3, 4}));
  EXPECT_TRUE(store->since(5, 100)->empty());
  EXPECT_TRUE(store->since(0, 0)->empty());
  EXPECT_EQ(*store->latestSeq(), 5u);
  EXPECT_EQ(*store->size(), 5u);
}

TEST(HistoryStore, EmptyBatchStoresNothingAndCommitsNothing) {
  TempDir dir;
  auto store = openOrFail(dir.file("history.db"));
  ASSERT_TRUE(store);
  uint64_t before = store->commits();
  auto range = store->append({});
  ASSERT_TRUE(range.ok());
  EXPECT_TRUE(range->empty());
  EXPECT_EQ(store->commits(), before);
  EXPECT_EQ(*store->latestSeq(), 0u);
}

TEST(HistoryStore, ForEachSinceVisitsViewsWithoutCopies) {
  TempDir dir;
  auto store = openOrFail(dir.file("history.db"));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->append(throws(10)).ok());
  std::string joined;
  auto visited = store->forEachSince(7, 100, [&joined](const HistoryItemView& item) {
    joined += std::to_string(item.seq) + ":" + std::string(item.kind) + ";";
  });
  ASSERT_TRUE(visited.ok());
  EXPECT_EQ(*visited, 3u);
  EXPECT_EQ(joined, "8:cat;9:tomato;10:candy;");
}

TEST(HistoryStore, SeqsAndItemsSurviveReopen) {
  TempDir dir;
  std::string path = dir.file("history.db");
  {
    auto store = openOrFail(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->append(throws(3)).ok());
  }
  auto store = openOrFail(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->latestSeq(), 3u);
  EXPECT_EQ(seqsOf(*store->since(0, 100)), (std::vector<uint64_t>{1, 2, 3}));
  auto next = store->append(throws(2));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->first, 4u);
}

TEST(HistoryStore, EpochPersistsAcrossReopenAndChangesOnReset) {
  TempDir dir;
  std::string path = dir.file("history.db");
  std::string epoch;
  {
    auto store = openOrFail(path);
    ASSERT_TRUE(store);
    epoch = store->epoch();
    ASSERT_TRUE(store->append(throws(4)).ok());
  }
  auto store = openOrFail(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->epoch(), epoch);

  auto reset = store->reset();
  ASSERT_TRUE(reset.ok()) << reset.error().message;
  EXPECT_NE(store->epoch(), epoch);
  EXPECT_EQ(store->epoch().size(), 16u);
  EXPECT_EQ(*store->size(), 0u);
  EXPECT_TRUE(store->since(0, 100)->empty());
  // Seqs are never reused, not even after a reset emptied the table.
  EXPECT_EQ(*store->latestSeq(), 4u);
  EXPECT_EQ(store->append(throws(1))->first, 5u);

  std::string afterReset = store->epoch();
  store.reset();
  auto reopened = openOrFail(path);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->epoch(), afterReset);
}

TEST(HistoryStore, DifferentFilesGetDifferentEpochs) {
  TempDir dir;
  auto a = openOrFail(dir.file("a.db"));
  auto b = openOrFail(dir.file("b.db"));
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->epoch(), b->epoch());
}

// The commit hook of an independent connection would not see our commits, so the store's own
// counter is checked, and cross-checked against what a reader sees: all or nothing.
TEST(HistoryStore, GroupCommitOfAThousandItemsIsOneTransaction) {
  TempDir dir;
  auto store = openOrFail(dir.file("history.db"));
  ASSERT_TRUE(store);
  auto batch = throws(1000);
  uint64_t before = store->commits();
  auto range = store->append(batch);
  ASSERT_TRUE(range.ok()) << range.error().message;
  EXPECT_EQ(store->commits(), before + 1);
  EXPECT_EQ(range->first, 1u);
  EXPECT_EQ(range->count, 1000u);
  EXPECT_EQ(*store->size(), 1000u);

  // And one append per item would have been 1,000 commits: the counter does count each.
  uint64_t mid = store->commits();
  for (size_t i = 0; i < 5; ++i) ASSERT_TRUE(store->append(throws(1)).ok());
  EXPECT_EQ(store->commits(), mid + 5);
}

TEST(HistoryStore, SecondConnectionSeesCommittedData) {
  TempDir dir;
  std::string path = dir.file("history.db");
  auto writer = openOrFail(path);
  auto reader = openOrFail(path);
  ASSERT_TRUE(writer && reader);
  EXPECT_EQ(reader->epoch(), writer->epoch());
  ASSERT_TRUE(writer->append({{{"cat", "hi", 42}}}).ok());
  auto seen = reader->since(0, 10);
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(seen->size(), 1u);
  EXPECT_EQ((*seen)[0], (HistoryItem{1, "cat", "hi", 42}));

  // A plain SQLite connection, independent of our code, agrees.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT count(*), max(seq) FROM items", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 1);
  EXPECT_EQ(sqlite3_column_int(stmt, 1), 1);
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
}

TEST(HistoryStore, FileIsInWalMode) {
  TempDir dir;
  std::string path = dir.file("history.db");
  auto store = openOrFail(path, {.durability = Durability::SurvivePowerLoss});
  ASSERT_TRUE(store);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
}

TEST(HistoryStore, RefusesAFileFromANewerSchema) {
  TempDir dir;
  std::string path = dir.file("history.db");
  { ASSERT_TRUE(openOrFail(path)); }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  auto store = HistoryStore::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("newer"), std::string::npos) << store.error().message;
}

}  // namespace
}  // namespace duplex::hub
