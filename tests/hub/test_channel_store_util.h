#pragma once
// Shared by the channel store tests: open-or-fail, the shape of an epoch, publications, appends
// that must succeed, and visitors that copy what they are shown.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hub/channel_store.h"

namespace duplex::hub::test {

inline std::unique_ptr<ChannelStore> openStoreOrFail(const std::string& path,
                                                     const ChannelStoreOptions& options = {}) {
  auto store = ChannelStore::open(path, options);
  EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
  return store.ok() ? std::move(*store) : nullptr;
}

// A drawn epoch: 16 lowercase hex digits (channel_store.h).
inline bool isEpoch(const Epoch& epoch) {
  return epoch.view().size() == 16 &&
         epoch.view().find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

inline ChannelLimits keep(uint64_t historySize, int64_t ttlMs = 0, int64_t windowMs = 300'000) {
  return {.historySize = historySize, .historyTtlMs = ttlMs, .idempotencyWindowMs = windowMs};
}

inline NewPublication pub(std::string_view channel, std::string_view data, int64_t nowMs = 1000,
                          ChannelLimits limits = keep(100), std::string_view key = {}) {
  return {.channel = channel, .data = data, .key = key, .nowMs = nowMs, .limits = limits};
}

// Appends and expects success; an empty vector (and a test failure) otherwise.
inline std::vector<Appended> appendOk(ChannelStore& store,
                                      const std::vector<NewPublication>& batch) {
  std::vector<Appended> results;
  auto done = store.append(batch, results);
  EXPECT_TRUE(done.ok()) << (done.ok() ? "" : done.error().message);
  if (done.ok()) {
    EXPECT_EQ(results.size(), batch.size());
  }
  return results;
}

inline std::vector<uint64_t> offsetsOf(const std::vector<Appended>& results) {
  std::vector<uint64_t> offsets;
  for (const auto& result : results) offsets.push_back(result.offset);
  return offsets;
}

struct Seen {
  uint64_t offset = 0;
  std::string data;
  bool operator==(const Seen&) const = default;
};

inline std::vector<uint64_t> offsetsOf(const std::vector<Seen>& seen) {
  std::vector<uint64_t> offsets;
  for (const auto& item : seen) offsets.push_back(item.offset);
  return offsets;
}

inline auto collectInto(std::vector<Seen>& out) {
  return [&out](const PublicationView& view) {
    out.push_back({view.offset, std::string(view.data)});
  };
}

// Offsets 1..n (or from..to) as a vector, for expectations.
inline std::vector<uint64_t> range(uint64_t from, uint64_t to) {
  std::vector<uint64_t> offsets;
  for (uint64_t offset = from; offset <= to; ++offset) offsets.push_back(offset);
  return offsets;
}

// What the file holds, through a second, independent connection (rows dead or alive).
inline int64_t countRows(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t count = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      count = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return count;
}

inline int primaryCode(const StoreError& error) {
  return error.code & 0xff;
}

}  // namespace duplex::hub::test
