#pragma once
// Shared by the history store tests: open-or-fail, and batches of throws.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "hub/history_store.h"

namespace duplex::hub::test {

inline std::unique_ptr<HistoryStore> openOrFail(const std::string& path,
                                                const HistoryOptions& options = {}) {
  auto store = HistoryStore::open(path, options);
  EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
  return store.ok() ? std::move(*store) : nullptr;
}

// `count` throws cycling through the four kinds, at 1000, 1001, ... ms.
inline std::vector<NewItem> throws(size_t count, int64_t firstAt = 1000) {
  static const char* const kKinds[] = {"tomato", "candy", "egg", "cat"};
  std::vector<NewItem> batch;
  for (size_t i = 0; i < count; ++i) {
    batch.push_back({kKinds[i % 4], "", firstAt + static_cast<int64_t>(i)});
  }
  return batch;
}

inline std::vector<uint64_t> seqsOf(const std::vector<HistoryItem>& items) {
  std::vector<uint64_t> seqs;
  for (const auto& item : items) seqs.push_back(item.seq);
  return seqs;
}

}  // namespace duplex::hub::test
