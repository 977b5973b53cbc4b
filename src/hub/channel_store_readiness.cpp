// ChannelStore::checkWritable: the write /readyz makes to tell a store that still reads but can
// no longer write (a lock held elsewhere, a full disk, a file made read-only) from a ready one.
#include <sqlite3.h>

#include "hub/channel_store.h"
#include "hub/channel_store_schema.h"

namespace duplex::hub {

StoreResult<uint64_t> ChannelStore::checkWritable() {
  if (!touchReadiness_) {
    if (auto made = sqlite::exec(db_.get(), channel_sql::kCreateReadiness, "write"); !made) {
      return rollbackAfter(made.error());
    }
    auto prepared = sqlite::prepare(db_.get(), channel_sql::kTouchReadiness);
    if (!prepared) return prepared.error();
    touchReadiness_ = std::move(*prepared);
  }
  sqlite3_stmt* stmt = touchReadiness_.get();
  sqlite::StmtScope scope(stmt);
  if (sqlite3_step(stmt) != SQLITE_ROW) return rollbackAfter(sqlite::errorFrom(db_.get(), "write"));
  const auto checks = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
  // Outside a transaction this second step is what commits the upsert.
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    return rollbackAfter(sqlite::errorFrom(db_.get(), "write"));
  }
  return checks;
}

}  // namespace duplex::hub
