// App::refusals: the server's own refusals (made before or instead of a handler) written in the
// shape an API under a prefix promises, with their status and required headers kept; text/plain
// elsewhere and where no path could be read; and no body after a HEAD.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server_fixture.h"

namespace duplex {
namespace {

class Refusals : public test::ServerFixture {
 protected:
  // An API under /api/* that answers its refusals as {"refused":STATUS,"reason":"..."}.
  App& makeApi(AppOptions o = options()) {
    App& a = makeApp(o);
    a.post("/api/echo", [](const Request&, HttpResponse& r) { r.body = "should not run"; });
    a.post("/other", [](const Request&, HttpResponse& r) { r.body = "should not run"; });
    a.refusals("/api/*", [](std::string_view reason, HttpResponse& response) {
      response.header("Content-Type", "application/json");
      response.body = "{\"refused\":" + std::to_string(response.status) + ",\"reason\":\"" +
                      std::string(reason) + "\"}";
    });
    return a;
  }

  test::HttpReply ask(std::string_view request, bool headOnly = false) {
    test::RawPeer peer(listen());
    test::HttpReply reply;
    EXPECT_TRUE(exchange(peer, request, reply, headOnly)) << request;
    return reply;
  }
};

struct Case {
  const char* name;
  std::string request;
  int status;
  const char* reason;
};

TEST_F(Refusals, EveryRefusalUnderThePrefixIsInItsShape) {
  const std::vector<Case> cases = {
      {"chunked",
       "POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501,
       "Transfer-Encoding is not supported; send Content-Length"},
      {"too large", "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413,
       "request body larger than 1048576 bytes"},
      {"two lengths",
       "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
       400, "bad Content-Length header"},
      {"bad header", "POST /api/echo HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400,
       "header line without a colon"},
      {"wrong method", "PUT /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405,
       "method PUT not allowed on /api/echo (it takes POST)"},
      {"no route", "POST /api/nothing HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 404,
       "no route for /api/nothing"},
      // Heads refused before they are parsed whole: the request line still names the path.
      {"head too large",
       "POST /api/echo HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'b') + "\r\n\r\n", 431,
       "request head larger than 8 KiB"},
      {"bare LFs", "POST /api/echo HTTP/1.1\nHost: x\n\n", 400, "request lines must end with CRLF"},
  };
  for (const Case& c : cases) {
    makeApi();
    test::HttpReply reply = ask(c.request);
    EXPECT_EQ(reply.status, c.status) << c.name;
    EXPECT_EQ(reply.header("Content-Type"), "application/json") << c.name;
    EXPECT_EQ(reply.body,
              "{\"refused\":" + std::to_string(c.status) + ",\"reason\":\"" + c.reason + "\"}")
        << c.name;
    EXPECT_EQ(reply.header("Connection"), "close") << c.name;
    if (c.status == 405) {
      EXPECT_EQ(reply.header("Allow"), "POST") << c.name;
    }
  }
}

TEST_F(Refusals, TooManyConnectionsKeepsRetryAfter) {
  AppOptions o = options();
  o.maxConnections = 1;
  makeApi(o);
  test::RawPeer first(listen());
  ASSERT_TRUE(test::runUntil(loop, [&] { return app->connectionCount() == 1; }));
  test::HttpReply reply;
  test::RawPeer second(app->port());
  ASSERT_TRUE(
      exchange(second, "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", reply));
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.header("Retry-After"), "5");
  EXPECT_EQ(reply.body, R"({"refused":503,"reason":"too many connections"})");
}

TEST_F(Refusals, ElsewhereAndWithoutAPathTheyArePlainText) {
  const std::vector<Case> cases = {
      {"outside the prefix",
       "POST /other HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501,
       "Transfer-Encoding is not supported; send Content-Length"},
      {"no request line to read", "POST\r\nHost: x\r\n\r\n", 400, "malformed request line"},
  };
  for (const Case& c : cases) {
    makeApi();
    test::HttpReply reply = ask(c.request);
    EXPECT_EQ(reply.status, c.status) << c.name;
    EXPECT_EQ(reply.header("Content-Type"), "text/plain; charset=utf-8") << c.name;
    EXPECT_EQ(reply.body, std::string(c.reason) + "\n") << c.name;
  }
}

TEST_F(Refusals, AHeadRequestGetsTheHeadWithoutTheBody) {
  for (bool underPrefix : {true, false}) {
    makeApi();
    test::RawPeer peer(listen());
    test::HttpReply reply;
    std::string path = underPrefix ? "/api/echo" : "/other";
    ASSERT_TRUE(exchange(peer, "HEAD " + path + " HTTP/1.1\r\nHost: x\r\n\r\n", reply, true));
    EXPECT_EQ(reply.status, 405) << path;
    EXPECT_NE(reply.header("Content-Length"), "0") << path << ": the length a GET's body has";
    ASSERT_TRUE(test::runUntil(loop, [&] {
      peer.pump();
      return peer.ended();
    }));
    EXPECT_EQ(peer.received(), "") << path << ": a body after the head of a HEAD answer";
  }
}

}  // namespace
}  // namespace duplex
