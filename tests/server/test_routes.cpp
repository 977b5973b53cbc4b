// Routing: the RouteTable on its own (exact beats prefix, longest prefix wins, the wildcard's
// text), and the choice between a WebSocket route and an HTTP route for one path.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "server/routes.h"
#include "server_fixture.h"

namespace duplex {
namespace {

struct RouteCase {
  const char* name;
  std::vector<std::string> patterns;  // added in this order; the target is the index
  std::string path;
  int expected;  // index of the winning pattern, -1 for no match
  std::string wildcard;
};
// Failure messages name the row rather than dumping its bytes.
void PrintTo(const RouteCase& c, std::ostream* os) {
  *os << c.name;
}

class RouteTableTable : public ::testing::TestWithParam<RouteCase> {};

TEST_P(RouteTableTable, Finds) {
  const RouteCase& c = GetParam();
  RouteTable<int> table;
  for (size_t i = 0; i < c.patterns.size(); ++i) table.add(c.patterns[i], static_cast<int>(i));
  auto match = table.find(c.path);
  if (c.expected < 0) {
    EXPECT_EQ(match.target, nullptr);
    return;
  }
  ASSERT_NE(match.target, nullptr);
  EXPECT_EQ(*match.target, c.expected)
      << "matched " << c.patterns[static_cast<size_t>(*match.target)];
  EXPECT_EQ(match.wildcard, c.wildcard);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RouteTableTable,
    ::testing::Values(
        RouteCase{"exact", {"/chat"}, "/chat", 0, ""},
        RouteCase{"exact_is_not_a_prefix", {"/chat"}, "/chat/x", -1, ""},
        RouteCase{"exact_needs_the_whole_path", {"/chat/"}, "/chat", -1, ""},
        RouteCase{"catch_all", {"/*"}, "/a/b.css", 0, "a/b.css"},
        RouteCase{"catch_all_root", {"/*"}, "/", 0, ""},
        RouteCase{"exact_beats_prefix_added_before", {"/*", "/chat"}, "/chat", 1, ""},
        RouteCase{"exact_beats_longer_prefix", {"/chat*", "/chat"}, "/chat", 1, ""},
        RouteCase{"exact_beats_prefix_added_after", {"/chat", "/*"}, "/chat", 0, ""},
        RouteCase{"longest_prefix_added_first", {"/a/b/*", "/a/*", "/*"}, "/a/b/c", 0, "c"},
        RouteCase{"longest_prefix_added_last", {"/*", "/a/*", "/a/b/*"}, "/a/b/c", 2, "c"},
        RouteCase{"shorter_prefix_when_longer_misses", {"/a/b/*", "/a/*"}, "/a/x", 1, "x"},
        RouteCase{"prefix_with_empty_wildcard", {"/static/*"}, "/static/", 0, ""},
        RouteCase{"prefix_needs_its_slash", {"/static/*"}, "/static", -1, ""},
        RouteCase{"prefix_is_textual", {"/static*"}, "/staticfoo", 0, "foo"},
        RouteCase{"wildcard_keeps_deep_path", {"/rooms/*"}, "/rooms/a/b/c", 0, "a/b/c"},
        RouteCase{"no_route", {"/a", "/b/*"}, "/c", -1, ""},
        RouteCase{"first_of_equal_exacts", {"/x", "/x"}, "/x", 0, ""},
        RouteCase{"first_of_equal_prefixes", {"/x/*", "/x/*"}, "/x/y", 0, "y"}),
    test::CaseName());

class Routing : public test::ServerFixture {};

TEST_F(Routing, PlainGetGoesToTheHttpRouteAndAnUpgradeToTheWebSocketRoute) {
  App& a = makeApp();
  a.ws("/*", recording());
  a.get("/health", [](const Request&, HttpResponse& r) { r.body = "ok"; });
  uint16_t port = listen();

  test::RawPeer http(port);
  test::HttpReply reply;
  ASSERT_TRUE(exchange(http, test::getRequest("/health"), reply));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "ok");

  test::RawPeer ws(port);
  ASSERT_TRUE(rawUpgrade(ws, "/health"));
  ASSERT_TRUE(test::runUntil(loop, [&] { return server.opens == 1; }));
  EXPECT_EQ(server.events.front(), "open /health");
}

TEST_F(Routing, UnknownPathIs404) {
  App& a = makeApp();
  a.ws("/ws", recording());
  a.get("/health", [](const Request&, HttpResponse& r) { r.body = "ok"; });
  uint16_t port = listen();
  for (const char* request : {"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", "upgrade"}) {
    test::RawPeer peer(port);
    test::HttpReply reply;
    std::string bytes = std::string(request) == "upgrade" ? test::upgradeRequest("/nope") : request;
    ASSERT_TRUE(exchange(peer, bytes, reply));
    EXPECT_EQ(reply.status, 404);
  }
  EXPECT_EQ(server.opens, 0);
}

TEST_F(Routing, KeepAliveGetThenUpgradeOnTheSameConnection) {
  App& a = makeApp();
  a.ws("/ws", recording());
  a.get("/health", [](const Request&, HttpResponse& r) { r.body = "ok"; });
  test::RawPeer peer(listen());
  test::HttpReply reply;
  ASSERT_TRUE(exchange(peer, test::getRequest("/health"), reply));
  EXPECT_EQ(reply.status, 200);
  ASSERT_TRUE(rawUpgrade(peer, "/ws"));
  ASSERT_TRUE(peer.send(test::clientFrame(Opcode::Text, "after upgrade")));
  ASSERT_TRUE(test::runUntil(loop, [&] { return server.messages == 1; }));
  EXPECT_EQ(server.events, (std::vector<std::string>{"open /ws", "text after upgrade"}));
}

TEST_F(Routing, GetWithABodyDoesNotDesynchroniseKeepAlive) {
  // RFC 9112 6.3: a request's body is delimited by Content-Length. A server that ignores it
  // reads the body as the start of the next request: the classic request-smuggling desync.
  // Either skipping the body or refusing the request and closing is fine; answering the body
  // bytes as if they were a request is not.
  App& a = makeApp();
  int calls = 0;
  a.get("/health", [&calls](const Request&, HttpResponse& r) {
    ++calls;
    r.body = "ok";
  });
  test::RawPeer peer(listen());
  const std::string body = test::getRequest("/smuggled");
  ASSERT_TRUE(peer.send(
      "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body + test::getRequest("/health")));
  std::vector<test::HttpReply> replies;
  ASSERT_TRUE(test::runUntil(loop, [&] {
    peer.pump();
    test::HttpReply r;
    while (test::takeResponse(peer.received(), r)) replies.push_back(r);
    return replies.size() >= 2 || peer.ended();
  }));
  for (const test::HttpReply& r : replies) {
    EXPECT_NE(r.status, 404) << "the body was answered as a request (GET /smuggled...)";
  }
  if (replies.size() >= 2) {
    EXPECT_EQ(replies[0].status, 200);
    EXPECT_EQ(replies[1].status, 200) << "the request after the body was not understood";
  }
}

}  // namespace
}  // namespace duplex
