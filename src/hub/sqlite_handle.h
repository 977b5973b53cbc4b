#pragma once
// Owners for SQLite handles and the one place a SQLite failure becomes a StoreError. Internal to
// src/hub: only forward declarations here, so users of history_store.h never see sqlite3.h.
#include <memory>
#include <string_view>

#include "hub/store_result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace duplex::hub::sqlite {

struct CloseDb {
  void operator()(sqlite3* db) const;
};
struct FinalizeStmt {
  void operator()(sqlite3_stmt* stmt) const;
};
using Db = std::unique_ptr<sqlite3, CloseDb>;
using Stmt = std::unique_ptr<sqlite3_stmt, FinalizeStmt>;

// Resets a statement (and drops its bindings) when the scope ends, however it ends. A SELECT left
// mid-result keeps its read transaction open, which pins a WAL snapshot and stops checkpoints
// from shrinking the WAL; a binding left to a caller's string_view would dangle.
class StmtScope {
 public:
  explicit StmtScope(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StmtScope();
  StmtScope(const StmtScope&) = delete;
  StmtScope& operator=(const StmtScope&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

// "doing: SQLite's message", with the extended result code. Read it before anything else runs
// on the connection (a ROLLBACK would overwrite the message).
StoreError errorFrom(sqlite3* db, std::string_view doing);

// Prepared once and kept for the life of the store (SQLITE_PREPARE_PERSISTENT).
StoreResult<Stmt> prepare(sqlite3* db, std::string_view sql);

// For statements run once or rarely (pragmas, BEGIN/COMMIT in schema setup).
StoreResult<void> exec(sqlite3* db, const char* sql, std::string_view doing);

// Runs a prepared statement that returns no rows (BEGIN, COMMIT, DELETE, ...).
StoreResult<void> run(sqlite3* db, sqlite3_stmt* stmt, std::string_view doing);

// After a failed write in a transaction: some errors (SQLITE_FULL, SQLITE_IOERR, ...) already
// rolled it back; others leave it open, and an open transaction would swallow the next batch's
// commit. Runs `rollback` (a prepared ROLLBACK) only when a transaction is still open.
void rollbackIfOpen(sqlite3* db, sqlite3_stmt* rollback);

// A single-row, single-integer query; `fallback` when it returns no row or NULL.
StoreResult<int64_t> queryInt(sqlite3* db, sqlite3_stmt* stmt, std::string_view doing,
                              int64_t fallback = 0);

}  // namespace duplex::hub::sqlite
