// CommandParser: every command of docs/protocol.md, and every way a message can fail to be one,
// as case tables (one row per rule).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "hub/hub_protocol.h"

#include "test_hub_protocol_alloc.h"

namespace duplex::hub {
namespace {

// --- Commands that parse ----------------------------------------------------------------------

TEST(CommandParser, ParsesEveryMethodWithItsParams) {
  CommandParser parser;
  struct Row {
    const char* text;
    Method method;
    uint64_t id;
  };
  const Row rows[] = {
      {R"({"id":1,"connect":{"token":"eyJ.a.b"}})", Method::Connect, 1},
      {R"({"id":1,"connect":{}})", Method::Connect, 1},
      {R"({"id":2,"subscribe":{"channel":"talk:main"}})", Method::Subscribe, 2},
      {R"({"id":4,"unsubscribe":{"channel":"talk:main"}})", Method::Unsubscribe, 4},
      {R"({"id":5,"publish":{"channel":"talk:main","data":{"kind":"tomato"}}})", Method::Publish,
       5},
      {R"({"id":6,"history":{"channel":"talk:main"}})", Method::History, 6},
      {R"({"id":8,"presence":{"channel":"talk:main"}})", Method::Presence, 8},
      {R"({"id":9,"ping":{}})", Method::Ping, 9},
      // The method may come before the id; whitespace anywhere.
      {" { \"ping\" : { } , \"id\" : 10 } ", Method::Ping, 10},
      // Fields not in the protocol are ignored, at both levels.
      {R"({"id":11,"ping":{"x":1},"trace":"abc"})", Method::Ping, 11},
      {R"({"id":12,"subscribe":{"channel":"a:b","data":5,"token":7}})", Method::Subscribe, 12},
      // Ids up to 2^64-1.
      {R"({"id":18446744073709551615,"ping":{}})", Method::Ping, UINT64_MAX},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.text);
    ParseResult r = parser.parse(row.text);
    ASSERT_TRUE(r.ok()) << r.message;
    EXPECT_EQ(r.command.method, row.method);
    EXPECT_EQ(r.command.id, row.id);
  }
}

TEST(CommandParser, ConnectToken) {
  CommandParser parser;
  auto r = parser.parse(R"({"id":1,"connect":{"token":"eyJhbGciOi.x.y"}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.command.token, "eyJhbGciOi.x.y");
  r = parser.parse(R"({"id":1,"connect":{"token":null}})");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.command.token.empty());
}

TEST(CommandParser, SubscribeWithRecovery) {
  CommandParser parser;
  auto r = parser.parse(
      R"({"id":3,"subscribe":{"channel":"talk:main","since":{"offset":17,"epoch":"3f9a0c2d7be41a65"}}})");
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.command.channel, "talk:main");
  ASSERT_TRUE(r.command.since);
  EXPECT_EQ(r.command.since->offset, 17u);
  EXPECT_EQ(r.command.since->epoch, "3f9a0c2d7be41a65");

  r = parser.parse(R"({"id":3,"subscribe":{"channel":"talk:main","since":null}})");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.command.since);
  r = parser.parse(
      R"({"id":3,"subscribe":{"channel":"talk:main","since":{"offset":0,"epoch":""}}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.command.since->offset, 0u);
}

TEST(CommandParser, SubscribeWithLast) {
  CommandParser parser;
  struct Row {
    const char* text;
    std::optional<uint64_t> last;
  };
  const Row rows[] = {
      {R"({"id":2,"subscribe":{"channel":"demo:throws","last":500}})", 500},
      {R"({"id":2,"subscribe":{"channel":"demo:throws","last":0}})", 0},
      {R"({"id":2,"subscribe":{"channel":"demo:throws","last":18446744073709551615}})",
       UINT64_MAX},  // bounded by the hub's maxRecovery, not the parser
      {R"({"id":2,"subscribe":{"channel":"demo:throws","last":null}})", std::nullopt},
      {R"({"id":2,"subscribe":{"channel":"demo:throws"}})", std::nullopt},
      {R"({"id":2,"subscribe":{"channel":"demo:throws","last":null,"since":{"offset":1,"epoch":""}}})",
       std::nullopt},
      // Only subscribe reads it.
      {R"({"id":2,"history":{"channel":"demo:throws","last":5}})", std::nullopt},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.text);
    ParseResult r = parser.parse(row.text);
    ASSERT_TRUE(r.ok()) << r.message;
    EXPECT_EQ(r.command.last, row.last);
  }
}

TEST(CommandParser, PublishKeepsDataAsMinifiedJson) {
  CommandParser parser;
  struct Row {
    const char* data;  // as the client wrote it
    const char* want;  // what the hub stores and forwards
  };
  const Row rows[] = {
      {R"({"kind": "tomato", "n": [1, 2.5, -3, true, null]})",
       R"({"kind":"tomato","n":[1,2.5,-3,true,null]})"},
      {R"("just a string")", R"("just a string")"},
      {"42", "42"},
      {"-0.25", "-0.25"},
      {"1e3", "1000"},
      {"18446744073709551615", "18446744073709551615"},
      {"-9223372036854775808", "-9223372036854775808"},
      {"null", "null"},
      {"[]", "[]"},
      {"{}", "{}"},
      {R"({"a":{"b":{"c":[[],[{}]]}}})", R"({"a":{"b":{"c":[[],[{}]]}}})"},
      // Escapes come back escaped the writer's way; UTF-8 passes through.
      {R"("tab\there \"q\" \\ \u00e9 é ✓ \u0001 \/")", R"("tab\there \"q\" \\ é é ✓ \u0001 /")"},
      {R"({"\u0000key":"v"})", R"({"\u0000key":"v"})"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.data);
    std::string text = std::string(R"({"id":5,"publish":{"channel":"talk:main","data":)") +
                       row.data + R"(,"key":"c1-5"}})";
    ParseResult r = parser.parse(text);
    ASSERT_TRUE(r.ok()) << r.message;
    EXPECT_EQ(r.command.channel, "talk:main");
    EXPECT_EQ(r.command.key, "c1-5");
    EXPECT_EQ(r.command.data, row.want);
  }
}

TEST(CommandParser, PublishKeyIsOptionalAndAtMost64Bytes) {
  CommandParser parser;
  auto r = parser.parse(R"({"id":5,"publish":{"channel":"a:b","data":1}})");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.command.key.empty());
  r = parser.parse(R"({"id":5,"publish":{"channel":"a:b","data":1,"key":null}})");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.command.key.empty());
  std::string key64(64, 'k');
  r = parser.parse(R"({"id":5,"publish":{"channel":"a:b","data":1,"key":")" + key64 + "\"}}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.command.key, key64);
  r = parser.parse(R"({"id":5,"publish":{"channel":"a:b","data":1,"key":")" + key64 + "k\"}}");
  ASSERT_EQ(r.status, ParseStatus::Invalid);
  EXPECT_EQ(r.message, "publish.key is at most 64 bytes");
}

TEST(CommandParser, HistorySinceAndLimit) {
  CommandParser parser;
  auto r = parser.parse(R"({"id":6,"history":{"channel":"talk:main"}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.command.limit, kDefaultHistoryLimit);
  EXPECT_FALSE(r.command.since);
  r = parser.parse(
      R"({"id":6,"history":{"channel":"talk:main","since":{"offset":10,"epoch":"3f9a"},"limit":1000}})");
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.command.limit, 1000u);
  EXPECT_EQ(r.command.since->offset, 10u);
  EXPECT_EQ(r.command.since->epoch, "3f9a");
  r = parser.parse(R"({"id":6,"history":{"channel":"talk:main","limit":1}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.command.limit, 1u);
}

// --- Messages that are not commands -----------------------------------------------------------

struct BadRow {
  const char* text;
  ParseStatus status;
  ErrorCode code;  // for Invalid
  uint64_t id;     // the id to answer with
  const char* message;
};

void expectRows(CommandParser& parser, const std::vector<BadRow>& rows) {
  for (const BadRow& row : rows) {
    SCOPED_TRACE(row.text);
    ParseResult r = parser.parse(row.text);
    EXPECT_EQ(r.status, row.status);
    if (row.status == ParseStatus::Invalid) {
      EXPECT_EQ(errorCodeName(r.error), errorCodeName(row.code));
      EXPECT_EQ(r.command.id, row.id);
      EXPECT_EQ(r.message, row.message);
    } else {
      EXPECT_FALSE(r.message.empty());
    }
  }
}

TEST(CommandParser, NotJsonAtAllClosesTheConnection) {
  CommandParser parser;
  const auto kNotJson = ParseStatus::NotJson;
  const auto kBad = ErrorCode::BadRequest;
  expectRows(parser, {
                         {"", kNotJson, kBad, 0, ""},
                         {"hello", kNotJson, kBad, 0, ""},
                         {R"({"id":1,"ping":{})", kNotJson, kBad, 0, ""},
                         {R"({"id":1,"ping":{}}})", kNotJson, kBad, 0, ""},
                         {R"({"id":1,"ping":{},})", kNotJson, kBad, 0, ""},
                         {R"({"id":01,"ping":{}})", kNotJson, kBad, 0, ""},
                         {R"({'id':1})", kNotJson, kBad, 0, ""},
                         {R"({"id":1,"ping":{}} {"id":2,"ping":{}})", kNotJson, kBad, 0, ""},
                         // Broken JSON inside a field the hub ignores is still not JSON.
                         {R"({"id":1,"ping":{},"extra":[1,]})", kNotJson, kBad, 0, ""},
                         {"{\"id\":1,\"ping\":{},\"x\":\"\xff\"}", kNotJson, kBad, 0, ""},
                         {"{\"id\":1,\"ping\":{},\"x\":\"a\nb\"}", kNotJson, kBad, 0, ""},
                     });
}

TEST(CommandParser, JsonThatIsNotACommandGetsAnError) {
  CommandParser parser;
  const auto I = ParseStatus::Invalid;
  const auto kBad = ErrorCode::BadRequest;
  expectRows(
      parser,
      {
          // Not an object.
          {"[1,2]", I, kBad, 0, "a command is a JSON object"},
          {"42", I, kBad, 0, "a command is a JSON object"},
          {R"("ping")", I, kBad, 0, "a command is a JSON object"},
          {"null", I, kBad, 0, "a command is a JSON object"},
          // The id: required, a positive integer, once; without a usable one the answer goes to 0.
          {R"({"ping":{}})", I, kBad, 0, "id is required"},
          {R"({"id":0,"ping":{}})", I, kBad, 0, "id must be a positive integer"},
          {R"({"id":-3,"ping":{}})", I, kBad, 0, "id must be a positive integer"},
          {R"({"id":1.5,"ping":{}})", I, kBad, 0, "id must be a positive integer"},
          {R"({"id":2.0,"ping":{}})", I, kBad, 0, "id must be a positive integer"},
          {R"({"id":"7","ping":{}})", I, kBad, 0, "id must be a positive integer"},
          {R"({"id":null,"ping":{}})", I, kBad, 0, "id must be a positive integer"},
          {R"({"id":1,"id":2,"ping":{}})", I, kBad, 0, "id appears twice"},
          {R"({"id":"x","nosuch":{}})", I, kBad, 0, "id must be a positive integer"},
          // The method: exactly one, known, with an object of params.
          {R"({"id":3})", I, kBad, 3, "the command has no method"},
          {R"({"id":3,"ping":{},"publish":{}})", I, kBad, 3,
           "a command has exactly one method, not ping and publish"},
          {R"({"id":3,"ping":{},"ping":{}})", I, kBad, 3,
           "a command has exactly one method, not ping and ping"},
          {R"({"id":3,"ping":[]})", I, kBad, 3, "ping must be an object"},
          {R"({"id":3,"subscribe":"talk:main"})", I, kBad, 3, "subscribe must be an object"},
          {R"({"id":3,"connect":null})", I, kBad, 3, "connect must be an object"},
      });
}

TEST(CommandParser, RpcCarriesAMethodAndOptionalData) {
  CommandParser parser;
  ParseResult r = parser.parse(R"({"id":3,"rpc":{"method":"add","data":{"a": 1.50}}})");
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.command.method, Method::Rpc);
  EXPECT_EQ(r.command.rpcMethod, "add");
  EXPECT_EQ(r.command.data, R"({"a":1.5})");
  r = parser.parse(R"({"id":4,"rpc":{"method":"whoami"}})");
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.command.rpcMethod, "whoami");
  EXPECT_TRUE(r.command.data.empty());
}

TEST(CommandParser, UnknownMethod) {
  CommandParser parser;
  const auto I = ParseStatus::Invalid;
  const auto kUnknown = ErrorCode::UnknownCommand;
  std::string longName(100, 'x');
  std::string longCommand = R"({"id":4,")" + longName + R"(":{}})";
  expectRows(parser,
             {
                 {R"({"id":4,"call":{}})", I, kUnknown, 4, R"(unknown method "call")"},
                 {R"({"id":4,"rpc":{}})", I, ErrorCode::BadRequest, 4, "rpc.method is required"},
                 {R"({"id":4,"rpc":{"method":""}})", I, ErrorCode::BadRequest, 4,
                  "rpc.method must not be empty"},
                 {R"({"id":4,"Publish":{}})", I, kUnknown, 4, R"(unknown method "Publish")"},
                 {R"({"id":4,"disconnect":{"user":"x"}})", I, kUnknown, 4,
                  R"(unknown method "disconnect")"},
                 {longCommand.c_str(), I, kUnknown, 4,
                  "unknown method \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\""},
             });
  // A long name cut at 40 bytes is cut at a character boundary, so the message stays UTF-8.
  std::string accents;
  for (int i = 0; i < 30; ++i) accents += "\xc3\xa9";  // é
  auto r = parser.parse(R"({"id":4,")" + accents + R"(":{}})");
  ASSERT_EQ(r.status, I);
  EXPECT_EQ(r.message, "unknown method \"" + accents.substr(0, 40) + "\"");
}

TEST(CommandParser, ParamErrorsNameTheField) {
  CommandParser parser;
  const auto I = ParseStatus::Invalid;
  const auto kBad = ErrorCode::BadRequest;
  expectRows(
      parser,
      {
          {R"({"id":5,"subscribe":{}})", I, kBad, 5, "subscribe.channel is required"},
          {R"({"id":5,"subscribe":{"channel":null}})", I, kBad, 5,
           "subscribe.channel must be a string"},
          {R"({"id":5,"subscribe":{"channel":7}})", I, kBad, 5,
           "subscribe.channel must be a string"},
          {R"({"id":5,"subscribe":{"channel":""}})", I, kBad, 5,
           "subscribe.channel must not be empty"},
          {R"({"id":5,"subscribe":{"channel":"a:b","channel":"a:c"}})", I, kBad, 5,
           "subscribe.channel appears twice"},
          {R"({"id":5,"unsubscribe":{}})", I, kBad, 5, "unsubscribe.channel is required"},
          {R"({"id":5,"presence":{"channel":["a:b"]}})", I, kBad, 5,
           "presence.channel must be a string"},
          {R"({"id":5,"history":{}})", I, kBad, 5, "history.channel is required"},
          {R"({"id":5,"connect":{"token":42}})", I, kBad, 5, "connect.token must be a string"},
          {R"({"id":5,"connect":{"token":""}})", I, kBad, 5, "connect.token must not be empty"},
          // publish
          {R"({"id":5,"publish":{"channel":"a:b"}})", I, kBad, 5, "publish.data is required"},
          {R"({"id":5,"publish":{"data":1}})", I, kBad, 5, "publish.channel is required"},
          {R"({"id":5,"publish":{"channel":"a:b","data":1,"data":2}})", I, kBad, 5,
           "publish.data appears twice"},
          {R"({"id":5,"publish":{"channel":"a:b","data":1,"key":5}})", I, kBad, 5,
           "publish.key must be a string"},
          {R"({"id":5,"publish":{"channel":"a:b","data":1,"key":""}})", I, kBad, 5,
           "publish.key must not be empty"},
          // since
          {R"({"id":5,"subscribe":{"channel":"a:b","since":17}})", I, kBad, 5,
           "subscribe.since must be an object"},
          {R"({"id":5,"subscribe":{"channel":"a:b","since":{"epoch":"e"}}})", I, kBad, 5,
           "subscribe.since.offset is required"},
          {R"({"id":5,"subscribe":{"channel":"a:b","since":{"offset":-1,"epoch":"e"}}})", I, kBad,
           5, "subscribe.since.offset must be a non-negative integer"},
          {R"({"id":5,"subscribe":{"channel":"a:b","since":{"offset":"1","epoch":"e"}}})", I, kBad,
           5, "subscribe.since.offset must be a non-negative integer"},
          {R"({"id":5,"subscribe":{"channel":"a:b","since":{"offset":1}}})", I, kBad, 5,
           "subscribe.since.epoch is required"},
          {R"({"id":5,"history":{"channel":"a:b","since":{"offset":1,"epoch":3}}})", I, kBad, 5,
           "history.since.epoch must be a string"},
          // last
          {R"({"id":5,"subscribe":{"channel":"a:b","last":-1}})", I, kBad, 5,
           "subscribe.last must be a non-negative integer"},
          {R"({"id":5,"subscribe":{"channel":"a:b","last":2.5}})", I, kBad, 5,
           "subscribe.last must be a non-negative integer"},
          {R"({"id":5,"subscribe":{"channel":"a:b","last":"10"}})", I, kBad, 5,
           "subscribe.last must be a non-negative integer"},
          {R"({"id":5,"subscribe":{"channel":"a:b","last":true}})", I, kBad, 5,
           "subscribe.last must be a non-negative integer"},
          {R"({"id":5,"subscribe":{"channel":"a:b","last":1,"last":2}})", I, kBad, 5,
           "subscribe.last appears twice"},
          {R"({"id":5,"subscribe":{"channel":"a:b","last":10,"since":{"offset":1,"epoch":"e"}}})",
           I, kBad, 5, "subscribe.last and subscribe.since exclude each other"},
          {R"({"id":5,"subscribe":{"since":{"offset":1,"epoch":"e"},"last":0,"channel":"a:b"}})", I,
           kBad, 5, "subscribe.last and subscribe.since exclude each other"},
          // limit
          {R"({"id":5,"history":{"channel":"a:b","limit":0}})", I, kBad, 5,
           "history.limit must be an integer from 1 to 1000"},
          {R"({"id":5,"history":{"channel":"a:b","limit":1001}})", I, kBad, 5,
           "history.limit must be an integer from 1 to 1000"},
          {R"({"id":5,"history":{"channel":"a:b","limit":-5}})", I, kBad, 5,
           "history.limit must be an integer from 1 to 1000"},
          {R"({"id":5,"history":{"channel":"a:b","limit":2.5}})", I, kBad, 5,
           "history.limit must be an integer from 1 to 1000"},
          {R"({"id":5,"history":{"channel":"a:b","limit":"10"}})", I, kBad, 5,
           "history.limit must be an integer from 1 to 1000"},
      });
}

TEST(CommandParser, SizeAndDepthLimits) {
  CommandParser parser(64);
  auto r = parser.parse(R"({"id":1,"ping":{}})");
  EXPECT_TRUE(r.ok());
  r = parser.parse(R"({"id":1,"publish":{"channel":"talk:main","data":"0123456789012345678"}})");
  EXPECT_EQ(r.status, ParseStatus::TooLarge);

  CommandParser deep;
  std::string nested = R"({"id":7,"publish":{"channel":"a:b","data":)" + std::string(2000, '[') +
                       std::string(2000, ']') + "}}";
  r = deep.parse(nested);
  ASSERT_EQ(r.status, ParseStatus::Invalid);
  EXPECT_EQ(r.error, ErrorCode::BadRequest);
  EXPECT_EQ(r.message, "the command is nested too deeply");
}

TEST(CommandParser, ViewsStayValidUntilTheNextParse) {
  CommandParser parser;
  std::string text = R"({"id":5,"publish":{"channel":"talk:main","data":{"a":1},"key":"k"}})";
  auto r = parser.parse(text);
  ASSERT_TRUE(r.ok());
  text.assign(text.size(), 'x');  // the caller's buffer is reused: the command does not point in
  EXPECT_EQ(r.command.channel, "talk:main");
  EXPECT_EQ(r.command.data, R"({"a":1})");
  EXPECT_EQ(r.command.key, "k");
}

TEST(CommandParser, SteadyStateAllocatesNothing) {
  const std::vector<std::string> messages = {
      R"({"id":1,"connect":{"token":"eyJhbGciOi.x.y"}})",
      R"({"id":3,"subscribe":{"channel":"talk:main","since":{"offset":17,"epoch":"3f9a"}}})",
      R"({"id":5,"publish":{"channel":"talk:main","data":{"kind":"tomato","n":[1,2.5]},"key":"k"}})",
      R"({"id":6,"history":{"channel":"talk:main","limit":10}})",
      R"({"id":9,"ping":{}})",
      R"({"id":4,"call":{}})",  // unknown_command: a composed message
      R"({"id":5,"publish":{"channel":"a:b","data":1,"key":5}})",  // bad_request naming a field
      "not json",
  };
  CommandParser parser;
  std::string out;
  auto round = [&] {
    for (const std::string& text : messages) {
      ParseResult r = parser.parse(text);
      out.clear();
      if (r.ok() && r.command.method == Method::Publish) {
        writePubPush(out, r.command.channel, 1, r.command.data);
      } else if (r.status == ParseStatus::Invalid) {
        writeError(out, r.command.id, r.error, r.message);
      } else {
        writeEmptyResult(out, r.command.id);
      }
    }
  };
  round();  // buffers grow to what these messages need
  test::AllocationCounter counter;
  for (int i = 0; i < 10; ++i) round();
  EXPECT_EQ(counter.count(), 0u);

  // The counter does count: a buffer that must grow is one allocation.
  test::AllocationCounter check;
  out.reserve(out.capacity() * 2 + 1);
  EXPECT_EQ(check.count(), 1u);
}

// --- Server API bodies -------------------------------------------------------------------------

TEST(CommandParser, ApiBodiesAreParamsWithoutAnEnvelope) {
  CommandParser parser;
  auto r = parser.parseParams(Method::Publish,
                              R"({"channel":"#alice","data":{"note":"hi"},"key":"k1"})");
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.command.id, 0u);
  EXPECT_EQ(r.command.method, Method::Publish);
  EXPECT_EQ(r.command.channel, "#alice");
  EXPECT_EQ(r.command.data, R"({"note":"hi"})");

  r = parser.parseParams(Method::History, R"({"channel":"talk:main","limit":5})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.command.limit, 5u);

  r = parser.parseParams(Method::Publish, R"({"channel":"talk:main"})");
  ASSERT_EQ(r.status, ParseStatus::Invalid);
  EXPECT_EQ(r.message, "data is required");
  r = parser.parseParams(Method::Presence, "[]");
  ASSERT_EQ(r.status, ParseStatus::Invalid);
  EXPECT_EQ(r.message, "the body is a JSON object");
  r = parser.parseParams(Method::Presence, "{");
  EXPECT_EQ(r.status, ParseStatus::NotJson);
}

TEST(Method, WireNames) {
  EXPECT_EQ(methodName(Method::Connect), "connect");
  EXPECT_EQ(methodName(Method::Subscribe), "subscribe");
  EXPECT_EQ(methodName(Method::Unsubscribe), "unsubscribe");
  EXPECT_EQ(methodName(Method::Publish), "publish");
  EXPECT_EQ(methodName(Method::History), "history");
  EXPECT_EQ(methodName(Method::Presence), "presence");
  EXPECT_EQ(methodName(Method::Ping), "ping");
}

}  // namespace
}  // namespace duplex::hub
