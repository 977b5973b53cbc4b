// HistoryStore when writing fails: a read-only file, a full disk, a lock held elsewhere, and a
// process killed right after a commit. Every failure is a value, and what is reported stored is
// exactly what is stored.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "history_test_util.h"
#include "hub/history_store.h"
#include "temp_dir.h"

namespace duplex::hub {
namespace {

using test::openOrFail;
using test::TempDir;
using test::throws;

int primaryCode(const StoreError& error) {
  return error.code & 0xff;
}

// Runs in a forked child (a death test), reporting failures on stderr and by exit code.
[[noreturn]] void appendToReadOnlyFile(const std::string& path) {
  auto fail = [](const std::string& why) {
    std::fprintf(stderr, "%s\n", why.c_str());
    std::fflush(stderr);
    _exit(1);
  };
  // Root writes through file permissions, so as root become nobody first.
  if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) fail("cannot drop root");
  auto store = HistoryStore::open(path);
  if (!store) fail("open failed: " + store.error().message);
  auto range = (*store)->append(throws(2));
  if (range.ok()) fail("append to a read-only file reported success");
  if (primaryCode(range.error()) != SQLITE_READONLY) fail("unexpected: " + range.error().message);
  if (range.error().message.find("readonly") == std::string::npos) {
    fail("message lacks SQLite's words: " + range.error().message);
  }
  auto latest = (*store)->latestSeq();
  if (!latest || *latest != 3) fail("latestSeq moved");
  auto items = (*store)->since(0, 100);
  if (!items || items->size() != 3) fail("history changed or unreadable");
  _exit(0);
}

TEST(HistoryFailure, ReadOnlyFileIsAnErrorValueAndNothingIsStored) {
  TempDir dir;
  std::string path = dir.file("history.db");
  {
    auto store = openOrFail(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->append(throws(3)).ok());
  }
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  // The directory stays writable so a reader can create the WAL's -shm index beside the file.
  ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
  EXPECT_EXIT(appendToReadOnlyFile(path), ::testing::ExitedWithCode(0), "");

  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  auto store = openOrFail(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->size(), 3u);
  EXPECT_EQ(*store->latestSeq(), 3u);
}

TEST(HistoryFailure, FullDiskIsAnErrorValueAndOnlyCommittedBatchesAreStored) {
  TempDir dir;
  std::string path = dir.file("history.db");
  auto store = openOrFail(path, {.maxItems = 5, .maxFileBytes = 64 * 1024});
  ASSERT_TRUE(store);
  const std::string text(1000, 'x');
  std::vector<NewItem> batch(10, NewItem{"tomato", text, 1});

  uint64_t reportedStored = 0;
  StoreResult<SeqRange> range = SeqRange{};
  for (int i = 0; i < 1000; ++i) {
    range = store->append(batch);
    if (!range) break;
    reportedStored = range->last();
  }
  ASSERT_FALSE(range.ok()) << "the 64 KiB cap never filled";
  EXPECT_EQ(primaryCode(range.error()), SQLITE_FULL) << range.error().message;
  EXPECT_NE(range.error().message.find("full"), std::string::npos) << range.error().message;
  ASSERT_GT(reportedStored, 0u);

  EXPECT_EQ(*store->latestSeq(), reportedStored);
  EXPECT_EQ(*store->size(), reportedStored);
  {
    auto other = openOrFail(path);
    ASSERT_TRUE(other);
    EXPECT_EQ(*other->size(), reportedStored);
  }

  // A full disk is not a dead store: trimming frees pages and the next batch fits.
  for (int i = 0; i < 100; ++i) {
    auto step = store->trimStep();
    ASSERT_TRUE(step.ok()) << step.error().message;
    if (!step->more) break;
  }
  EXPECT_EQ(*store->size(), 5u);
  auto after = store->append(batch);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->first, reportedStored + 1);
}

TEST(HistoryFailure, LockHeldByAnotherProcessIsBusyAndNothingIsStored) {
  TempDir dir;
  std::string path = dir.file("history.db");
  auto store = openOrFail(path, {.busyTimeoutMs = 0});
  ASSERT_TRUE(store);

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto range = store->append(throws(4));
  ASSERT_FALSE(range.ok());
  EXPECT_EQ(primaryCode(range.error()), SQLITE_BUSY) << range.error().message;
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);

  EXPECT_EQ(*store->latestSeq(), 0u);
  auto retry = store->append(throws(4));
  ASSERT_TRUE(retry.ok()) << retry.error().message;
  EXPECT_EQ(retry->first, 1u);
}

// An insert that fails halfway through a batch (here a trigger refuses one item) leaves the
// transaction open in SQLite; the store must roll back the items before it, and stay usable.
TEST(HistoryFailure, BatchThatFailsHalfwayStoresNoneOfIt) {
  TempDir dir;
  std::string path = dir.file("history.db");
  auto store = openOrFail(path);
  ASSERT_TRUE(store);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other,
                         "CREATE TRIGGER refuse BEFORE INSERT ON items WHEN NEW.kind = 'boom' "
                         "BEGIN SELECT RAISE(ABORT, 'boom refused'); END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(other);

  std::vector<NewItem> batch = {{"tomato", "", 1}, {"candy", "", 2}, {"boom", "", 3}};
  auto range = store->append(batch);
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.error().message.find("boom refused"), std::string::npos) << range.error().message;
  EXPECT_EQ(*store->size(), 0u);
  EXPECT_EQ(*store->latestSeq(), 0u);

  auto next = store->append(throws(2));
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->first, 1u);
  auto reader = openOrFail(path);
  ASSERT_TRUE(reader);
  EXPECT_EQ(*reader->size(), 2u);
}

// What persist-before-broadcast relies on: once append() returned, a kill -9 (no destructor,
// no checkpoint, the commit only in the WAL) loses nothing, with the default durability.
TEST(HistoryFailure, CommittedItemsSurviveKillDashNine) {
  TempDir dir;
  std::string path = dir.file("history.db");
  EXPECT_EXIT(
      {
        auto store = HistoryStore::open(path);
        if (store && (*store)->append(throws(7))) raise(SIGKILL);
        _exit(1);
      },
      ::testing::KilledBySignal(SIGKILL), "");
  EXPECT_TRUE(std::filesystem::exists(path + "-wal"));  // really killed before a clean close

  auto store = openOrFail(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->size(), 7u);
  EXPECT_EQ(*store->latestSeq(), 7u);
}

}  // namespace
}  // namespace duplex::hub
