#include "hub/channel_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <string>

#include "hub/channel_store_internal.h"
#include "hub/channel_store_schema.h"

namespace duplex::hub {

using sqlite::StmtScope;
namespace detail = channel_store_detail;

Epoch Epoch::fromText(std::string_view text) {
  Epoch epoch;
  if (text.size() != epoch.hex_.size()) return epoch;
  std::copy(text.begin(), text.end(), epoch.hex_.begin());
  epoch.size_ = static_cast<uint8_t>(text.size());
  return epoch;
}

StoreResult<std::unique_ptr<ChannelStore>> ChannelStore::open(const std::string& path,
                                                              const ChannelStoreOptions& options) {
  std::unique_ptr<ChannelStore> store(new ChannelStore());
  store->options_ = options;
  store->options_.trimChunk = std::max<uint32_t>(options.trimChunk, 1);
  auto db = openChannelFile(path, store->options_);
  if (!db) return db.error();
  store->db_ = std::move(*db);
  if (auto done = ensureChannelSchema(store->db_.get()); !done) return done.error();
  if (auto done = store->prepareStatements(); !done) return done.error();
  sqlite3_commit_hook(store->db_.get(), &ChannelStore::onCommit, store.get());
  return store;
}

ChannelStore::~ChannelStore() {
  if (db_) sqlite3_commit_hook(db_.get(), nullptr, nullptr);
}

StoreResult<void> ChannelStore::prepareStatements() {
  namespace q = channel_sql;
  struct Wanted {
    sqlite::Stmt* stmt;
    std::string_view sql;
  };
  // IMMEDIATE takes the write lock at BEGIN, so a busy file fails before any insert runs,
  // never halfway through a batch.
  const Wanted wanted[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&loadChannel_, q::kLoadChannel},
      {&createChannel_, q::kCreateChannel},
      {&saveChannel_, q::kSaveChannel},
      {&resetChannel_, q::kResetChannel},
      {&insertPub_, q::kInsertPub},
      {&range_, q::kRange},
      {&findKey_, q::kFindKey},
      {&putKey_, q::kPutKey},
      {&nextDue_, q::kNextDue},
      {&dueChannel_, q::kDueChannel},
      {&ttlCut_, q::kTtlCut},
      {&deletePubs_, q::kDeletePubs},
      {&atOf_, q::kAtOf},
      {&trimSave_, q::kTrimSave},
      {&nextExpiry_, q::kNextExpiry},
      {&deleteKeys_, q::kDeleteKeys},
  };
  for (const auto& [stmt, sql] : wanted) {
    auto prepared = sqlite::prepare(db_.get(), sql);
    if (!prepared) return prepared.error();
    *stmt = std::move(*prepared);
  }
  return {};
}

StoreError ChannelStore::rollbackAfter(StoreError error) {
  sqlite::rollbackIfOpen(db_.get(), rollback_.get());
  return error;
}

int ChannelStore::onCommit(void* self) {
  // Called as a commit starts; a COMMIT that then fails is reported by the caller's error.
  ++static_cast<ChannelStore*>(self)->commits_;
  return 0;  // 0 lets the commit proceed
}

StoreResult<bool> ChannelStore::loadRow(std::string_view channel, Row& row) {
  sqlite3_stmt* stmt = loadChannel_.get();
  StmtScope scope(stmt);
  detail::bindText(stmt, 1, channel);
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return false;
  if (rc != SQLITE_ROW) return sqlite::errorFrom(db_.get(), "load channel");
  row.id = sqlite3_column_int64(stmt, 0);
  row.epoch = Epoch::fromText(detail::columnText(stmt, 1));
  row.top = detail::columnOffset(stmt, 2);
  row.base = detail::columnOffset(stmt, 3);
  row.first = detail::columnOffset(stmt, 4);
  row.low = detail::columnOffset(stmt, 5);
  row.lastAt = sqlite3_column_int64(stmt, 6);
  row.limits.historySize = detail::columnOffset(stmt, 7);
  row.limits.historyTtlMs = sqlite3_column_int64(stmt, 8);
  row.hasDue = sqlite3_column_type(stmt, 9) != SQLITE_NULL;
  row.due = row.hasDue ? sqlite3_column_int64(stmt, 9) : 0;
  return true;
}

StoreResult<Position> ChannelStore::position(std::string_view channel) {
  Row row;
  auto found = loadRow(channel, row);
  if (!found) return found.error();
  if (!*found) return Position{};
  return Position{row.epoch, row.top};
}

StoreResult<void> ChannelStore::createRow(std::string_view channel, const ChannelLimits& limits,
                                          int64_t nowMs, Row& row) {
  // The epoch is SQLite's randomblob, seeded from the OS's CSPRNG.
  sqlite3_stmt* stmt = createChannel_.get();
  StmtScope scope(stmt);
  detail::bindText(stmt, 1, channel);
  sqlite3_bind_int64(stmt, 2, nowMs);
  sqlite3_bind_int64(stmt, 3, detail::toInt64(limits.historySize));
  sqlite3_bind_int64(stmt, 4, std::max<int64_t>(limits.historyTtlMs, 0));
  if (sqlite3_step(stmt) != SQLITE_ROW) return sqlite::errorFrom(db_.get(), "create channel");
  row = Row{};
  row.id = sqlite3_column_int64(stmt, 0);
  row.epoch = Epoch::fromText(detail::columnText(stmt, 1));
  row.lastAt = nowMs;
  row.limits.historySize = limits.historySize;
  row.limits.historyTtlMs = std::max<int64_t>(limits.historyTtlMs, 0);
  // Outside a transaction this second step is what commits the INSERT ... RETURNING.
  if (sqlite3_step(stmt) != SQLITE_DONE) return sqlite::errorFrom(db_.get(), "create channel");
  return {};
}

StoreResult<Position> ChannelStore::ensureChannel(std::string_view channel,
                                                  const ChannelLimits& limits, int64_t nowMs) {
  if (channel.empty()) return StoreError{SQLITE_MISUSE, "ensureChannel: empty channel name"};
  if (limits.historySize == 0) {
    return StoreError{SQLITE_MISUSE, "ensureChannel: channel " + std::string(channel) +
                                         " keeps no history (history_size 0)"};
  }
  Row row;
  auto found = loadRow(channel, row);
  if (!found) return found.error();
  if (!*found) {
    if (auto created = createRow(channel, limits, nowMs, row); !created) {
      return rollbackAfter(created.error());
    }
  }
  return Position{row.epoch, row.top};
}

StoreResult<Position> ChannelStore::reset(std::string_view channel) {
  sqlite3_stmt* stmt = resetChannel_.get();
  StmtScope scope(stmt);
  detail::bindText(stmt, 1, channel);
  sqlite3_bind_int64(stmt, 2, detail::kDueNow);
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return Position{};  // never stored to: nothing to reset
  if (rc != SQLITE_ROW) return sqlite::errorFrom(db_.get(), "reset");
  Position position{Epoch::fromText(detail::columnText(stmt, 0)), detail::columnOffset(stmt, 1)};
  // The UPDATE with RETURNING is one autocommit statement: it commits when it runs to the end.
  if (sqlite3_step(stmt) != SQLITE_DONE) return sqlite::errorFrom(db_.get(), "reset");
  return position;
}

StoreResult<size_t> ChannelStore::visitRange(const Row& row, uint64_t from, uint64_t to,
                                             VisitFn call, void* fn, std::string_view channel,
                                             std::string_view doing) {
  sqlite3_stmt* stmt = range_.get();
  StmtScope scope(stmt);
  sqlite3_bind_int64(stmt, 1, row.id);
  sqlite3_bind_int64(stmt, 2, detail::toInt64(from));
  sqlite3_bind_int64(stmt, 3, detail::toInt64(to));
  uint64_t expected = from;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    PublicationView pub{detail::columnOffset(stmt, 0), detail::columnText(stmt, 1)};
    if (pub.offset != expected) break;
    call(fn, pub);
    ++expected;
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite::errorFrom(db_.get(), doing);
  // Live offsets are consecutive by construction; a hole means the file was changed behind the
  // store's back, and a replay with a hole would break the no-gap promise, so it is an error.
  if (expected != to + 1) {
    return StoreError{SQLITE_CORRUPT, std::string(doing) + ": channel " + std::string(channel) +
                                          " is missing offset " + std::to_string(expected)};
  }
  return static_cast<size_t>(to + 1 - from);
}

StoreResult<SinceResult> ChannelStore::visitSince(std::string_view channel, uint64_t afterOffset,
                                                  std::string_view epoch, size_t limit,
                                                  VisitFn call, void* fn) {
  Row row;
  auto found = loadRow(channel, row);
  if (!found) return found.error();
  SinceResult result;
  if (!*found) {
    // Nothing was ever published here, so a client that saw nothing has missed nothing.
    if (afterOffset == 0 && epoch.empty()) result.recovery = Recovery::Recovered;
    return result;
  }
  result.position = {row.epoch, row.top};
  // ("", 0) is what a subscriber was told before the first publication: it names the history
  // that starts at offset 1, which is this epoch's unless the channel was reset since.
  bool sameHistory =
      epoch == row.epoch.view() || (epoch.empty() && afterOffset == 0 && row.base == 0);
  if (!sameHistory || afterOffset > row.top || row.first > afterOffset + 1) return result;

  result.recovery = Recovery::Recovered;
  uint64_t to = row.top - afterOffset > limit ? afterOffset + limit : row.top;
  result.limited = to < row.top;
  if (to > afterOffset) {
    auto visited = visitRange(row, afterOffset + 1, to, call, fn, channel, "since");
    if (!visited) return visited.error();
    result.visited = *visited;
  }
  return result;
}

StoreResult<LatestResult> ChannelStore::visitLatest(std::string_view channel, size_t limit,
                                                    VisitFn call, void* fn) {
  Row row;
  auto found = loadRow(channel, row);
  if (!found) return found.error();
  LatestResult result;
  if (!*found) return result;
  result.position = {row.epoch, row.top};
  uint64_t from = std::max<uint64_t>(row.first, row.top + 1 > limit ? row.top + 1 - limit : 1);
  if (from <= row.top) {
    auto visited = visitRange(row, from, row.top, call, fn, channel, "latest");
    if (!visited) return visited.error();
    result.visited = *visited;
  }
  return result;
}

}  // namespace duplex::hub
