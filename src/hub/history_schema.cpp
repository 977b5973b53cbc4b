#include "hub/history_schema.h"

#include <sqlite3.h>

#include <string>

#include "hub/sqlite_handle.h"

namespace duplex::hub {
namespace {

// AUTOINCREMENT, not a plain rowid alias: a plain rowid is max(rowid)+1, so after a reset (or a
// trim down to nothing) numbers would be handed out again. AUTOINCREMENT keeps the highest seq
// ever used in sqlite_sequence, so a seq names one throw for the life of the file.
//
// The epoch is 64 random bits as 16 hex digits, from SQLite's own CSPRNG-seeded randomblob();
// clients compare it to tell "the history was reset" from "I missed some items".
constexpr const char* kCreateSchema = R"sql(
CREATE TABLE items(
  seq  INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT    NOT NULL,
  text TEXT    NOT NULL DEFAULT '',
  at   INTEGER NOT NULL
);
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES ('epoch', lower(hex(randomblob(8))));
PRAGMA user_version = 1;
)sql";

StoreResult<int64_t> userVersion(sqlite3* db) {
  auto stmt = sqlite::prepare(db, "PRAGMA user_version");
  if (!stmt) return stmt.error();
  return sqlite::queryInt(db, stmt->get(), "read schema version");
}

}  // namespace

StoreResult<void> ensureHistorySchema(sqlite3* db) {
  static_assert(kHistorySchemaVersion == 1, "kCreateSchema sets user_version = 1");
  auto version = userVersion(db);
  if (!version) return version.error();
  if (*version == kHistorySchemaVersion) return {};
  if (*version > kHistorySchemaVersion) {
    return StoreError{SQLITE_ERROR, "open: history file has schema version " +
                                        std::to_string(*version) + ", newer than this duplex (" +
                                        std::to_string(kHistorySchemaVersion) + ")"};
  }

  // IMMEDIATE takes the write lock now: two processes creating the same new file at once
  // serialize here, and the loser sees the winner's schema below instead of failing.
  if (auto begun = sqlite::exec(db, "BEGIN IMMEDIATE", "create schema"); !begun) return begun;
  version = userVersion(db);
  if (version && *version == 0) {
    if (auto created = sqlite::exec(db, kCreateSchema, "create schema"); !created) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return created;
    }
  }
  if (!version) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return version.error();
  }
  if (auto committed = sqlite::exec(db, "COMMIT", "create schema"); !committed) {
    auto error = committed.error();
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return error;
  }
  return {};
}

}  // namespace duplex::hub
