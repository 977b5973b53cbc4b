#pragma once
// The SQLite helpers of src/hub's stores: owners for handles, opening a file with the pragmas
// every store wants, binding and reading text, and the one place a SQLite failure becomes a
// StoreError. Only forward declarations here, so users of channel_store.h never see sqlite3.h.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "hub/store_result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace duplex::hub {

// How far a commit goes before a store's write returns (PRAGMA synchronous, in WAL mode).
enum class Durability : uint8_t {
  // synchronous=NORMAL: a commit is a write() into the WAL with no fsync; the WAL is synced
  // only at checkpoints. A commit survives a crash or kill -9 of the process (the kernel holds
  // the bytes) but the last commits can be lost if the machine loses power. The default,
  // because the hub promises "a restart loses nothing", and because an fsync per commit
  // (milliseconds on many disks) would stall the loop, and every client with it.
  SurviveProcessCrash,
  // synchronous=FULL: the WAL is fsynced on every commit, so a commit survives power loss too.
  // Group commit pays one fsync per loop iteration's batch, not per publication.
  SurvivePowerLoss,
};

}  // namespace duplex::hub

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

// How a store's file is opened.
struct FileOptions {
  Durability durability = Durability::SurviveProcessCrash;
  // How long a write waits for a lock held by another process before failing with SQLITE_BUSY.
  // Short, because the waiting happens on the loop thread.
  int busyTimeoutMs = 100;
  // 0 = no limit. Otherwise writes that would grow the file past this fail with SQLITE_FULL,
  // exactly as on a full disk (PRAGMA max_page_count).
  uint64_t maxFileBytes = 0;
};

// Opens (or creates) `path` in WAL mode with the options' durability, busy timeout and size cap,
// extended result codes on. The connection is for one thread at a time (SQLITE_OPEN_NOMUTEX).
// A path SQLite cannot put in WAL mode (":memory:") is refused.
StoreResult<Db> openFile(const std::string& path, const FileOptions& options);

// Binds text without a copy (SQLITE_STATIC): `text` must outlive the step, which a StmtScope
// around the statement's use guarantees. An empty view binds '' (never NULL).
int bindText(sqlite3_stmt* stmt, int index, std::string_view text);

// A text column as a view into SQLite's row buffer: valid until the next step or reset.
std::string_view columnText(sqlite3_stmt* stmt, int column);

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
