#pragma once
// The channel store's file: how it is opened, its tables, and every statement the store
// prepares, in one place so a test can check each one's query plan. Internal to src/hub.
#include <string>
#include <string_view>

#include "hub/sqlite_handle.h"
#include "hub/store_result.h"

namespace duplex::hub {

struct ChannelStoreOptions;

// PRAGMA user_version of a file this code writes; 0 means "fresh file, no schema yet".
inline constexpr int kChannelSchemaVersion = 1;
// PRAGMA application_id ("dxch"): tells a channel store file from another SQLite file that
// also has user_version 1 (the retired demo history file, history.db, had).
inline constexpr int kChannelApplicationId = 0x64786368;

// Opens (or creates) the file in WAL mode with the options' durability, busy timeout and size
// cap. The connection is used by one thread at a time.
StoreResult<sqlite::Db> openChannelFile(const std::string& path,
                                        const ChannelStoreOptions& options);

// Creates the tables in a new file in one transaction; an existing file is only read, so a
// read-only file opens (reads work, writes fail as values). Refuses a file of another kind or
// of a newer schema rather than misread it.
StoreResult<void> ensureChannelSchema(sqlite3* db);

namespace channel_sql {

// Parameters are numbered as the store binds them. Every read and every delete is a search of a
// primary key or an index, so since/latest cost O(log n + k) and a trim step O(log n) per
// channel plus the rows it deletes.
inline constexpr std::string_view kLoadChannel =
    "SELECT id, epoch, top, base, first, low, last_at, size, ttl, due FROM channels "
    "WHERE name = ?1";
inline constexpr std::string_view kCreateChannel =
    "INSERT INTO channels(name, epoch, top, base, first, low, last_at, size, ttl, due) "
    "VALUES (?1, lower(hex(randomblob(8))), 0, 0, 1, 1, ?2, ?3, ?4, NULL) RETURNING id, epoch";
inline constexpr std::string_view kSaveChannel =
    "UPDATE channels SET top = ?2, first = ?3, last_at = ?4, size = ?5, ttl = ?6, due = ?7 "
    "WHERE id = ?1";
// Rows stay on disk for trimStep to delete in bounded chunks: first = top + 1 hides them now.
inline constexpr std::string_view kResetChannel =
    "UPDATE channels SET epoch = lower(hex(randomblob(8))), base = top, first = top + 1, "
    "due = CASE WHEN low <= top THEN ?2 ELSE NULL END WHERE name = ?1 RETURNING epoch, top";
inline constexpr std::string_view kInsertPub =
    "INSERT INTO pubs(channel, offset, at, data) VALUES (?1, ?2, ?3, ?4)";
inline constexpr std::string_view kRange =
    "SELECT offset, data FROM pubs WHERE channel = ?1 AND offset BETWEEN ?2 AND ?3 "
    "ORDER BY offset";
inline constexpr std::string_view kFindKey =
    "SELECT offset, expires FROM keys WHERE channel = ?1 AND key = ?2";
inline constexpr std::string_view kPutKey =
    "INSERT INTO keys(channel, key, offset, expires) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT(channel, key) DO UPDATE SET offset = excluded.offset, expires = excluded.expires";
inline constexpr std::string_view kNextDue =
    "SELECT due FROM channels WHERE due IS NOT NULL ORDER BY due LIMIT 1";
inline constexpr std::string_view kDueChannel =
    "SELECT id, top, first, low, ttl FROM channels WHERE due <= ?1 ORDER BY due LIMIT 1";
// The last expired offset among the first ?3 live rows. `at` never decreases within a channel
// (append clamps it), so the expired rows are a prefix and max() is where it ends.
inline constexpr std::string_view kTtlCut =
    "SELECT max(offset) FROM (SELECT offset, at FROM pubs WHERE channel = ?1 AND offset >= ?2 "
    "ORDER BY offset LIMIT ?3) WHERE at <= ?4";
inline constexpr std::string_view kDeletePubs =
    "DELETE FROM pubs WHERE channel = ?1 AND offset BETWEEN ?2 AND ?3";
inline constexpr std::string_view kAtOf = "SELECT at FROM pubs WHERE channel = ?1 AND offset = ?2";
inline constexpr std::string_view kTrimSave =
    "UPDATE channels SET first = ?2, low = ?3, due = ?4 WHERE id = ?1";
inline constexpr std::string_view kNextExpiry = "SELECT min(expires) FROM keys";
// Debian's SQLite has no DELETE ... LIMIT, hence the subquery.
inline constexpr std::string_view kDeleteKeys =
    "DELETE FROM keys WHERE id IN (SELECT id FROM keys WHERE expires <= ?1 ORDER BY expires "
    "LIMIT ?2)";

// Readiness (ChannelStore::checkWritable): one row rewritten per check. Its table is made by
// the first check, not by the schema, so files made before it need no new schema version (and
// a read-only file still opens); hence not in kAll, whose plans are checked on a fresh file.
inline constexpr const char* kCreateReadiness =
    "CREATE TABLE IF NOT EXISTS readiness(id INTEGER PRIMARY KEY CHECK (id = 1), "
    "checks INTEGER NOT NULL)";
inline constexpr std::string_view kTouchReadiness =
    "INSERT INTO readiness(id, checks) VALUES (1, 1) "
    "ON CONFLICT(id) DO UPDATE SET checks = checks + 1 RETURNING checks";

inline constexpr std::string_view kAll[] = {
    kLoadChannel, kCreateChannel, kSaveChannel, kResetChannel, kInsertPub, kRange,
    kFindKey,     kPutKey,        kNextDue,     kDueChannel,   kTtlCut,    kDeletePubs,
    kAtOf,        kTrimSave,      kNextExpiry,  kDeleteKeys,
};

}  // namespace channel_sql
}  // namespace duplex::hub
