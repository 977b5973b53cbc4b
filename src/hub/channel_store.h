#pragma once
// The hub's durable history of every channel, in one SQLite file in WAL mode.
//
// Used by one thread at a time (the hub's StorageThread, storage_thread.h), with no network code
// and no clock (every call that needs the time takes the caller's nowMs). The intended loop:
//   1. collect the publishes that arrived in one loop iteration, for any channels;
//   2. append() them together: one transaction, one commit (group commit);
//   3. acknowledge and broadcast them, with the offsets append() gave, only after it returned
//      ok; on an error, answer every one of them `unavailable` (nothing was stored);
//   4. when idle, call trimStep() until it says nothing is left to do.
// A subscriber that reconnects gets since(); the history command gets since() or latest().
//
// Per channel: an epoch (16 hex digits, drawn when the channel is created, by its first stored
// publication or by ensureChannel(); redrawn by reset()) and a top offset (the last offset given
// out). A channel's row is never deleted, trimming included, so its epoch lasts as long as the
// file. Offsets start at 1, are consecutive
// per channel and are never reused: not after trimming, reset or a restart. The publications
// kept are always the consecutive run of offsets [oldest, top], possibly empty.
//
// Idempotency keys live in their own table with the offset they were first given, for the
// window the hub passes, so a retry gets its first answer even after the publication itself
// has been trimmed, and after a restart. A reset forgets them with the history.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "hub/sqlite_handle.h"  // Durability
#include "hub/store_result.h"

namespace duplex::hub {

struct ChannelStoreOptions {
  // Rows trimStep() may delete in one call (one transaction): bounds how long one step holds
  // the loop. Each channel it visits counts as at least one row.
  uint32_t trimChunk = 500;
  Durability durability = Durability::SurviveProcessCrash;
  // How long a write waits for a lock held by another process before failing with SQLITE_BUSY.
  int busyTimeoutMs = 100;
  // 0 = no limit. Otherwise writes that would grow the file past this fail with SQLITE_FULL,
  // exactly as on a full disk (a cap for small devices; also how tests fill the "disk").
  uint64_t maxFileBytes = 0;
};

// A channel's options as the hub's configuration says now. Each append carries them; the last
// one stored wins, and trimStep() applies it.
struct ChannelLimits {
  uint64_t historySize = 0;               // publications kept; must be >= 1 (0: do not append)
  int64_t historyTtlMs = 0;               // publications this old are dropped; 0: no TTL
  int64_t idempotencyWindowMs = 300'000;  // how long a key is remembered; 0: keys are ignored
};

// 16 lowercase hex digits naming one history of a channel, or empty for a channel the store
// has never created. A value, so results carry it without allocating.
class Epoch {
 public:
  Epoch() = default;
  // Exactly 16 characters are taken; anything else gives the empty epoch.
  static Epoch fromText(std::string_view text);
  std::string_view view() const { return {hex_.data(), size_}; }
  std::string str() const { return std::string(view()); }
  bool empty() const { return size_ == 0; }
  bool operator==(const Epoch&) const = default;

 private:
  std::array<char, 16> hex_{};
  uint8_t size_ = 0;
};

// Where a channel's history stands: what subscribe replies carry ("epoch", "offset").
struct Position {
  Epoch epoch;       // empty for a channel never created
  uint64_t top = 0;  // the last offset given out (0: none yet)
  bool operator==(const Position&) const = default;
};

// One publish as the loop hands it to append(): views into what it parsed this iteration.
// SQLite copies them during the call; nothing is retained.
struct NewPublication {
  std::string_view channel;
  std::string_view data;  // raw JSON text, stored as is
  std::string_view key;   // idempotency key; empty: none
  int64_t nowMs = 0;      // milliseconds since the Unix epoch, from the caller's clock
  ChannelLimits limits;
};

// What append() answers for one publication, in batch order.
struct Appended {
  uint64_t offset = 0;
  Epoch epoch;
  // The (channel, key) was published before within the window: offset and epoch are that first
  // publish's, and nothing was stored or must be broadcast for this item.
  bool duplicate = false;
  bool operator==(const Appended&) const = default;
};

// One stored publication as views into SQLite's row buffer: valid only during the visitor's
// call, so a reply is serialized straight from it with no copy per publication.
struct PublicationView {
  uint64_t offset = 0;
  std::string_view data;
};

enum class Recovery : uint8_t {
  // The visitor got exactly the publications after the given offset, in order (all of them
  // unless `limited`).
  Recovered,
  // The epoch differs, or the history no longer reaches back to the given offset: nothing was
  // visited, and the client must reload from `position`.
  NotRecoverable,
};

struct SinceResult {
  Recovery recovery = Recovery::NotRecoverable;
  Position position;
  size_t visited = 0;
  // Recovered, but the limit cut the replay: the last visited offset is below position.top;
  // ask again from there.
  bool limited = false;
};

struct LatestResult {
  Position position;
  size_t visited = 0;
};

struct ChannelTrimResult {
  uint64_t publications = 0;  // publication rows deleted by this step
  uint64_t keys = 0;          // expired idempotency keys deleted by this step
  bool more = false;          // call again: work that is due now is left
};

class ChannelStore {
 public:
  // Opens or creates the file and its schema. The store keeps `this` in SQLite's commit hook,
  // hence a pinned object behind a unique_ptr.
  static StoreResult<std::unique_ptr<ChannelStore>> open(const std::string& path,
                                                         const ChannelStoreOptions& options = {});
  ~ChannelStore();
  ChannelStore(const ChannelStore&) = delete;
  ChannelStore& operator=(const ChannelStore&) = delete;

  // Stores the whole batch in one transaction, or nothing. On success `results` (cleared first,
  // reused across calls to spare an allocation) holds one Appended per item, in batch order.
  // On error it is empty, no item of the batch is stored, and the error carries SQLite's words:
  // answer `unavailable`. An empty batch touches nothing. Within a batch, a second item with a
  // key already given in the batch is a duplicate of the first.
  StoreResult<void> append(std::span<const NewPublication> batch, std::vector<Appended>& results);

  // Recovery: when `epoch` is the channel's and its history reaches back to `afterOffset`,
  // calls visit(const PublicationView&) for the publications after it, in order, at most
  // `limit` of them. An unknown channel, or one that has not been reset, also recovers from
  // ("", 0): its history starts at offset 1. The visitor must not call back into the store; on
  // an error, discard what it was given.
  template <class Visit>
  StoreResult<SinceResult> since(std::string_view channel, uint64_t afterOffset,
                                 std::string_view epoch, size_t limit, Visit&& visit) {
    return visitSince(channel, afterOffset, epoch, limit, thunk<Visit>(), erase(visit));
  }

  // The newest `limit` stored publications, oldest first (history without `since`).
  template <class Visit>
  StoreResult<LatestResult> latest(std::string_view channel, size_t limit, Visit&& visit) {
    return visitLatest(channel, limit, thunk<Visit>(), erase(visit));
  }

  // Epoch and top offset ("", 0 for a channel never created). Only reads.
  StoreResult<Position> position(std::string_view channel);

  // The position of a channel that has an epoch: a channel never created is created now, with
  // a fresh epoch and top 0, as its first append would (`limits` and `nowMs` seed its row the
  // same way; limits.historySize must be >= 1). So a client told about an empty channel still
  // gets an epoch to recover with later. An existing channel is only read. Creating is one
  // short write (autocommit) that fails as append does: full disk, read-only file, busy lock.
  StoreResult<Position> ensureChannel(std::string_view channel, const ChannelLimits& limits,
                                      int64_t nowMs);

  // Drops the channel's history and its idempotency keys and draws a new epoch; offsets keep
  // counting up. Returns the new position. Cheap: the rows go in later trimSteps. An unknown
  // channel stays unknown.
  StoreResult<Position> reset(std::string_view channel);

  // A bounded amount of trimming, in one short transaction: publications beyond a channel's
  // history size or older than its TTL, rows left by reset(), expired idempotency keys. At
  // most trimChunk rows per call, across channels. Costs two index lookups when nothing is due.
  StoreResult<ChannelTrimResult> trimStep(int64_t nowMs);

  // Readiness (/readyz): one short write of the kind publishes make (the same file, lock and
  // durability; autocommit), rewriting the one row of the `readiness` table, which the first
  // call creates. Fails as append does: a full disk, a read-only file, a lock held by another
  // process. Returns how many checks the row has counted.
  StoreResult<uint64_t> checkWritable();

  // Transactions this connection has committed (counted by SQLite's commit hook): what proves
  // that a batch is one commit, and a metric of write pressure.
  uint64_t commits() const { return commits_; }

  const ChannelStoreOptions& options() const { return options_; }

 private:
  using VisitFn = void (*)(void*, const PublicationView&);
  template <class Visit>
  static VisitFn thunk() {
    using V = std::remove_reference_t<Visit>;
    return [](void* fn, const PublicationView& pub) { (*static_cast<V*>(fn))(pub); };
  }
  template <class Visit>
  static void* erase(Visit& visit) {
    return const_cast<void*>(static_cast<const void*>(&visit));
  }

  // A channel's row as reads and writes need it. Offsets: rows [low, first) are on disk but
  // dead (trimmed or reset, waiting for trimStep); [first, top] are live; <= base belong to
  // earlier epochs. An empty live history has first == top + 1.
  struct Row {
    int64_t id = 0;
    Epoch epoch;
    uint64_t top = 0, base = 0, first = 1, low = 1;
    int64_t lastAt = 0;
    ChannelLimits limits;
    bool hasDue = false;
    int64_t due = 0;
  };
  // A channel touched by the batch being appended.
  struct Touched {
    Row row;
    uint64_t firstBefore = 0, topBefore = 0;
    ChannelLimits limitsBefore;
    int64_t firstNewAt = 0;  // `at` of the batch's first publication on this channel
    bool created = false;
  };

  ChannelStore() = default;
  StoreResult<void> prepareStatements();
  StoreResult<bool> loadRow(std::string_view channel, Row& row);
  // Inserts the channel's row with a fresh epoch; in append's transaction or on its own.
  StoreResult<void> createRow(std::string_view channel, const ChannelLimits& limits, int64_t nowMs,
                              Row& row);
  StoreResult<size_t> touch(const NewPublication& pub);
  StoreResult<Appended> appendOne(const NewPublication& pub, Touched& channel);
  StoreResult<void> saveTouched(Touched& channel);
  StoreResult<void> appendInTransaction(std::span<const NewPublication> batch,
                                        std::vector<Appended>& results);
  StoreResult<size_t> visitRange(const Row& row, uint64_t from, uint64_t to, VisitFn call, void* fn,
                                 std::string_view channel, std::string_view doing);
  StoreResult<SinceResult> visitSince(std::string_view channel, uint64_t afterOffset,
                                      std::string_view epoch, size_t limit, VisitFn call, void* fn);
  StoreResult<LatestResult> visitLatest(std::string_view channel, size_t limit, VisitFn call,
                                        void* fn);
  StoreResult<bool> trimWorkDue(int64_t nowMs);
  StoreResult<uint64_t> trimChannel(int64_t nowMs, uint64_t budget, bool& found);
  StoreResult<uint64_t> trimKeys(int64_t nowMs, uint64_t budget);
  StoreError rollbackAfter(StoreError error);
  static int onCommit(void* self);

  ChannelStoreOptions options_;
  uint64_t commits_ = 0;
  // Per-batch scratch, kept to reuse its memory. Keys view the batch's channel names.
  std::vector<Touched> touched_;
  std::unordered_map<std::string_view, size_t> touchedIndex_;

  // Declared before the statements: members are destroyed in reverse, so every statement is
  // finalized before the connection closes.
  sqlite::Db db_;
  sqlite::Stmt begin_, commit_, rollback_;
  sqlite::Stmt loadChannel_, createChannel_, saveChannel_, resetChannel_;
  sqlite::Stmt insertPub_, range_, findKey_, putKey_;
  sqlite::Stmt nextDue_, dueChannel_, ttlCut_, deletePubs_, atOf_, trimSave_;
  sqlite::Stmt nextExpiry_, deleteKeys_;
  sqlite::Stmt touchReadiness_;  // prepared by the first checkWritable(), with its table
};

}  // namespace duplex::hub
