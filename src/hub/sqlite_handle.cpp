#include "hub/sqlite_handle.h"

#include <sqlite3.h>

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
