// Replies and pushes byte for byte as docs/protocol.md shows them, error codes with their wire
// names and HTTP statuses, and JSON string escaping checked by parsing what we write.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "hub/hub_protocol.h"
#include "hub/hub_protocol_writer.h"

namespace duplex::hub {
namespace {

TEST(ErrorCode, WireNamesAndHttpStatuses) {
  struct Row {
    ErrorCode code;
    const char* name;
    int status;
  };
  const Row rows[] = {
      {ErrorCode::BadRequest, "bad_request", 400},
      {ErrorCode::UnknownCommand, "unknown_command", 400},
      {ErrorCode::Unauthorized, "unauthorized", 401},
      {ErrorCode::TokenExpired, "token_expired", 401},
      {ErrorCode::Forbidden, "forbidden", 403},
      {ErrorCode::NotFound, "not_found", 404},
      {ErrorCode::AlreadySubscribed, "already_subscribed", 400},
      {ErrorCode::NotSubscribed, "not_subscribed", 400},
      {ErrorCode::RateLimited, "rate_limited", 429},
      {ErrorCode::TooLarge, "too_large", 413},
      {ErrorCode::Unavailable, "unavailable", 503},
      {ErrorCode::LimitExceeded, "limit_exceeded", 400},
      {ErrorCode::Internal, "internal", 500},
  };
  ASSERT_EQ(std::size(rows), kAllErrorCodes.size());
  for (size_t i = 0; i < std::size(rows); ++i) {
    const Row& row = rows[i];
    SCOPED_TRACE(row.name);
    EXPECT_EQ(row.code, kAllErrorCodes[i]);
    EXPECT_EQ(errorCodeName(row.code), row.name);
    EXPECT_EQ(httpStatus(row.code), row.status);
    EXPECT_EQ(errorCodeFromName(row.name), row.code);
  }
  EXPECT_EQ(errorCodeFromName("Bad_Request"), std::nullopt);
  EXPECT_EQ(errorCodeFromName(""), std::nullopt);
}

constexpr StreamPosition kPosition{21, "3f9a0c2d7be41a65"};

TEST(Writer, RepliesAsTheProtocolShowsThem) {
  using W = std::string (*)();
  struct Row {
    W write;
    const char* want;
  };
  const Row rows[] = {
      {[] {
         std::string s;
         writeError(s, 7, ErrorCode::Forbidden, "publishing to talk:* is for the server API only");
         return s;
       },
       R"({"id":7,"error":{"code":"forbidden","message":"publishing to talk:* is for the server API only"}})"},
      {[] {
         std::string s;
         writeError(s, 0, HubError{ErrorCode::BadRequest, "id is required"});
         return s;
       },
       R"({"id":0,"error":{"code":"bad_request","message":"id is required"}})"},
      {[] {
         std::string s;
         writeError(s, ReplyTo::api(), ErrorCode::NotFound, "no");
         return s;
       },
       R"({"error":{"code":"not_found","message":"no"}})"},
      {[] {
         std::string s;
         writeConnectResult(s, 1, "c-5f0e2a", "alice", 1764000000);
         return s;
       },
       R"({"id":1,"result":{"client":"c-5f0e2a","user":"alice","expires":1764000000}})"},
      {[] {
         std::string s;
         writeSubscribeResult(s, 2, {17, "3f9a0c2d7be41a65"});
         return s;
       },
       R"({"id":2,"result":{"epoch":"3f9a0c2d7be41a65","offset":17}})"},
      {[] {
         std::string s;
         writeSubscribeUnrecovered(s, 3, {20, "e2"});
         return s;
       },
       R"({"id":3,"result":{"epoch":"e2","offset":20,"recovered":false}})"},
      {[] {
         std::string s;
         beginSubscribeRecovered(s, 3, {20, "e"});
         appendPublication(s, 18, R"({"k":1})");
         appendPublication(s, 19, "\"x\"");
         appendPublication(s, 20, "null");
         endPublications(s);
         return s;
       },
       R"({"id":3,"result":{"epoch":"e","offset":20,"recovered":true,"publications":[{"offset":18,"data":{"k":1}},{"offset":19,"data":"x"},{"offset":20,"data":null}]}})"},
      {[] {
         std::string s;
         beginSubscribeRecovered(s, 3, {17, "e"});
         endPublications(s);
         return s;
       },
       R"({"id":3,"result":{"epoch":"e","offset":17,"recovered":true,"publications":[]}})"},
      {[] {
         std::string s;
         beginSubscribeLast(s, 2, {17, "e"});
         appendPublication(s, 16, R"({"kind":"egg"})");
         appendPublication(s, 17, R"({"kind":"cat","text":"hi"})");
         endPublications(s);
         return s;
       },
       R"({"id":2,"result":{"epoch":"e","offset":17,"publications":[{"offset":16,"data":{"kind":"egg"}},{"offset":17,"data":{"kind":"cat","text":"hi"}}]}})"},
      {[] {
         std::string s;
         beginSubscribeLast(s, 2, {0, "e"});
         endPublications(s);
         return s;
       },
       R"({"id":2,"result":{"epoch":"e","offset":0,"publications":[]}})"},
      {[] {
         std::string s;
         writeEmptyResult(s, 4);
         return s;
       },
       R"({"id":4,"result":{}})"},
      {[] {
         std::string s;
         writePublishResult(s, 5, kPosition);
         return s;
       },
       R"({"id":5,"result":{"offset":21,"epoch":"3f9a0c2d7be41a65"}})"},
      {[] {
         std::string s;
         writePublishResult(s, ReplyTo::api(), {23, "e"});
         return s;
       },
       R"({"result":{"offset":23,"epoch":"e"}})"},
      {[] {
         std::string s;
         beginHistoryResult(s, 6, kPosition);
         appendPublication(s, 11, "[1]");
         endPublications(s);
         return s;
       },
       R"({"id":6,"result":{"epoch":"3f9a0c2d7be41a65","offset":21,"publications":[{"offset":11,"data":[1]}]}})"},
      {[] {
         std::string s;
         beginPresenceResult(s, 8);
         appendPresenceClient(s, "c-5f0e2a", "alice");
         appendPresenceClient(s, "c-77aa01", "");
         endPresenceResult(s);
         return s;
       },
       R"({"id":8,"result":{"clients":{"c-5f0e2a":{"user":"alice"},"c-77aa01":{"user":""}}}})"},
      {[] {
         std::string s;
         beginPresenceResult(s, ReplyTo::api());
         endPresenceResult(s);
         return s;
       },
       R"({"result":{"clients":{}}})"},
      {[] {
         std::string s;
         writeEmptyResult(s, 9);
         return s;
       },
       R"({"id":9,"result":{}})"},
      {[] {
         std::string s;
         writeDisconnectedResult(s, ReplyTo::api(), 3);
         return s;
       },
       R"({"result":{"disconnected":3}})"},
      {[] {
         std::string s;
         writeEmptyResult(s, UINT64_MAX);
         return s;
       },
       R"({"id":18446744073709551615,"result":{}})"},
  };
  simdjson::dom::parser json;
  for (const Row& row : rows) {
    SCOPED_TRACE(row.want);
    std::string got = row.write();
    EXPECT_EQ(got, row.want);
    simdjson::dom::element root;
    EXPECT_EQ(json.parse(got).get(root), simdjson::SUCCESS);
  }
}

TEST(Writer, Pushes) {
  std::string s;
  writePubPush(s, "talk:main", 22, R"({"kind":"egg"})");
  EXPECT_EQ(s, R"({"push":{"channel":"talk:main","pub":{"offset":22,"data":{"kind":"egg"}}}})");
  s.clear();
  writeJoinPush(s, "talk:main", "c-77aa01", "bob");
  EXPECT_EQ(s, R"({"push":{"channel":"talk:main","join":{"client":"c-77aa01","user":"bob"}}})");
  s.clear();
  writeLeavePush(s, "talk:main", "c-77aa01", "bob");
  EXPECT_EQ(s, R"({"push":{"channel":"talk:main","leave":{"client":"c-77aa01","user":"bob"}}})");
  s.clear();
  writePubPush(s, "#alice", 0, R"({"note":"for alice only"})");
  EXPECT_EQ(s,
            R"({"push":{"channel":"#alice","pub":{"offset":0,"data":{"note":"for alice only"}}}})");
  s.clear();
  writeDisconnectPush(s, DisconnectCode::TokenExpired, "token expired");
  EXPECT_EQ(s, R"({"push":{"disconnect":{"code":4002,"reason":"token expired"}}})");
  s.clear();
  writeDisconnectPush(s, DisconnectCode::ShuttingDown, "");
  EXPECT_EQ(s, R"({"push":{"disconnect":{"code":1001,"reason":""}}})");
}

TEST(Writer, AppendsWithoutTouchingWhatIsThere) {
  std::string s = "prefix|";
  writeEmptyResult(s, 1);
  writeEmptyResult(s, 2);
  EXPECT_EQ(s, R"(prefix|{"id":1,"result":{}}{"id":2,"result":{}})");
}

TEST(JsonString, EscapesExactlyWhatRfc8259Requires) {
  struct Row {
    std::string in;
    const char* want;
  };
  const Row rows[] = {
      {"", R"("")"},
      {"plain", R"("plain")"},
      {"\"", R"("\"")"},
      {"\\", R"("\\")"},
      {"a\"b\\c", R"("a\"b\\c")"},
      {"\b\f\n\r\t", R"("\b\f\n\r\t")"},
      {std::string("\0", 1), R"("\u0000")"},
      {"\x01\x1f", R"("\u0001\u001f")"},
      {"\x7f", "\"\x7f\""},                  // DEL needs no escape
      {"/", R"("/")"},                       // nor does the solidus
      {"é ✓ 😀", "\"é ✓ 😀\""},                // UTF-8 passes through
      {"\xe2\x80\xa8", "\"\xe2\x80\xa8\""},  // U+2028 is valid in JSON strings
  };
  for (const Row& row : rows) {
    std::string out;
    appendJsonString(out, row.in);
    EXPECT_EQ(out, row.want);
  }
}

TEST(JsonString, RoundTripsEveryByteValueThroughSimdjson) {
  // Each ASCII byte alone, then all of them with multibyte UTF-8 (whole characters only: a
  // string cut inside a character is not UTF-8, which the writers' callers never pass).
  std::vector<std::string> inputs;
  std::string all;
  for (int c = 0; c < 0x80; ++c) {
    inputs.emplace_back(1, static_cast<char>(c));
    all += static_cast<char>(c);
  }
  all += "é✓😀\xef\xbf\xbf";
  inputs.push_back(all);
  simdjson::dom::parser json;
  for (const std::string& in : inputs) {
    std::string out = R"({"s":)";
    appendJsonString(out, in);
    out += '}';
    std::string_view back;
    ASSERT_EQ(json.parse(out)["s"].get(back), simdjson::SUCCESS) << out;
    EXPECT_EQ(back, in);
  }
}

TEST(RoundTrip, AParsedPublishBecomesAPushThatParsesToTheSameData) {
  CommandParser parser;
  auto r = parser.parse(
      R"({"id":5,"publish":{"channel":"talk:main","data":{"text":"say \"hi\"\n\u0007 ✓","n":[1.5,-2]}}})");
  ASSERT_TRUE(r.ok()) << r.message;
  std::string push;
  writePubPush(push, r.command.channel, 7, r.command.data);
  simdjson::dom::parser json;
  simdjson::dom::element root;
  ASSERT_EQ(json.parse(push).get(root), simdjson::SUCCESS) << push;
  std::string_view text;
  ASSERT_EQ(root["push"]["pub"]["data"]["text"].get(text), simdjson::SUCCESS);
  EXPECT_EQ(text, "say \"hi\"\n\x07 ✓");
  double first = 0;
  ASSERT_EQ(root["push"]["pub"]["data"]["n"].at(0).get(first), simdjson::SUCCESS);
  EXPECT_EQ(first, 1.5);
  uint64_t offset = 0;
  ASSERT_EQ(root["push"]["pub"]["offset"].get(offset), simdjson::SUCCESS);
  EXPECT_EQ(offset, 7u);

  // An error whose message carries what the client sent (a method name) is still valid JSON.
  r = parser.parse("{\"id\":9,\"a\\\"b\\\\c\\u0001\":{}}");
  ASSERT_EQ(r.status, ParseStatus::Invalid);
  std::string error;
  writeError(error, r.command.id, r.error, r.message);
  std::string_view message;
  ASSERT_EQ(json.parse(error)["error"]["message"].get(message), simdjson::SUCCESS) << error;
  EXPECT_EQ(message, "unknown method \"a\"b\\c\x01\"");
}

}  // namespace
}  // namespace duplex::hub
