// ChannelStore when writing fails: a full disk, a read-only file, a lock held elsewhere, a batch
// refused halfway, and a process killed right after append returned. Every failure is a value,
// and what is reported stored is exactly what is stored.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
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
using test::primaryCode;
using test::pub;
using test::range;
using test::Seen;
using test::TempDir;

// Ten 1000-byte publications alternating between channels a and b, each with its own key.
struct FillBatch {
  FillBatch(int round, ChannelLimits limits) : text(1000, 'x') {
    for (int i = 0; i < 10; ++i)
      keys.push_back("k" + std::to_string(round) + "-" + std::to_string(i));
    for (int i = 0; i < 10; ++i)
      batch.push_back(pub(i % 2 ? "b" : "a", text, 1000, limits, keys[i]));
  }
  std::string text;
  std::vector<std::string> keys;
  std::vector<NewPublication> batch;
};

// Appends batches until one fails; returns that batch's round (or -1 if none failed).
int fillUntilFull(ChannelStore& store, ChannelLimits limits, StoreError& error) {
  for (int round = 0; round < 1000; ++round) {
    FillBatch fill(round, limits);
    std::vector<Appended> results;
    auto done = store.append(fill.batch, results);
    if (!done) {
      error = done.error();
      EXPECT_TRUE(results.empty());
      return round;
    }
  }
  return -1;
}

TEST(ChannelFailure, FullDiskIsAnErrorValueAndTrimmingMakesRoomAgain) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  auto store = openStoreOrFail(path, {.maxFileBytes = 64 * 1024});
  ASSERT_TRUE(store);
  StoreError error;
  int failed = fillUntilFull(*store, keep(5), error);
  ASSERT_GT(failed, 0) << "the 64 KiB cap never filled";
  EXPECT_EQ(primaryCode(error), SQLITE_FULL) << error.message;
  EXPECT_NE(error.message.find("full"), std::string::npos) << error.message;

  // Exactly the committed rounds are stored, and none of the failed one, keys included.
  const uint64_t stored = static_cast<uint64_t>(failed) * 5;
  EXPECT_EQ(store->position("a")->top, stored);
  EXPECT_EQ(store->position("b")->top, stored);
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM pubs"), static_cast<int64_t>(2 * stored));
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM keys"), static_cast<int64_t>(10 * failed));

  // A full disk is not a dead store: the hub's idle trimming frees pages, the retry fits, and
  // it is not taken for a duplicate since the failed batch stored no key.
  for (int i = 0; i < 100; ++i) {
    auto step = store->trimStep(1000);
    ASSERT_TRUE(step.ok()) << step.error().message;
    if (!step->more) break;
  }
  FillBatch retry(failed, keep(5));
  auto results = appendOk(*store, retry.batch);
  ASSERT_EQ(results.size(), 10u);
  EXPECT_EQ(results[0].offset, stored + 1);
  EXPECT_EQ(results[9].offset, stored + 5);
  for (const auto& result : results) EXPECT_FALSE(result.duplicate);
}

TEST(ChannelFailure, FullDiskRecoversWhenTheCapIsRaisedOnReopen) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  StoreError error;
  int failed = -1;
  {
    auto store = openStoreOrFail(path, {.maxFileBytes = 64 * 1024});
    ASSERT_TRUE(store);
    failed = fillUntilFull(*store, keep(10'000), error);
  }
  ASSERT_GT(failed, 0);
  EXPECT_EQ(primaryCode(error), SQLITE_FULL) << error.message;
  auto store = openStoreOrFail(path, {.maxFileBytes = 1024 * 1024});
  ASSERT_TRUE(store);
  const uint64_t stored = static_cast<uint64_t>(failed) * 5;
  EXPECT_EQ(store->position("a")->top, stored);
  FillBatch retry(failed, keep(10'000));
  auto results = appendOk(*store, retry.batch);
  ASSERT_EQ(results.size(), 10u);
  EXPECT_EQ(results[1].offset, stored + 1);  // b
  std::vector<Seen> seen;
  auto since = store->since("a", 0, results[0].epoch.view(), 100'000, collectInto(seen));
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(offsetsOf(seen), range(1, stored + 5));
}

// Runs in a forked child (a death test), reporting failures on stderr and by exit code.
[[noreturn]] void writeToReadOnlyFile(const std::string& path) {
  auto fail = [](const std::string& why) {
    std::fprintf(stderr, "%s\n", why.c_str());
    std::fflush(stderr);
    _exit(1);
  };
  // Root writes through file permissions, so as root become nobody first.
  if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) fail("cannot drop root");
  auto store = ChannelStore::open(path);
  if (!store) fail("open failed: " + store.error().message);
  ChannelStore& s = **store;
  std::vector<Appended> results;
  auto appended = s.append(std::vector{pub("a", "new"), pub("b", "new")}, results);
  if (appended.ok()) fail("append to a read-only file reported success");
  if (primaryCode(appended.error()) != SQLITE_READONLY) fail("append: " + appended.error().message);
  if (appended.error().message.find("readonly") == std::string::npos) {
    fail("message lacks SQLite's words: " + appended.error().message);
  }
  if (!results.empty()) fail("results of a failed append");
  auto trimmed = s.trimStep(1000);  // channel a has dead rows to delete
  if (trimmed.ok()) fail("trim of a read-only file reported success");
  auto reset = s.reset("a");
  if (reset.ok()) fail("reset of a read-only file reported success");
  auto position = s.position("a");
  if (!position || position->top != 4) fail("position moved or unreadable");
  // ensureChannel only reads an existing channel, and cannot create a new one.
  auto existing = s.ensureChannel("a", keep(2), 1000);
  if (!existing || *existing != *position) fail("ensureChannel of a stored channel failed");
  auto created = s.ensureChannel("c", keep(2), 1000);
  if (created.ok()) fail("ensureChannel created a channel in a read-only file");
  if (primaryCode(created.error()) != SQLITE_READONLY) fail("ensure: " + created.error().message);
  std::vector<Seen> seen;
  auto since = s.since("a", 2, position->epoch.view(), 100, collectInto(seen));
  if (!since || since->recovery != Recovery::Recovered || offsetsOf(seen) != range(3, 4)) {
    fail("history changed or unreadable");
  }
  _exit(0);
}

TEST(ChannelFailure, ReadOnlyFileIsAnErrorValueAndReadsStillWork) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  {
    auto store = openStoreOrFail(path);
    ASSERT_TRUE(store);
    appendOk(*store, std::vector<NewPublication>(4, pub("a", "old", 1000, keep(2))));
  }
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  // The directory stays writable so a reader can create the WAL's -shm index beside the file.
  ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
  EXPECT_EXIT(writeToReadOnlyFile(path), ::testing::ExitedWithCode(0), "");

  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  auto store = openStoreOrFail(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->position("a")->top, 4u);
  EXPECT_EQ(*store->position("b"), Position{});
  EXPECT_EQ(*store->position("c"), Position{});
}

TEST(ChannelFailure, LockHeldByAnotherProcessIsBusyAndNothingIsStored) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  auto store = openStoreOrFail(path, {.busyTimeoutMs = 0});
  ASSERT_TRUE(store);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::vector<Appended> results;
  auto done = store->append(std::vector{pub("a", "1")}, results);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(primaryCode(done.error()), SQLITE_BUSY) << done.error().message;
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);

  EXPECT_EQ(*store->position("a"), Position{});
  EXPECT_EQ(offsetsOf(appendOk(*store, {pub("a", "1")})), (std::vector<uint64_t>{1}));
}

// An insert refused halfway through a batch (a trigger refuses one item) leaves SQLite's
// transaction open; the store must roll back what came before it, channels and keys included,
// and stay usable.
TEST(ChannelFailure, BatchThatFailsHalfwayStoresNoneOfIt) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  auto store = openStoreOrFail(path);
  ASSERT_TRUE(store);
  Epoch epoch = appendOk(*store, {pub("a", "1")})[0].epoch;
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other,
                         "CREATE TRIGGER refuse BEFORE INSERT ON pubs WHEN NEW.data = 'boom' "
                         "BEGIN SELECT RAISE(ABORT, 'boom refused'); END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(other);

  std::vector<Appended> results;
  auto done = store->append(
      std::vector{pub("a", "2", 1000, keep(100), "k"), pub("new", "1"), pub("a", "boom")}, results);
  ASSERT_FALSE(done.ok());
  EXPECT_NE(done.error().message.find("boom refused"), std::string::npos) << done.error().message;
  EXPECT_TRUE(results.empty());
  EXPECT_EQ(*store->position("a"), (Position{epoch, 1}));
  EXPECT_EQ(*store->position("new"), Position{});

  auto retry = appendOk(*store, {pub("a", "2", 1000, keep(100), "k"), pub("new", "1")});
  ASSERT_EQ(retry.size(), 2u);
  EXPECT_EQ(retry[0], (Appended{2, epoch, false}));
  EXPECT_EQ(retry[1].offset, 1u);
}

// What acknowledge-after-store relies on: once append() returned, a kill -9 (no destructor, no
// checkpoint, the commit only in the WAL) loses nothing, keys included.
TEST(ChannelFailure, CommittedPublicationsSurviveKillDashNine) {
  TempDir dir;
  std::string path = dir.file("channels.db");
  EXPECT_EXIT(
      {
        auto store = ChannelStore::open(path);
        std::vector<Appended> results;
        if (store && (*store)->append(std::vector{pub("a", "1", 1000, keep(100), "ka"),
                                                  pub("b", "1"), pub("a", "2")},
                                      results)) {
          raise(SIGKILL);
        }
        _exit(1);
      },
      ::testing::KilledBySignal(SIGKILL), "");
  EXPECT_TRUE(std::filesystem::exists(path + "-wal"));  // really killed before a clean close

  auto store = openStoreOrFail(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->position("a")->top, 2u);
  EXPECT_EQ(store->position("b")->top, 1u);
  std::vector<Seen> seen;
  ASSERT_TRUE(store->latest("a", 100, collectInto(seen)).ok());
  EXPECT_EQ(seen, (std::vector<Seen>{{1, "1"}, {2, "2"}}));
  auto retry = appendOk(*store, {pub("a", "1", 2000, keep(100), "ka")});
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_TRUE(retry[0].duplicate);
  EXPECT_EQ(retry[0].offset, 1u);
}

}  // namespace
}  // namespace duplex::hub
