#pragma once
// Small helpers shared by the channel store's .cpp files. Internal to src/hub.
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string_view>

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

// An empty string_view may carry a null pointer, which sqlite3_bind_text would store as NULL
// (breaking NOT NULL). SQLITE_STATIC: the bytes live until the statement is stepped and reset,
// so SQLite need not copy them first.
inline int bindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  return sqlite3_bind_text(stmt, index, text.empty() ? "" : text.data(),
                           static_cast<int>(text.size()), SQLITE_STATIC);
}

inline std::string_view columnText(sqlite3_stmt* stmt, int column) {
  // column_text before column_bytes, as SQLite documents: the call may convert the value.
  const auto* bytes = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return {bytes, static_cast<size_t>(sqlite3_column_bytes(stmt, column))};
}

inline uint64_t columnOffset(sqlite3_stmt* stmt, int column) {
  return static_cast<uint64_t>(std::max<int64_t>(sqlite3_column_int64(stmt, column), 0));
}

}  // namespace duplex::hub::channel_store_detail
