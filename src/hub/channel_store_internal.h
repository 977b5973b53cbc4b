#pragma once
// Small helpers shared by the channel store's .cpp files. Internal to src/hub.
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string_view>

#include "hub/sqlite_handle.h"

namespace duplex::hub::channel_store_detail {

inline constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
inline constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

// `due` of a channel with work that waits for no clock (dead rows to delete, limits to
// re-apply): before any time a caller can pass.
inline constexpr int64_t kDueNow = kInt64Min;

// SQLite integers are signed 64-bit; offsets and limits beyond that mean "no bound".
inline int64_t toInt64(uint64_t value) {
  return static_cast<int64_t>(std::min<uint64_t>(value, kInt64Max));
}

// Timestamps plus or minus a duration (>= 0), saturating rather than overflowing (UB).
inline int64_t addMs(int64_t at, int64_t duration) {
  return at > kInt64Max - duration ? kInt64Max : at + duration;
}
inline int64_t subMs(int64_t at, int64_t duration) {
  return at < kInt64Min + duration ? kInt64Min : at - duration;
}

// The SQLite helpers every store shares (sqlite_handle.h), under the names these files use.
using sqlite::bindText;
using sqlite::columnText;

inline uint64_t columnOffset(sqlite3_stmt* stmt, int column) {
  return static_cast<uint64_t>(std::max<int64_t>(sqlite3_column_int64(stmt, column), 0));
}

}  // namespace duplex::hub::channel_store_detail
