// parseWebSocketUrl and hostHeader, as a table.
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "client/url.h"
#include "net_test_util.h"

namespace duplex {
namespace {

struct UrlCase {
  const char* name;
  const char* url;
  bool ok;
  bool secure = false;
  const char* host = "";
  uint16_t port = 0;
  const char* target = "";
  const char* hostHeader = "";
};
// Failure messages name the row rather than dumping its bytes.
void PrintTo(const UrlCase& c, std::ostream* os) {
  *os << c.name;
}

class UrlTable : public ::testing::TestWithParam<UrlCase> {};

TEST_P(UrlTable, Parses) {
  const UrlCase& c = GetParam();
  WebSocketUrl url;
  std::string error;
  bool ok = parseWebSocketUrl(c.url, url, error);
  ASSERT_EQ(ok, c.ok) << c.url << ": "
                      << (ok ? "accepted as host '" + url.host + "' port " +
                                   std::to_string(url.port)
                             : error);
  if (!ok) {
    EXPECT_FALSE(error.empty());
    return;
  }
  EXPECT_EQ(url.secure, c.secure);
  EXPECT_EQ(url.host, c.host);
  EXPECT_EQ(url.port, c.port);
  EXPECT_EQ(url.target, c.target);
  EXPECT_EQ(url.hostHeader(), c.hostHeader);
}

INSTANTIATE_TEST_SUITE_P(
    Table, UrlTable,
    ::testing::Values(
        UrlCase{"plain", "ws://example.com/chat", true, false, "example.com", 80, "/chat",
                "example.com"},
        UrlCase{"no_path", "ws://example.com", true, false, "example.com", 80, "/", "example.com"},
        UrlCase{"secure_default_port", "wss://example.com/", true, true, "example.com", 443, "/",
                "example.com"},
        UrlCase{"explicit_port", "ws://127.0.0.1:9001/echo", true, false, "127.0.0.1", 9001,
                "/echo", "127.0.0.1:9001"},
        UrlCase{"default_port_written", "ws://h:80/", true, false, "h", 80, "/", "h"},
        UrlCase{"secure_port_80", "wss://h:80/", true, true, "h", 80, "/", "h:80"},
        UrlCase{"leading_zeros", "ws://h:0080/", true, false, "h", 80, "/", "h"},
        UrlCase{"query_and_path", "ws://h/a/b?x=1&y=2", true, false, "h", 80, "/a/b?x=1&y=2", "h"},
        UrlCase{"query_without_path", "ws://h?x=1", true, false, "h", 80, "/?x=1", "h"},
        UrlCase{"query_without_path_with_port", "ws://h:81?x=1", true, false, "h", 81, "/?x=1",
                "h:81"},
        UrlCase{"ipv6", "ws://[::1]:9001/p", true, false, "::1", 9001, "/p", "[::1]:9001"},
        UrlCase{"ipv6_default_port", "ws://[2001:db8::7]/", true, false, "2001:db8::7", 80, "/",
                "[2001:db8::7]"},
        UrlCase{"ipv6_query_without_path", "ws://[::1]?q", true, false, "::1", 80, "/?q", "[::1]"},
        UrlCase{"max_port", "ws://h:65535/", true, false, "h", 65535, "/", "h:65535"},
        UrlCase{"uppercase_scheme", "WS://h/", true, false, "h", 80, "/", "h"},
        UrlCase{"fragment", "ws://h/p#frag", false},
        UrlCase{"fragment_after_query", "ws://h/p?q#frag", false},
        UrlCase{"http_scheme", "http://h/", false}, UrlCase{"no_scheme", "h:80/", false},
        UrlCase{"empty_host", "ws:///p", false},
        UrlCase{"empty_host_with_port", "ws://:80/", false},
        UrlCase{"port_zero", "ws://h:0/", false}, UrlCase{"port_too_big", "ws://h:65536/", false},
        UrlCase{"port_huge", "ws://h:99999999999999999999/", false},
        UrlCase{"port_not_a_number", "ws://h:abc/", false},
        UrlCase{"port_trailing_garbage", "ws://h:80x/", false},
        UrlCase{"port_negative", "ws://h:-1/", false},
        UrlCase{"ipv6_unterminated", "ws://[::1/", false},
        UrlCase{"ipv6_garbage_after", "ws://[::1]x/", false},
        UrlCase{"ipv6_unbracketed", "ws://::1/", false}),
    test::CaseName());

}  // namespace
}  // namespace duplex
