#pragma once
// The demo's durable, ordered log of events ("throws"), in one SQLite file in WAL mode.
//
// Used by duplexd's loop thread, one thread at a time, with no network code and no clock: the
// caller supplies every timestamp, so tests are deterministic. The intended loop:
//   1. collect the throws that arrived in one loop iteration;
//   2. append() them together: one transaction, one commit (group commit);
//   3. broadcast them, with the seqs append() returned, only after it returned ok
//      (persist before broadcast: no client ever sees a throw a restart could lose);
//   4. when idle, call trimStep() until it says nothing is left to trim.
// A new client gets since(itsLastSeq, limit) in chunks, then the live throws.
//
// This store is the only writer of its file (duplexd owns it). Other connections may read it
// at the same time (WAL readers never block the writer), e.g. a second HistoryStore or the
// sqlite3 shell. epoch() is cached at open() and reset().
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "hub/sqlite_handle.h"
#include "hub/store_result.h"

namespace duplex::hub {

// How far a commit goes before append() returns (PRAGMA synchronous, in WAL mode).
enum class Durability : uint8_t {
  // synchronous=NORMAL: a commit is a write() into the WAL with no fsync; the WAL is synced
  // only at checkpoints. A committed throw survives a crash or kill -9 of duplexd (the kernel
  // holds the bytes) but the last commits can be lost if the machine loses power. This is the
  // default because the demo promises "a restart loses nothing", and because an fsync per
  // commit (milliseconds on many disks) would stall the loop, and every client with it.
  SurviveProcessCrash,
  // synchronous=FULL: the WAL is fsynced on every commit, so a commit survives power loss too.
  // Group commit pays one fsync per loop iteration's batch, not per throw.
  SurvivePowerLoss,
};

struct HistoryOptions {
  uint64_t maxItems = 10'000;  // trimStep() deletes the oldest items beyond this many
  // Rows deleted per trimStep() (one transaction each): bounds how long one step holds the loop.
  uint32_t trimChunk = 500;
  Durability durability = Durability::SurviveProcessCrash;
  // How long a write waits for a lock held by another process before failing with
  // SQLITE_BUSY. Short, because the waiting happens on the loop thread.
  int busyTimeoutMs = 100;
  // 0 = no limit. Otherwise writes that would grow the file past this fail with SQLITE_FULL,
  // exactly as on a full disk (a cap for small devices; also how tests fill the "disk").
  uint64_t maxFileBytes = 0;
};

// What the loop hands to append(): views into the messages it parsed this iteration. SQLite
// copies them during the call; nothing is retained.
struct NewItem {
  std::string_view kind;
  std::string_view text;
  int64_t atMs = 0;  // milliseconds since the Unix epoch, from the caller's clock
};

// One stored item, owning its strings.
struct HistoryItem {
  uint64_t seq = 0;  // unique for the life of the file: never reused after trim, reset, restart
  std::string kind;
  std::string text;
  int64_t atMs = 0;
  bool operator==(const HistoryItem&) const = default;
};

// One stored item as views into SQLite's row buffer: valid only during the visitor's call.
// Replay serializes straight from these, with no copy per item.
struct HistoryItemView {
  uint64_t seq = 0;
  std::string_view kind;
  std::string_view text;
  int64_t atMs = 0;
};

// The seqs append() gave one batch: first, first+1, ..., consecutive in batch order (the batch
// is one transaction under the write lock, so nothing can interleave).
struct SeqRange {
  uint64_t first = 0;
  size_t count = 0;
  uint64_t operator[](size_t i) const { return first + i; }
  uint64_t last() const { return first + count - 1; }  // meaningful when count > 0
  bool empty() const { return count == 0; }
};

struct TrimResult {
  uint64_t deleted = 0;  // rows deleted by this step
  bool more = false;     // call again: more than maxItems are still stored
};

class HistoryStore {
 public:
  // Opens or creates the file (and its schema and epoch). The store keeps `this` in SQLite's
  // commit hook, hence a pinned object behind a unique_ptr.
  static StoreResult<std::unique_ptr<HistoryStore>> open(const std::string& path,
                                                         const HistoryOptions& options = {});
  ~HistoryStore();
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  // Stores the whole batch in one transaction, or nothing: on error no item of the batch is
  // stored, and none must be broadcast. An empty batch touches nothing.
  StoreResult<SeqRange> append(std::span<const NewItem> batch);

  // Up to `limit` items with seq > afterSeq, oldest first.
  StoreResult<std::vector<HistoryItem>> since(uint64_t afterSeq, size_t limit);

  // The same, without copies: calls visit(const HistoryItemView&) per item and returns how many
  // it visited. The visitor must not call back into the store.
  template <class Visit>
  StoreResult<size_t> forEachSince(uint64_t afterSeq, size_t limit, Visit&& visit) {
    using V = std::remove_reference_t<Visit>;
    return visitSince(
        afterSeq, limit,
        [](void* fn, const HistoryItemView& item) { (*static_cast<V*>(fn))(item); },
        const_cast<void*>(static_cast<const void*>(&visit)));
  }

  // The highest seq ever given out (0 for a new file). It stays put when items are trimmed or
  // reset, so it is the value a fully caught-up client holds.
  StoreResult<uint64_t> latestSeq();

  // Items stored now (at most maxItems once trimming has caught up).
  StoreResult<uint64_t> size();

  // Deletes up to trimChunk of the oldest items beyond maxItems, in one short transaction.
  // Cheap when there is nothing to do (two index lookups), so the loop may call it when idle.
  StoreResult<TrimResult> trimStep();

  // Deletes every item and draws a new epoch, in one transaction. Seqs keep counting up.
  StoreResult<void> reset();

  // 16 lowercase hex digits, fixed for the file until reset().
  const std::string& epoch() const { return epoch_; }

  // Transactions this connection has committed (counted by SQLite's commit hook): what proves
  // that a batch is one commit, and a metric of write pressure.
  uint64_t commits() const { return commits_; }

  const HistoryOptions& options() const { return options_; }

 private:
  HistoryStore() = default;
  StoreResult<void> configure(const std::string& path);
  StoreResult<void> prepareStatements();
  StoreResult<void> loadEpoch();
  StoreResult<size_t> visitSince(uint64_t afterSeq, size_t limit,
                                 void (*call)(void*, const HistoryItemView&), void* fn);
  StoreError rollbackAfter(StoreError error);
  static int onCommit(void* self);

  HistoryOptions options_;
  std::string epoch_;
  uint64_t commits_ = 0;

  // Declared before the statements: members are destroyed in reverse, so every statement is
  // finalized before the connection closes.
  sqlite::Db db_;
  sqlite::Stmt begin_, commit_, rollback_;
  sqlite::Stmt insert_, since_, latestSeq_, count_;
  sqlite::Stmt oldest_, newest_, trimCut_, trimDelete_;
  sqlite::Stmt deleteAll_, newEpoch_, readEpoch_;
};

}  // namespace duplex::hub
