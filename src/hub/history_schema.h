#pragma once
// The history file's tables, and the version number that lets a later duplex migrate them.
// Internal to src/hub.
#include "hub/store_result.h"

struct sqlite3;

namespace duplex::hub {

// PRAGMA user_version of a file this code writes. 0 means "fresh file, no schema yet".
inline constexpr int kHistorySchemaVersion = 1;

// Creates the tables and the first epoch in a new file, in one transaction, so a crash halfway
// leaves a file that is either empty or complete. An existing file is only read, so a
// read-only file with a schema opens (its history can be replayed; writes fail as values).
// A file from a newer schema is refused rather than misread.
StoreResult<void> ensureHistorySchema(sqlite3* db);

}  // namespace duplex::hub
