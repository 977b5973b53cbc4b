#include "hub/history_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <string>

#include "hub/history_schema.h"

namespace duplex::hub {
namespace {

using sqlite::StmtScope;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// SQLite integers are signed 64-bit; seqs and limits beyond that mean "no bound".
int64_t clampToInt64(uint64_t value) {
  return static_cast<int64_t>(std::min<uint64_t>(value, kInt64Max));
}

// An empty string_view may carry a null pointer, which sqlite3_bind_text would store as NULL
// (breaking NOT NULL). SQLITE_STATIC: the bytes live until the statement is stepped and reset,
// so SQLite need not copy them first.
int bindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  return sqlite3_bind_text(stmt, index, text.empty() ? "" : text.data(),
                           static_cast<int>(text.size()), SQLITE_STATIC);
}

std::string_view columnText(sqlite3_stmt* stmt, int column) {
  // column_text before column_bytes, as SQLite documents: the call may convert the value.
  const auto* bytes = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return {bytes, static_cast<size_t>(sqlite3_column_bytes(stmt, column))};
}

}  // namespace

StoreResult<std::unique_ptr<HistoryStore>> HistoryStore::open(const std::string& path,
                                                              const HistoryOptions& options) {
  std::unique_ptr<HistoryStore> store(new HistoryStore());
  store->options_ = options;
  store->options_.trimChunk = std::max<uint32_t>(options.trimChunk, 1);
  if (auto done = store->configure(path); !done) return done.error();
  if (auto done = ensureHistorySchema(store->db_.get()); !done) return done.error();
  if (auto done = store->prepareStatements(); !done) return done.error();
  if (auto done = store->loadEpoch(); !done) return done.error();
  sqlite3_commit_hook(store->db_.get(), &HistoryStore::onCommit, store.get());
  return store;
}

HistoryStore::~HistoryStore() {
  if (db_) sqlite3_commit_hook(db_.get(), nullptr, nullptr);
}

StoreResult<void> HistoryStore::configure(const std::string& path) {
  sqlite3* raw = nullptr;
  // NOMUTEX: one thread uses the connection at a time, so SQLite's per-call mutex is waste.
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_.reset(raw);  // SQLite hands back a handle even on failure; it must be closed
  if (!raw) return StoreError{rc, "open " + path + ": out of memory"};
  if (rc != SQLITE_OK) return sqlite::errorFrom(raw, "open " + path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options_.busyTimeoutMs);

  // WAL: readers (replay to a new client, a second process) never block the writer and the
  // writer never blocks them; a commit appends to one file instead of rewriting pages twice.
  auto walMode = sqlite::prepare(raw, "PRAGMA journal_mode=WAL");
  if (!walMode) return walMode.error();
  {
    StmtScope scope(walMode->get());
    if (sqlite3_step(walMode->get()) != SQLITE_ROW) return sqlite::errorFrom(raw, "open: WAL");
    std::string_view mode = columnText(walMode->get(), 0);
    if (mode != "wal") {
      return StoreError{SQLITE_ERROR, "open " + path + ": journal mode is " + std::string(mode) +
                                          ", WAL is required (an in-memory path?)"};
    }
  }

  const char* synchronous = options_.durability == Durability::SurvivePowerLoss
                                ? "PRAGMA synchronous=FULL"
                                : "PRAGMA synchronous=NORMAL";
  if (auto done = sqlite::exec(raw, synchronous, "open: synchronous"); !done) return done;

  if (options_.maxFileBytes > 0) {
    auto pageSize = sqlite::prepare(raw, "PRAGMA page_size");
    if (!pageSize) return pageSize.error();
    auto bytes = sqlite::queryInt(raw, pageSize->get(), "open: page size", 4096);
    if (!bytes) return bytes.error();
    uint64_t pages = std::max<uint64_t>(options_.maxFileBytes / static_cast<uint64_t>(*bytes), 1);
    std::string pragma = "PRAGMA max_page_count=" + std::to_string(pages);
    if (auto done = sqlite::exec(raw, pragma.c_str(), "open: max size"); !done) return done;
  }
  return {};
}

StoreResult<void> HistoryStore::prepareStatements() {
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
      {&insert_, "INSERT INTO items(kind, text, at) VALUES (?1, ?2, ?3)"},
      {&since_, "SELECT seq, kind, text, at FROM items WHERE seq > ?1 ORDER BY seq LIMIT ?2"},
      {&latestSeq_, "SELECT seq FROM sqlite_sequence WHERE name = 'items'"},
      {&count_, "SELECT count(*) FROM items"},
      // min() and max() in separate statements: SQLite answers each alone from the ends of
      // the b-tree, but "SELECT min(seq), max(seq)" together scans the table.
      {&oldest_, "SELECT min(seq) FROM items"},
      {&newest_, "SELECT max(seq) FROM items"},
      // The newest seq that falls outside the newest maxItems. Counted, not computed as
      // max - maxItems, so it stays right even if seqs ever have gaps.
      {&trimCut_, "SELECT seq FROM items ORDER BY seq DESC LIMIT 1 OFFSET ?1"},
      // Debian's SQLite has no DELETE ... LIMIT, hence the subquery.
      {&trimDelete_,
       "DELETE FROM items WHERE seq IN (SELECT seq FROM items WHERE seq <= ?1 ORDER BY seq LIMIT "
       "?2)"},
      {&deleteAll_, "DELETE FROM items"},
      {&newEpoch_, "UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'epoch'"},
      {&readEpoch_, "SELECT value FROM meta WHERE key = 'epoch'"},
  };
  for (const auto& [stmt, sql] : wanted) {
    auto prepared = sqlite::prepare(db_.get(), sql);
    if (!prepared) return prepared.error();
    *stmt = std::move(*prepared);
  }
  return {};
}

StoreResult<void> HistoryStore::loadEpoch() {
  StmtScope scope(readEpoch_.get());
  if (sqlite3_step(readEpoch_.get()) != SQLITE_ROW) {
    return sqlite::errorFrom(db_.get(), "read epoch");
  }
  epoch_ = columnText(readEpoch_.get(), 0);
  return {};
}

StoreError HistoryStore::rollbackAfter(StoreError error) {
  sqlite::rollbackIfOpen(db_.get(), rollback_.get());
  return error;
}

StoreResult<SeqRange> HistoryStore::append(std::span<const NewItem> batch) {
  if (batch.empty()) return SeqRange{};
  sqlite3* db = db_.get();
  if (auto begun = sqlite::run(db, begin_.get(), "append"); !begun) {
    return rollbackAfter(begun.error());
  }
  SeqRange range;
  range.count = batch.size();
  for (size_t i = 0; i < batch.size(); ++i) {
    const NewItem& item = batch[i];
    StmtScope scope(insert_.get());
    if (bindText(insert_.get(), 1, item.kind) != SQLITE_OK ||
        bindText(insert_.get(), 2, item.text) != SQLITE_OK ||
        sqlite3_bind_int64(insert_.get(), 3, item.atMs) != SQLITE_OK ||
        sqlite3_step(insert_.get()) != SQLITE_DONE) {
      return rollbackAfter(sqlite::errorFrom(db, "append"));
    }
    auto seq = static_cast<uint64_t>(sqlite3_last_insert_rowid(db));
    if (i == 0) range.first = seq;
    // Cannot happen under the write lock; checked because callers index the range blindly.
    if (seq != range.first + i) {
      return rollbackAfter(
          StoreError{SQLITE_INTERNAL, "append: seqs of one batch not consecutive"});
    }
  }
  if (auto committed = sqlite::run(db, commit_.get(), "append: commit"); !committed) {
    return rollbackAfter(committed.error());
  }
  return range;
}

StoreResult<size_t> HistoryStore::visitSince(uint64_t afterSeq, size_t limit,
                                             void (*call)(void*, const HistoryItemView&),
                                             void* fn) {
  sqlite3_stmt* stmt = since_.get();
  StmtScope scope(stmt);
  sqlite3_bind_int64(stmt, 1, clampToInt64(afterSeq));
  sqlite3_bind_int64(stmt, 2, clampToInt64(limit));
  size_t visited = 0;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    HistoryItemView item;
    item.seq = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
    item.kind = columnText(stmt, 1);
    item.text = columnText(stmt, 2);
    item.atMs = sqlite3_column_int64(stmt, 3);
    call(fn, item);
    ++visited;
  }
  if (rc != SQLITE_DONE) return sqlite::errorFrom(db_.get(), "since");
  return visited;
}

StoreResult<std::vector<HistoryItem>> HistoryStore::since(uint64_t afterSeq, size_t limit) {
  std::vector<HistoryItem> items;
  auto visited = forEachSince(afterSeq, limit, [&items](const HistoryItemView& item) {
    items.push_back({item.seq, std::string(item.kind), std::string(item.text), item.atMs});
  });
  if (!visited) return visited.error();
  return items;
}

StoreResult<uint64_t> HistoryStore::latestSeq() {
  auto seq = sqlite::queryInt(db_.get(), latestSeq_.get(), "latest seq");
  if (!seq) return seq.error();
  return static_cast<uint64_t>(*seq);
}

StoreResult<uint64_t> HistoryStore::size() {
  auto count = sqlite::queryInt(db_.get(), count_.get(), "size");
  if (!count) return count.error();
  return static_cast<uint64_t>(*count);
}

StoreResult<TrimResult> HistoryStore::trimStep() {
  sqlite3* db = db_.get();
  auto oldest = sqlite::queryInt(db, oldest_.get(), "trim", -1);
  if (!oldest) return oldest.error();
  auto newest = sqlite::queryInt(db, newest_.get(), "trim", -1);
  if (!newest) return newest.error();
  // newest - oldest + 1 bounds the row count from above, so when it fits there is nothing to
  // do, and the common idle call costs two b-tree descents.
  if (*oldest < 0 || static_cast<uint64_t>(*newest - *oldest) < options_.maxItems) {
    return TrimResult{};
  }

  sqlite3_bind_int64(trimCut_.get(), 1, clampToInt64(options_.maxItems));
  auto cut = sqlite::queryInt(db, trimCut_.get(), "trim", -1);
  if (!cut) return cut.error();
  if (*cut < 0) return TrimResult{};  // gaps: fewer than maxItems + 1 rows after all

  sqlite3_bind_int64(trimDelete_.get(), 1, *cut);
  sqlite3_bind_int64(trimDelete_.get(), 2, options_.trimChunk);
  if (auto deleted = sqlite::run(db, trimDelete_.get(), "trim"); !deleted) {
    return deleted.error();
  }
  TrimResult result;
  result.deleted = static_cast<uint64_t>(sqlite3_changes64(db));
  auto left = sqlite::queryInt(db, oldest_.get(), "trim", -1);
  if (!left) return left.error();
  result.more = *left >= 0 && *left <= *cut;
  return result;
}

StoreResult<void> HistoryStore::reset() {
  sqlite3* db = db_.get();
  for (sqlite3_stmt* stmt : {begin_.get(), deleteAll_.get(), newEpoch_.get(), commit_.get()}) {
    if (auto done = sqlite::run(db, stmt, "reset"); !done) return rollbackAfter(done.error());
  }
  return loadEpoch();
}

int HistoryStore::onCommit(void* self) {
  // Called as a commit starts; a COMMIT that then fails is reported by the caller's error.
  ++static_cast<HistoryStore*>(self)->commits_;
  return 0;  // 0 lets the commit proceed
}

}  // namespace duplex::hub
