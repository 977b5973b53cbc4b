// Request::queryParam through a real GET route, and percentDecode on its own.
#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>

#include "server/request.h"
#include "server_fixture.h"

namespace duplex {
namespace {

struct QueryCase {
  const char* name;
  const char* query;  // after '?'; nullptr: no '?' at all
  const char* param;  // the parameter asked for
  std::optional<std::string> expected;
};
// Failure messages name the row rather than dumping its bytes.
void PrintTo(const QueryCase& c, std::ostream* os) {
  *os << c.name;
}

class QueryParamTable : public test::ServerFixture,
                        public ::testing::WithParamInterface<QueryCase> {};

TEST_P(QueryParamTable, Decodes) {
  const QueryCase& c = GetParam();
  std::optional<std::string> seen;
  bool called = false;
  makeApp().get("/q", [&](const Request& request, HttpResponse& response) {
    called = true;
    seen = request.queryParam(c.param);
    response.body = "ok";
  });
  test::RawPeer peer(listen());
  test::HttpReply reply;
  std::string target = c.query ? std::string("/q?") + c.query : "/q";
  ASSERT_TRUE(exchange(peer, test::getRequest(target), reply));
  ASSERT_EQ(reply.status, 200);
  ASSERT_TRUE(called);
  EXPECT_EQ(seen, c.expected) << "query '" << (c.query ? c.query : "") << "', param " << c.param;
}

INSTANTIATE_TEST_SUITE_P(
    Table, QueryParamTable,
    ::testing::Values(QueryCase{"second", "a=1&b=2", "b", "2"},
                      QueryCase{"first_of_repeats", "a=1&a=2", "a", "1"},
                      QueryCase{"without_equals", "flag&a=1", "flag", ""},
                      QueryCase{"empty_value", "a=", "a", ""},
                      QueryCase{"absent", "x=1", "a", std::nullopt},
                      QueryCase{"no_query", nullptr, "a", std::nullopt},
                      QueryCase{"prefix_of_a_name", "ab=1", "a", std::nullopt},
                      QueryCase{"utf8", "name=J%C3%B6rg", "name", "J\xC3\xB6rg"},
                      QueryCase{"plus_is_space", "q=a+b", "q", "a b"},
                      QueryCase{"encoded_plus", "q=a%2Bb", "q", "a+b"},
                      QueryCase{"encoded_equals", "q=a%3Db", "q", "a=b"},
                      QueryCase{"raw_equals_in_value", "q=a=b", "q", "a=b"},
                      QueryCase{"encoded_ampersand", "q=a%26b&r=1", "q", "a&b"},
                      QueryCase{"key_decoded_plus", "my+key=v", "my key", "v"},
                      QueryCase{"key_decoded_percent", "my%20key=v", "my key", "v"},
                      QueryCase{"malformed_escape_kept", "q=%zz", "q", "%zz"},
                      QueryCase{"truncated_escape_kept", "q=100%", "q", "100%"},
                      QueryCase{"truncated_escape_one_digit", "q=%4", "q", "%4"},
                      QueryCase{"empty_pairs_skipped", "&&a=1&", "a", "1"},
                      QueryCase{"lowercase_hex", "q=%c3%a9", "q", "\xC3\xA9"}),
    test::CaseName());

TEST(PercentDecode, Table) {
  struct Row {
    const char* in;
    bool plusIsSpace;
    std::string out;
  } rows[] = {
      {"", true, ""},
      {"abc", true, "abc"},
      {"%41b+c", true, "Ab c"},
      {"%41b+c", false, "Ab+c"},
      {"%2e%2E", false, ".."},
      {"%", false, "%"},
      {"%4", false, "%4"},
      {"%4g", false, "%4g"},
      {"a%20", false, "a "},
      {"%00x", false, std::string("\0x", 2)},
      {"%25%32%30", false, "%20"},  // decoded once, not twice
  };
  for (const Row& row : rows) {
    EXPECT_EQ(percentDecode(row.in, row.plusIsSpace), row.out) << row.in;
  }
}

}  // namespace
}  // namespace duplex
