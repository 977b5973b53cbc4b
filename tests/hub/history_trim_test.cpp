// HistoryStore::trimStep: keeps the newest maxItems, a bounded chunk per call.
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

TEST(HistoryTrim, NothingToDoWhileWithinTheLimit) {
  TempDir dir;
  auto store = openOrFail(dir.file("history.db"), {.maxItems = 10});
  ASSERT_TRUE(store);
  auto empty = store->trimStep();
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->deleted, 0u);
  EXPECT_FALSE(empty->more);

  ASSERT_TRUE(store->append(throws(10)).ok());
  uint64_t commits = store->commits();
  auto full = store->trimStep();
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->deleted, 0u);
  EXPECT_FALSE(full->more);
  EXPECT_EQ(store->commits(), commits);  // an idle call writes nothing
  EXPECT_EQ(*store->size(), 10u);
}

TEST(HistoryTrim, DeletesAChunkPerCallAndKeepsTheNewest) {
  TempDir dir;
  auto store = openOrFail(dir.file("history.db"), {.maxItems = 100, .trimChunk = 500});
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->append(throws(2000)).ok());

  std::vector<uint64_t> deletedPerCall;
  std::vector<uint64_t> sizeAfterCall;
  for (int calls = 0; calls < 10; ++calls) {
    uint64_t commits = store->commits();
    auto step = store->trimStep();
    ASSERT_TRUE(step.ok()) << step.error().message;
    if (step->deleted > 0) {
      EXPECT_EQ(store->commits(), commits + 1);  // one short transaction
    }
    deletedPerCall.push_back(step->deleted);
    sizeAfterCall.push_back(*store->size());
    if (!step->more) break;
  }
  EXPECT_EQ(deletedPerCall, (std::vector<uint64_t>{500, 500, 500, 400}));
  EXPECT_EQ(sizeAfterCall, (std::vector<uint64_t>{1500, 1000, 500, 100}));

  auto kept = store->since(0, 1000);
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 100u);
  EXPECT_EQ(kept->front().seq, 1901u);
  EXPECT_EQ(kept->back().seq, 2000u);
  EXPECT_EQ(*store->latestSeq(), 2000u);

  auto idle = store->trimStep();
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->deleted, 0u);
  EXPECT_FALSE(idle->more);
}

TEST(HistoryTrim, SeqsAreNotReusedAfterTrimmingOrReopen) {
  TempDir dir;
  std::string path = dir.file("history.db");
  {
    auto store = openOrFail(path, {.maxItems = 0, .trimChunk = 1000});
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->append(throws(50)).ok());
    auto step = store->trimStep();
    ASSERT_TRUE(step.ok());
    EXPECT_EQ(step->deleted, 50u);
    EXPECT_FALSE(step->more);
    EXPECT_EQ(*store->size(), 0u);
  }
  auto store = openOrFail(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->latestSeq(), 50u);
  EXPECT_EQ(store->append(throws(1))->first, 51u);
}

// Seqs have gaps if rows are ever removed from the middle (say, by hand in the sqlite3 shell):
// the cut is found by counting rows, so trimming still keeps exactly the newest maxItems.
TEST(HistoryTrim, KeepsTheNewestMaxItemsEvenWithGapsInSeqs) {
  TempDir dir;
  std::string path = dir.file("history.db");
  auto store = openOrFail(path, {.maxItems = 3});
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->append(throws(5)).ok());

  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "DELETE FROM items WHERE seq = 3", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);

  auto step = store->trimStep();
  ASSERT_TRUE(step.ok()) << step.error().message;
  EXPECT_EQ(step->deleted, 1u);
  EXPECT_FALSE(step->more);
  EXPECT_EQ(seqsOf(*store->since(0, 100)), (std::vector<uint64_t>{2, 4, 5}));
}

}  // namespace
}  // namespace duplex::hub
