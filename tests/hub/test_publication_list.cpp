// PublicationList: a reply's publications within a byte budget, oldest first or newest kept,
// always a valid JSON array in offset order.
#include "hub/publication_list.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "hub/hub_protocol_writer.h"

namespace duplex::hub {
namespace {

// The offsets in the reply `out`, parsed back as JSON (so a stray ',' fails the test).
std::vector<uint64_t> offsetsIn(const std::string& out) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(out);
  std::vector<uint64_t> offsets;
  for (simdjson::dom::element pub : doc["result"]["publications"].get_array()) {
    offsets.push_back(pub["offset"].get_uint64());
  }
  return offsets;
}

// A reply of publications 1..n with `size` bytes of data each, through a list with `budget`.
std::string reply(int n, size_t size, size_t budget, PublicationList::Keep keep,
                  bool* overflowed = nullptr) {
  std::string out;
  beginHistoryResult(out, 7, {static_cast<uint64_t>(n), "0123456789abcdef"});
  PublicationList list(out, budget, keep);
  std::string data = "\"" + std::string(size - 2, 'x') + "\"";
  for (int i = 1; i <= n; ++i) list.add(i, data);
  list.finish();
  endPublications(out);
  if (overflowed) *overflowed = list.overflowed();
  return out;
}

// Each publication is {"offset":N,"data":"xx..."}: 21 bytes + the data + a ',' between them.
constexpr size_t kEntry = 100;  // data size that makes an entry 100 + ~20 bytes

TEST(PublicationList, EverythingWithinTheBudgetIsKeptEitherWay) {
  for (auto keep : {PublicationList::Keep::Oldest, PublicationList::Keep::Newest}) {
    bool overflowed = true;
    std::string out = reply(5, kEntry, 1 << 20, keep, &overflowed);
    EXPECT_EQ(offsetsIn(out), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
    EXPECT_FALSE(overflowed);
  }
}

TEST(PublicationList, OldestFirstStopsAtTheBudgetAndSaysSo) {
  bool overflowed = false;
  std::string out = reply(100, kEntry, 1000, PublicationList::Keep::Oldest, &overflowed);
  auto offsets = offsetsIn(out);
  ASSERT_FALSE(offsets.empty());
  EXPECT_LT(offsets.size(), 10u);
  for (size_t i = 0; i < offsets.size(); ++i) EXPECT_EQ(offsets[i], i + 1);
  EXPECT_TRUE(overflowed);
}

TEST(PublicationList, NewestKeptDropsTheOldestAndStaysContiguousToTheTop) {
  for (int n : {9, 10, 11, 25, 1000}) {
    bool overflowed = false;
    std::string out = reply(n, kEntry, 1000, PublicationList::Keep::Newest, &overflowed);
    auto offsets = offsetsIn(out);
    ASSERT_FALSE(offsets.empty()) << n;
    EXPECT_LT(offsets.size(), 10u) << n;
    EXPECT_EQ(offsets.back(), static_cast<uint64_t>(n)) << n;
    for (size_t i = 1; i < offsets.size(); ++i) EXPECT_EQ(offsets[i], offsets[i - 1] + 1) << n;
    EXPECT_TRUE(overflowed) << n;
    // As many as fit: one more would not have.
    EXPECT_GT(out.size() + kEntry + 20, 1000u) << n;
  }
}

TEST(PublicationList, NewestKeptHoldsAtMostTwiceTheBudgetWhileBuilding) {
  std::string out;
  beginHistoryResult(out, 1, {0, "0123456789abcdef"});
  const size_t begin = out.size();
  PublicationList list(out, 1000, PublicationList::Keep::Newest);
  std::string data = "\"" + std::string(kEntry - 2, 'x') + "\"";
  for (int i = 1; i <= 10'000; ++i) {
    list.add(i, data);
    ASSERT_LE(out.size() - begin, 2000u + kEntry + 40) << i;
  }
}

TEST(PublicationList, APublicationOverTheWholeBudgetLeavesAnEmptyOverflowedList) {
  for (auto keep : {PublicationList::Keep::Oldest, PublicationList::Keep::Newest}) {
    bool overflowed = false;
    std::string out = reply(3, 5000, 1000, keep, &overflowed);
    EXPECT_TRUE(offsetsIn(out).empty());
    EXPECT_TRUE(overflowed);
  }
}

}  // namespace
}  // namespace duplex::hub
