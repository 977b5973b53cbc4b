// redis:// and rediss:// URLs: what each good one means, and one readable line for each bad one.
#include <gtest/gtest.h>

#include <string>

#include "net_test_util.h"
#include "redis/redis.h"

namespace duplex::redis {
namespace {

struct Good {
  const char* name;
  const char* url;
  const char* host;
  uint16_t port;
  const char* user;
  const char* password;
  int db;
  bool tls;
  const char* text;  // Endpoint::text(): no password
};

// gtest would print the struct's bytes (padding included) in test names' comments.
void PrintTo(const Good& c, std::ostream* out) {
  *out << c.url;
}

class RedisUrlGood : public ::testing::TestWithParam<Good> {};

TEST_P(RedisUrlGood, Parses) {
  const Good& c = GetParam();
  std::string error;
  auto e = parseUrl(c.url, &error);
  ASSERT_TRUE(e) << error;
  EXPECT_EQ(e->host, c.host);
  EXPECT_EQ(e->port, c.port);
  EXPECT_EQ(e->user, c.user);
  EXPECT_EQ(e->password, c.password);
  EXPECT_EQ(e->db, c.db);
  EXPECT_EQ(e->tls, c.tls);
  EXPECT_EQ(e->text(), c.text);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RedisUrlGood,
    ::testing::Values(
        Good{"HostOnly", "redis://localhost", "localhost", 6379, "", "", 0, false,
             "redis://localhost:6379"},
        Good{"PortAndDb", "redis://127.0.0.1:7000/3", "127.0.0.1", 7000, "", "", 3, false,
             "redis://127.0.0.1:7000/3"},
        Good{"TrailingSlashIsDbZero", "redis://h:1/", "h", 1, "", "", 0, false, "redis://h:1"},
        Good{"PasswordOnly", "redis://:s3cret@h", "h", 6379, "", "s3cret", 0, false,
             "redis://h:6379"},
        Good{"UserAndPassword", "rediss://alice:pw@h:6380/1", "h", 6380, "alice", "pw", 1, true,
             "rediss://alice@h:6380/1"},
        Good{"PercentEncodedPassword", "redis://:p%40ss%3Aw%2Fd@h", "h", 6379, "", "p@ss:w/d", 0,
             false, "redis://h:6379"},
        Good{"AtSignInPassword", "redis://:a@b@h:2", "h", 2, "", "a@b", 0, false, "redis://h:2"},
        Good{"Ipv6", "redis://[::1]:6390/2", "::1", 6390, "", "", 2, false, "redis://[::1]:6390/2"},
        Good{"SchemeIsCaseInsensitive", "REDISS://h", "h", 6379, "", "", 0, true,
             "rediss://h:6379"}),
    test::CaseName());

struct Bad {
  const char* name;
  const char* url;
  const char* says;  // a part of the error line
};

void PrintTo(const Bad& c, std::ostream* out) {
  *out << c.url;
}

class RedisUrlBad : public ::testing::TestWithParam<Bad> {};

TEST_P(RedisUrlBad, OneReadableLine) {
  const Bad& c = GetParam();
  std::string error;
  EXPECT_FALSE(parseUrl(c.url, &error));
  EXPECT_NE(error.find(c.says), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
  EXPECT_EQ(error.rfind("bad Redis URL: ", 0), 0u) << error;
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << "the password leaked: " << error;
}

INSTANTIATE_TEST_SUITE_P(
    Table, RedisUrlBad,
    ::testing::Values(Bad{"Empty", "", "redis://"},
                      Bad{"WrongScheme", "http://h:6379", "redis:// or rediss://"},
                      Bad{"NoScheme", "localhost:6379", "redis:// or rediss://"},
                      Bad{"NoHost", "redis://", "no host"},
                      Bad{"NoHostAfterPassword", "redis://:hunter2@:6379", "no host"},
                      Bad{"PortNotANumber", "redis://h:abc", "port 'abc'"},
                      Bad{"PortZero", "redis://h:0", "port '0'"},
                      Bad{"PortTooLarge", "redis://h:65536", "port '65536'"},
                      Bad{"EmptyPort", "redis://h:", "empty port"},
                      Bad{"DbNotANumber", "redis://h/x", "database 'x'"},
                      Bad{"NegativeDb", "redis://h/-1", "database '-1'"},
                      Bad{"Query", "redis://h?db=1", "query"},
                      Bad{"UserWithoutPassword", "redis://alice@h", "USER:PASSWORD"},
                      Bad{"UserWithEmptyPassword", "redis://alice:@h", "has no password"},
                      Bad{"BadPercent", "redis://:hunter2%zz@h", "percent-encoding"},
                      Bad{"UnclosedBracket", "redis://[::1:6379", "'['"}),
    test::CaseName());

TEST(RedisUrl, ErrorMayBeNull) {
  EXPECT_FALSE(parseUrl("nope", nullptr));
}

}  // namespace
}  // namespace duplex::redis
