// ChannelStore::checkWritable, the write /readyz makes: it really writes (one row, rewritten),
// and it fails, with SQLite's reason, exactly when publishes could not be stored although reads
// still work: a write lock held by another process, a full disk.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "hub/channel_store.h"
#include "temp_dir.h"
#include "test_channel_store_util.h"

namespace duplex::hub {
namespace {

using test::appendOk;
using test::countRows;
using test::keep;
using test::openStoreOrFail;
using test::primaryCode;
using test::pub;
using test::TempDir;

TEST(ChannelReadiness, EachCheckRewritesOneRowAndCommits) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  auto store = openStoreOrFail(path);
  ASSERT_TRUE(store);
  for (uint64_t expected = 1; expected <= 3; ++expected) {
    uint64_t commits = store->commits();
    auto checked = store->checkWritable();
    ASSERT_TRUE(checked.ok()) << checked.error().message;
    EXPECT_EQ(*checked, expected);
    // The first check also creates the table, in a commit of its own.
    EXPECT_EQ(store->commits(), commits + (expected == 1 ? 2 : 1)) << "a committed write";
  }
  // Seen by another connection: it is in the file, not only in this connection's cache.
  EXPECT_EQ(countRows(path, "SELECT checks FROM readiness WHERE id = 1"), 3);
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM readiness"), 1);
}

TEST(ChannelReadiness, AWriteLockHeldElsewhereFailsTheCheckWhileReadsStillWork) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  auto store = openStoreOrFail(path, {.busyTimeoutMs = 0});
  ASSERT_TRUE(store);
  appendOk(*store, {pub("a", "1")});
  ASSERT_TRUE(store->checkWritable().ok());
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  EXPECT_EQ(store->position("a")->top, 1u) << "reads work: a read alone would say ready";
  auto checked = store->checkWritable();
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(primaryCode(checked.error()), SQLITE_BUSY);
  EXPECT_EQ(checked.error().message, "write: database is locked");

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  checked = store->checkWritable();
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  EXPECT_EQ(*checked, 2u);
}

TEST(ChannelReadiness, AFullDiskFailsTheCheck) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  auto store = openStoreOrFail(path, {.maxFileBytes = 64 * 1024});
  ASSERT_TRUE(store);
  // Filled before the first check, which must then grow the file by its table.
  const std::string text(1000, 'x');
  bool full = false;
  for (int round = 0; round < 1000 && !full; ++round) {
    std::vector<Appended> results;
    full = !store->append(std::vector{pub("a", text, 1000, keep(1000))}, results).ok();
  }
  ASSERT_TRUE(full) << "the 64 KiB cap never filled";
  auto checked = store->checkWritable();
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(primaryCode(checked.error()), SQLITE_FULL) << checked.error().message;
  EXPECT_EQ(checked.error().message.rfind("write: ", 0), 0u) << checked.error().message;
  EXPECT_GT(store->position("a")->top, 0u) << "and reads still work";
}

}  // namespace
}  // namespace duplex::hub
