// ChannelStore::trimStep: deletes what size limits, TTLs, resets and expired idempotency keys
// left behind, a bounded number of rows per call, so no single call holds the loop for long.
#include <sqlite3.h>

#include <algorithm>
#include <string>

#include "hub/channel_store.h"
#include "hub/channel_store_internal.h"

namespace duplex::hub {

using sqlite::StmtScope;
namespace detail = channel_store_detail;

StoreResult<bool> ChannelStore::trimWorkDue(int64_t nowMs) {
  sqlite3* db = db_.get();
  auto due = sqlite::queryInt(db, nextDue_.get(), "trim", detail::kInt64Max);
  if (!due) return due.error();
  if (*due <= nowMs) return true;
  auto expiry = sqlite::queryInt(db, nextExpiry_.get(), "trim", detail::kInt64Max);
  if (!expiry) return expiry.error();
  return *expiry <= nowMs;
}

StoreResult<ChannelTrimResult> ChannelStore::trimStep(int64_t nowMs) {
  // The common idle call: two index lookups and no write transaction.
  auto due = trimWorkDue(nowMs);
  if (!due) return due.error();
  if (!*due) return ChannelTrimResult{};

  sqlite3* db = db_.get();
  if (auto begun = sqlite::run(db, begin_.get(), "trim"); !begun) {
    return rollbackAfter(begun.error());
  }
  ChannelTrimResult result;
  uint64_t budget = options_.trimChunk;
  while (budget > 0) {
    bool found = false;
    auto deleted = trimChannel(nowMs, budget, found);
    if (!deleted) return rollbackAfter(deleted.error());
    if (!found) break;
    result.publications += *deleted;
    // A visit that deletes nothing still costs a few lookups: count it as a row.
    budget -= std::min(budget, std::max<uint64_t>(*deleted, 1));
  }
  if (budget > 0) {
    auto keys = trimKeys(nowMs, budget);
    if (!keys) return rollbackAfter(keys.error());
    result.keys = *keys;
  }
  if (auto committed = sqlite::run(db, commit_.get(), "trim: commit"); !committed) {
    return rollbackAfter(committed.error());
  }
  auto more = trimWorkDue(nowMs);
  if (!more) return more.error();
  result.more = *more;
  return result;
}

// Visits the channel due soonest (if one is due by nowMs): advances `first` past what the TTL
// expired, deletes up to `budget` dead rows, and records when the channel is next due.
StoreResult<uint64_t> ChannelStore::trimChannel(int64_t nowMs, uint64_t budget, bool& found) {
  sqlite3* db = db_.get();
  int64_t id = 0;
  uint64_t top = 0, first = 0, low = 0;
  int64_t ttl = 0;
  {
    sqlite3_stmt* stmt = dueChannel_.get();
    StmtScope scope(stmt);
    sqlite3_bind_int64(stmt, 1, nowMs);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return uint64_t{0};
    if (rc != SQLITE_ROW) return sqlite::errorFrom(db, "trim");
    id = sqlite3_column_int64(stmt, 0);
    top = detail::columnOffset(stmt, 1);
    first = detail::columnOffset(stmt, 2);
    low = detail::columnOffset(stmt, 3);
    ttl = sqlite3_column_int64(stmt, 4);
  }
  found = true;

  if (ttl > 0 && first <= top) {
    // At most `budget` rows are looked at, so `first` moves at most that far per visit.
    sqlite3_bind_int64(ttlCut_.get(), 1, id);
    sqlite3_bind_int64(ttlCut_.get(), 2, detail::toInt64(first));
    sqlite3_bind_int64(ttlCut_.get(), 3, detail::toInt64(budget));
    sqlite3_bind_int64(ttlCut_.get(), 4, detail::subMs(nowMs, ttl));
    auto cut = sqlite::queryInt(db, ttlCut_.get(), "trim: ttl", -1);
    if (!cut) return cut.error();
    if (*cut >= 0) first = static_cast<uint64_t>(*cut) + 1;
  }

  uint64_t deleted = 0;
  if (low < first) {
    const uint64_t to = std::min(first - 1, low + budget - 1);
    sqlite3_bind_int64(deletePubs_.get(), 1, id);
    sqlite3_bind_int64(deletePubs_.get(), 2, detail::toInt64(low));
    sqlite3_bind_int64(deletePubs_.get(), 3, detail::toInt64(to));
    if (auto done = sqlite::run(db, deletePubs_.get(), "trim"); !done) return done.error();
    deleted = static_cast<uint64_t>(sqlite3_changes64(db));
    low = to + 1;
  }

  bool hasDue = true;
  int64_t due = detail::kDueNow;
  if (low < first) {
    due = detail::kDueNow;  // the budget ran out: more dead rows next time
  } else if (ttl > 0 && first <= top) {
    sqlite3_bind_int64(atOf_.get(), 1, id);
    sqlite3_bind_int64(atOf_.get(), 2, detail::toInt64(first));
    auto at = sqlite::queryInt(db, atOf_.get(), "trim: ttl", detail::kInt64Min);
    if (!at) return at.error();
    if (*at == detail::kInt64Min) {
      return StoreError{SQLITE_CORRUPT,
                        "trim: offset " + std::to_string(first) + " of a channel is missing"};
    }
    due = detail::addMs(*at, ttl);  // may still be <= nowMs: the TTL scan ran out of budget
  } else {
    hasDue = false;
  }

  sqlite3_stmt* stmt = trimSave_.get();
  StmtScope scope(stmt);
  sqlite3_bind_int64(stmt, 1, id);
  sqlite3_bind_int64(stmt, 2, detail::toInt64(first));
  sqlite3_bind_int64(stmt, 3, detail::toInt64(low));
  if (hasDue) {
    sqlite3_bind_int64(stmt, 4, due);
  } else {
    sqlite3_bind_null(stmt, 4);
  }
  if (sqlite3_step(stmt) != SQLITE_DONE) return sqlite::errorFrom(db, "trim");
  return deleted;
}

StoreResult<uint64_t> ChannelStore::trimKeys(int64_t nowMs, uint64_t budget) {
  sqlite3* db = db_.get();
  sqlite3_bind_int64(deleteKeys_.get(), 1, nowMs);
  sqlite3_bind_int64(deleteKeys_.get(), 2, detail::toInt64(budget));
  if (auto done = sqlite::run(db, deleteKeys_.get(), "trim: keys"); !done) return done.error();
  return static_cast<uint64_t>(sqlite3_changes64(db));
}

}  // namespace duplex::hub
