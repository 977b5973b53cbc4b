// ChannelStore::append: a loop iteration's publications, for any channels, in one transaction.
#include <sqlite3.h>

#include <algorithm>
#include <string>

#include "hub/channel_store.h"
#include "hub/channel_store_internal.h"

namespace duplex::hub {

using sqlite::StmtScope;
namespace detail = channel_store_detail;

StoreResult<void> ChannelStore::append(std::span<const NewPublication> batch,
                                       std::vector<Appended>& results) {
  results.clear();
  if (batch.empty()) return {};
  // Checked before BEGIN: a batch the store would refuse halfway touches nothing.
  for (const NewPublication& pub : batch) {
    if (pub.channel.empty()) return StoreError{SQLITE_MISUSE, "append: empty channel name"};
    if (pub.limits.historySize == 0) {
      return StoreError{SQLITE_MISUSE, "append: channel " + std::string(pub.channel) +
                                           " keeps no history (history_size 0)"};
    }
  }
  if (auto begun = sqlite::run(db_.get(), begin_.get(), "append"); !begun) {
    return rollbackAfter(begun.error());
  }
  auto applied = appendInTransaction(batch, results);
  touchedIndex_.clear();  // its keys view the caller's batch
  if (!applied) {
    results.clear();
    return rollbackAfter(applied.error());
  }
  if (auto committed = sqlite::run(db_.get(), commit_.get(), "append: commit"); !committed) {
    results.clear();
    return rollbackAfter(committed.error());
  }
  return {};
}

StoreResult<void> ChannelStore::appendInTransaction(std::span<const NewPublication> batch,
                                                    std::vector<Appended>& results) {
  touched_.clear();
  touchedIndex_.clear();
  results.reserve(batch.size());
  for (const NewPublication& pub : batch) {
    auto index = touch(pub);
    if (!index) return index.error();
    auto appended = appendOne(pub, touched_[*index]);
    if (!appended) return appended.error();
    results.push_back(*appended);
  }
  // One UPDATE per channel, not per publication.
  for (Touched& channel : touched_) {
    if (auto saved = saveTouched(channel); !saved) return saved;
  }
  return {};
}

StoreResult<size_t> ChannelStore::touch(const NewPublication& pub) {
  if (auto it = touchedIndex_.find(pub.channel); it != touchedIndex_.end()) return it->second;
  Touched channel;
  auto found = loadRow(pub.channel, channel.row);
  if (!found) return found.error();
  if (!*found) {
    if (auto created = createRow(pub.channel, pub.limits, pub.nowMs, channel.row); !created) {
      return created.error();
    }
    channel.created = true;
  }
  channel.firstBefore = channel.row.first;
  channel.topBefore = channel.row.top;
  channel.limitsBefore = channel.row.limits;
  touched_.push_back(channel);
  touchedIndex_.emplace(pub.channel, touched_.size() - 1);
  return touched_.size() - 1;
}

StoreResult<Appended> ChannelStore::appendOne(const NewPublication& pub, Touched& channel) {
  Row& row = channel.row;
  row.limits.historySize = pub.limits.historySize;
  row.limits.historyTtlMs = std::max<int64_t>(pub.limits.historyTtlMs, 0);
  sqlite3* db = db_.get();
  const bool keyed = !pub.key.empty() && pub.limits.idempotencyWindowMs > 0;
  if (keyed) {
    // Sees keys stored earlier in this same transaction, so a key repeated within the batch is
    // a duplicate of its first use.
    sqlite3_stmt* stmt = findKey_.get();
    StmtScope scope(stmt);
    sqlite3_bind_int64(stmt, 1, row.id);
    detail::bindText(stmt, 2, pub.key);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      uint64_t offset = detail::columnOffset(stmt, 0);
      int64_t expires = sqlite3_column_int64(stmt, 1);
      if (expires > pub.nowMs && offset > row.base) return Appended{offset, row.epoch, true};
    } else if (rc != SQLITE_DONE) {
      return sqlite::errorFrom(db, "append: idempotency key");
    }
  }

  const uint64_t offset = row.top + 1;
  // A clock stepping back must not reorder `at` within a channel: TTL trims a prefix.
  const int64_t at = std::max(pub.nowMs, row.lastAt);
  {
    sqlite3_stmt* stmt = insertPub_.get();
    StmtScope scope(stmt);
    sqlite3_bind_int64(stmt, 1, row.id);
    sqlite3_bind_int64(stmt, 2, detail::toInt64(offset));
    sqlite3_bind_int64(stmt, 3, at);
    detail::bindText(stmt, 4, pub.data);
    if (sqlite3_step(stmt) != SQLITE_DONE) return sqlite::errorFrom(db, "append");
  }
  if (keyed) {
    sqlite3_stmt* stmt = putKey_.get();
    StmtScope scope(stmt);
    sqlite3_bind_int64(stmt, 1, row.id);
    detail::bindText(stmt, 2, pub.key);
    sqlite3_bind_int64(stmt, 3, detail::toInt64(offset));
    sqlite3_bind_int64(stmt, 4, detail::addMs(pub.nowMs, pub.limits.idempotencyWindowMs));
    if (sqlite3_step(stmt) != SQLITE_DONE) return sqlite::errorFrom(db, "append: idempotency key");
  }
  if (offset == channel.topBefore + 1) channel.firstNewAt = at;
  row.top = offset;
  row.lastAt = at;
  return Appended{offset, row.epoch, false};
}

StoreResult<void> ChannelStore::saveTouched(Touched& channel) {
  Row& row = channel.row;
  const uint64_t size = row.limits.historySize;
  const int64_t ttl = row.limits.historyTtlMs;
  // The size limit applies at once, by moving `first`: it costs nothing here, and the rows it
  // hides are deleted by trimStep in bounded chunks.
  row.first = std::max(row.first, row.top + 1 > size ? row.top + 1 - size : 1);

  const bool limitsChanged = !channel.created && (channel.limitsBefore.historySize != size ||
                                                  channel.limitsBefore.historyTtlMs != ttl);
  const bool liveWasEmpty = channel.firstBefore == channel.topBefore + 1;
  const bool hadDue = row.hasDue;
  row.hasDue = true;
  if (row.first > row.low) {
    row.due = detail::kDueNow;  // dead rows to delete
  } else if (ttl > 0 && row.first <= row.top) {
    if (liveWasEmpty) {
      row.due = detail::addMs(channel.firstNewAt, ttl);  // the oldest live row is this batch's
    } else if (!hadDue || limitsChanged) {
      row.due = detail::kDueNow;  // trimStep finds the oldest row's time
    }
  } else {
    row.hasDue = false;
  }

  sqlite3_stmt* stmt = saveChannel_.get();
  StmtScope scope(stmt);
  sqlite3_bind_int64(stmt, 1, row.id);
  sqlite3_bind_int64(stmt, 2, detail::toInt64(row.top));
  sqlite3_bind_int64(stmt, 3, detail::toInt64(row.first));
  sqlite3_bind_int64(stmt, 4, row.lastAt);
  sqlite3_bind_int64(stmt, 5, detail::toInt64(size));
  sqlite3_bind_int64(stmt, 6, ttl);
  if (row.hasDue) {
    sqlite3_bind_int64(stmt, 7, row.due);
  } else {
    sqlite3_bind_null(stmt, 7);
  }
  if (sqlite3_step(stmt) != SQLITE_DONE) return sqlite::errorFrom(db_.get(), "append: channel");
  return {};
}

}  // namespace duplex::hub
