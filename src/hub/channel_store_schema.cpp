#include "hub/channel_store_schema.h"

#include <sqlite3.h>

#include <algorithm>
#include <string>

#include "hub/channel_store.h"

namespace duplex::hub {
namespace {

// channels: one row per channel ever stored to, never deleted (its epoch and top offset must
// outlive its history). Offsets of a channel, low <= first <= top + 1:
//   [low, first)   on disk but dead: trimmed by size, TTL or reset(), deleted by trimStep;
//   [first, top]   live: what since() and latest() read;
//   <= base        given out under an earlier epoch (base is top at the last reset).
// `due` is when trimStep next has work on the channel (NULL: none); its partial index finds the
// due channels among many idle ones. `last_at` keeps `at` non-decreasing within a channel, so
// what a TTL expires is always a prefix of the history.
//
// pubs is a rowid table searched through its (channel, offset) index, not a WITHOUT ROWID table
// keyed on (channel, offset): a WITHOUT ROWID row over ~1000 bytes (4 KiB pages) spills its tail
// to an overflow page of its own, so a 1 KiB publication would take 5 KiB of disk, while a rowid
// row stays inline up to ~4000 bytes. Rowids grow in publish order, so the recent publications
// a recovery reads sit together in the table, and the index keeps since/latest at O(log n + k).
// keys remembers idempotency keys apart from pubs, so a retry within the window gets its first
// answer even after the publication was trimmed. A key counts only while offset > the channel's
// base (reset() forgets keys with the history) and expires > now.
constexpr const char* kCreateSchema = R"sql(
CREATE TABLE channels(
  id      INTEGER PRIMARY KEY,
  name    TEXT    NOT NULL UNIQUE,
  epoch   TEXT    NOT NULL,
  top     INTEGER NOT NULL,
  base    INTEGER NOT NULL,
  first   INTEGER NOT NULL,
  low     INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  size    INTEGER NOT NULL,
  ttl     INTEGER NOT NULL,
  due     INTEGER
);
CREATE INDEX channels_due ON channels(due) WHERE due IS NOT NULL;
CREATE TABLE pubs(
  id      INTEGER PRIMARY KEY,
  channel INTEGER NOT NULL,
  offset  INTEGER NOT NULL,
  at      INTEGER NOT NULL,
  data    TEXT    NOT NULL,
  UNIQUE(channel, offset)
);
CREATE TABLE keys(
  id      INTEGER PRIMARY KEY,
  channel INTEGER NOT NULL,
  key     TEXT    NOT NULL,
  offset  INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  UNIQUE(channel, key)
);
CREATE INDEX keys_expires ON keys(expires);
PRAGMA application_id = 1685611368;
PRAGMA user_version = 1;
)sql";

StoreResult<int64_t> pragmaInt(sqlite3* db, const char* sql) {
  auto stmt = sqlite::prepare(db, sql);
  if (!stmt) return stmt.error();
  return sqlite::queryInt(db, stmt->get(), "read schema version");
}

StoreResult<void> rollbackWith(sqlite3* db, StoreError error) {
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  return error;
}

}  // namespace

StoreResult<sqlite::Db> openChannelFile(const std::string& path,
                                        const ChannelStoreOptions& options) {
  return sqlite::openFile(path, {.durability = options.durability,
                                 .busyTimeoutMs = options.busyTimeoutMs,
                                 .maxFileBytes = options.maxFileBytes});
}

StoreResult<void> ensureChannelSchema(sqlite3* db) {
  static_assert(kChannelSchemaVersion == 1, "kCreateSchema sets user_version = 1");
  static_assert(kChannelApplicationId == 1685611368, "kCreateSchema sets application_id");
  auto version = pragmaInt(db, "PRAGMA user_version");
  if (!version) return version.error();
  if (*version != 0) {
    auto app = pragmaInt(db, "PRAGMA application_id");
    if (!app) return app.error();
    if (*app != kChannelApplicationId) {
      return StoreError{SQLITE_ERROR, "open: not a channel store file (application_id " +
                                          std::to_string(*app) + ")"};
    }
    if (*version > kChannelSchemaVersion) {
      return StoreError{SQLITE_ERROR, "open: channel store has schema version " +
                                          std::to_string(*version) + ", newer than this duplex (" +
                                          std::to_string(kChannelSchemaVersion) + ")"};
    }
    return {};
  }

  // IMMEDIATE takes the write lock now: two processes creating the same new file at once
  // serialize here, and the loser sees the winner's schema below instead of failing.
  if (auto begun = sqlite::exec(db, "BEGIN IMMEDIATE", "create schema"); !begun) return begun;
  version = pragmaInt(db, "PRAGMA user_version");
  if (!version) return rollbackWith(db, version.error());
  if (*version == 0) {
    if (auto created = sqlite::exec(db, kCreateSchema, "create schema"); !created) {
      return rollbackWith(db, created.error());
    }
  }
  if (auto committed = sqlite::exec(db, "COMMIT", "create schema"); !committed) {
    return rollbackWith(db, committed.error());
  }
  if (*version != 0) return ensureChannelSchema(db);  // the winner's file: check its kind
  return {};
}

}  // namespace duplex::hub
