#include "hub/sqlite_handle.h"

#include <sqlite3.h>

#include <algorithm>
#include <string>

namespace duplex::hub::sqlite {

// close_v2 rather than close: it never fails with SQLITE_BUSY over an unfinalized statement; the
// store finalizes its statements first anyway (member order), so this is belt and braces.
void CloseDb::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}

void FinalizeStmt::operator()(sqlite3_stmt* stmt) const {
  sqlite3_finalize(stmt);
}

StmtScope::~StmtScope() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

StoreResult<Db> openFile(const std::string& path, const FileOptions& options) {
  sqlite3* raw = nullptr;
  // NOMUTEX: one thread uses the connection at a time, so SQLite's per-call mutex is waste.
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);  // SQLite hands back a handle even on failure; it must be closed
  if (!raw) return StoreError{rc, "open " + path + ": out of memory"};
  if (rc != SQLITE_OK) return errorFrom(raw, "open " + path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busyTimeoutMs);

  // WAL: readers (a second process, the sqlite3 shell) never block the writer; a commit appends
  // to one file instead of rewriting pages twice.
  auto walMode = prepare(raw, "PRAGMA journal_mode=WAL");
  if (!walMode) return walMode.error();
  {
    StmtScope scope(walMode->get());
    if (sqlite3_step(walMode->get()) != SQLITE_ROW) return errorFrom(raw, "open: WAL");
    std::string_view mode = columnText(walMode->get(), 0);
    if (mode != "wal") {
      return StoreError{SQLITE_ERROR, "open " + path + ": journal mode is " +
                                          std::string(mode.empty() ? "unknown" : mode) +
                                          ", WAL is required (an in-memory path?)"};
    }
  }

  const char* synchronous = options.durability == Durability::SurvivePowerLoss
                                ? "PRAGMA synchronous=FULL"
                                : "PRAGMA synchronous=NORMAL";
  if (auto done = exec(raw, synchronous, "open: synchronous"); !done) return done.error();

  if (options.maxFileBytes > 0) {
    auto pageSize = prepare(raw, "PRAGMA page_size");
    if (!pageSize) return pageSize.error();
    auto bytes = queryInt(raw, pageSize->get(), "open: page size", 4096);
    if (!bytes) return bytes.error();
    uint64_t pages = std::max<uint64_t>(options.maxFileBytes / static_cast<uint64_t>(*bytes), 1);
    std::string pragma = "PRAGMA max_page_count=";
    pragma += std::to_string(pages);
    if (auto done = exec(raw, pragma.c_str(), "open: max size"); !done) return done.error();
  }
  return db;
}

int bindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  // An empty string_view may carry a null pointer, which sqlite3_bind_text would store as NULL
  // (breaking NOT NULL).
  return sqlite3_bind_text(stmt, index, text.empty() ? "" : text.data(),
                           static_cast<int>(text.size()), SQLITE_STATIC);
}

std::string_view columnText(sqlite3_stmt* stmt, int column) {
  // column_text before column_bytes, as SQLite documents: the call may convert the value.
  const auto* bytes = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  if (!bytes) return {};
  return {bytes, static_cast<size_t>(sqlite3_column_bytes(stmt, column))};
}

StoreError errorFrom(sqlite3* db, std::string_view doing) {
  StoreError error;
  error.code = sqlite3_extended_errcode(db);
  error.message.reserve(doing.size() + 64);
  error.message.append(doing).append(": ").append(sqlite3_errmsg(db));
  return error;
}

StoreResult<Stmt> prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  Stmt stmt(raw);
  if (rc != SQLITE_OK) return errorFrom(db, "prepare");
  return stmt;
}

StoreResult<void> exec(sqlite3* db, const char* sql, std::string_view doing) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return errorFrom(db, doing);
  return {};
}

StoreResult<void> run(sqlite3* db, sqlite3_stmt* stmt, std::string_view doing) {
  StmtScope scope(stmt);
  if (sqlite3_step(stmt) != SQLITE_DONE) return errorFrom(db, doing);
  return {};
}

StoreResult<int64_t> queryInt(sqlite3* db, sqlite3_stmt* stmt, std::string_view doing,
                              int64_t fallback) {
  StmtScope scope(stmt);
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return fallback;
  if (rc != SQLITE_ROW) return errorFrom(db, doing);
  if (sqlite3_column_type(stmt, 0) == SQLITE_NULL) return fallback;
  return static_cast<int64_t>(sqlite3_column_int64(stmt, 0));
}

void rollbackIfOpen(sqlite3* db, sqlite3_stmt* rollback) {
  if (sqlite3_get_autocommit(db)) return;
  StmtScope scope(rollback);
  sqlite3_step(rollback);
}

}  // namespace duplex::hub::sqlite
