// Where a JSON text goes wrong: the scanner that turns simdjson's "what" into "where" points at
// the first byte that cannot continue the text, counts lines and columns from 1, and finds no
// place in a well-formed text. The parser and the namespace config put the place in their
// messages.
#include <gtest/gtest.h>

#include <string>

#include "hub/hub_protocol.h"
#include "hub/json_error_position.h"
#include "hub/namespaces.h"

namespace duplex::hub {
namespace {

struct Case {
  const char* text;
  size_t offset, line, column;
};

TEST(JsonErrorPosition, PointsAtTheFirstByteThatCannotContinue) {
  const Case cases[] = {
      {"{\"a\": 1,}", 8, 1, 9},                    // trailing comma: the '}' is wrong
      {"{\"a\": tru}", 9, 1, 10},                  // a broken literal
      {"{\n  \"a\": 1\n  \"b\": 2\n}", 13, 3, 3},  // a missing comma on line 3
      {"[1, 2", 5, 1, 6},                          // ended early: the place is the end
      {"{\"a\": 01}", 7, 1, 8},                    // no leading zeros
      {"{\"a\": \"x\\q\"}", 9, 1, 10},             // an unknown escape
      {"{\"a\": 1} x", 9, 1, 10},                  // content after the value
      {"", 0, 1, 1},
  };
  for (const Case& c : cases) {
    auto place = findJsonError(c.text);
    ASSERT_TRUE(place) << c.text;
    EXPECT_EQ(place->offset, c.offset) << c.text;
    EXPECT_EQ(place->line, c.line) << c.text;
    EXPECT_EQ(place->column, c.column) << c.text;
  }
}

TEST(JsonErrorPosition, FindsNoPlaceInWellFormedJson) {
  for (const char* text :
       {"{}", " [1, -2.5e+3, \"\\u00e9\", true, false, null, {\"a\": []}] ", "\"x\"", "0"}) {
    EXPECT_FALSE(findJsonError(text)) << text;
  }
  EXPECT_EQ(describeJsonError("{}", "odd"), "odd");
}

TEST(JsonErrorPosition, DeepNestingIsRefusedWithoutExhaustingTheStack) {
  std::string deep(100'000, '[');
  EXPECT_TRUE(findJsonError(deep));
}

TEST(JsonErrorPosition, TheParserAndTheConfigSayWhere) {
  CommandParser parser;
  ParseResult parsed = parser.parseParams(Method::Publish, "{\"channel\": \"a\",\n \"data\": }");
  EXPECT_EQ(parsed.status, ParseStatus::NotJson);
  EXPECT_EQ(parsed.message, "not JSON at line 2, column 10 (byte 26)");

  auto config = Namespaces::fromJson("{\"namespaces\": {\n  \"talk\": {\"presence\": yes}\n}}");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("at line 2, column 24"), std::string::npos)
      << config.error().message;
}

}  // namespace
}  // namespace duplex::hub
