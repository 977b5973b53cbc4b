#pragma once
// The publications array of a reply (subscribe with `last` or `since`, history), kept within a
// byte budget. Without one, a client could make the server build a reply of maxRecovery
// publications of max_data_bytes each (10,000 x 16 KiB = 160 MiB) in memory, and a reply over
// the connection's maxBackpressure would get its own reader dropped as too slow.
//
// Two ways to stay within the budget, after the writer's begin...Result() opened the array:
//   Oldest first (recovery, history since an offset): add() stops taking publications once
//     the next would pass the budget; overflowed() then says the list is incomplete.
//   Newest kept (subscribe last, history without since): add() takes everything and drops the
//     oldest whenever the list grows past twice the budget (memory stays bounded); finish()
//     leaves the newest that fit, still oldest first.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::hub {

class PublicationList {
 public:
  enum class Keep : uint8_t { Oldest, Newest };

  PublicationList(std::string& out, size_t maxBytes, Keep keep)
      : out_(out), begin_(out.size()), maxBytes_(maxBytes), keep_(keep) {}

  void add(uint64_t offset, std::string_view data);
  // Newest: drops the oldest publications that do not fit. Then endPublications(out).
  void finish();

  bool overflowed() const { return overflowed_; }  // some publication was left out
  size_t count() const { return starts_.size() - dropped_; }

 private:
  size_t bytes() const { return out_.size() - begin_; }
  void dropOldestBeyond(size_t budget);

  std::string& out_;
  size_t begin_;  // just after the array's '['
  size_t maxBytes_;
  Keep keep_;
  std::vector<size_t> starts_;  // Newest: where each publication starts (relative to begin_)
  size_t dropped_ = 0;          // Newest: how many of starts_ are gone from the front
  bool overflowed_ = false;
};

}  // namespace duplex::hub
