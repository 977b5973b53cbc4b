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
    a.refusals("/api/*", [this](const Refusal& refusal, HttpResponse& response) {
      response.header("Content-Type", "application/json");
      response.body = "{\"refused\":" + std::to_string(response.status) + ",\"reason\":\"" +
                      std::string(refusal.reason) + "\"}";
      refusedPaths.push_back(std::string(refusal.method) + " " + std::string(refusal.path));
    });
    return a;
  }

  std::vector<std::string> refusedPaths;  // "METHOD PATH" as each refusal's writer was told

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
      // A request line over 8 KiB: its target's beginning still says it is under the prefix.
      {"target too long",
       "GET /api/echo?" + std::string(9000, 'q') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414,
       "request target too long: the request line is over 8 KiB"},
      {"target too long, no end in sight", "POST /api/" + std::string(9000, 'a'), 414,
       "request target too long: the request line is over 8 KiB"},
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
      {"target too long outside the prefix",
       "GET /other?" + std::string(9000, 'q') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414,
       "request target too long: the request line is over 8 KiB"},
      // No method and target to read in 8 KiB: the head is what is too large.
      {"a method of 9 KiB", std::string(9000, 'M') + " /api/echo HTTP/1.1\r\n\r\n", 431,
       "request head larger than 8 KiB"},
  };
  for (const Case& c : cases) {
    makeApi();
    test::HttpReply reply = ask(c.request);
    EXPECT_EQ(reply.status, c.status) << c.name;
    EXPECT_EQ(reply.header("Content-Type"), "text/plain; charset=utf-8") << c.name;
    EXPECT_EQ(reply.body, std::string(c.reason) + "\n") << c.name;
  }
}

TEST_F(Refusals, TheWriterIsToldTheMethodAndThePathAsFarAsItWasRead) {
  makeApi();
  EXPECT_EQ(ask("PUT /api/echo?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status, 405);
  makeApi();
  EXPECT_EQ(ask("GET /api/echo?" + std::string(9000, 'q') + " HTTP/1.1\r\n\r\n").status, 414);
  makeApi();
  EXPECT_EQ(ask("POST /api/" + std::string(9000, 'a')).status, 414);
  ASSERT_EQ(refusedPaths.size(), 3u);
  EXPECT_EQ(refusedPaths[0], "PUT /api/echo");
  EXPECT_EQ(refusedPaths[1], "GET /api/echo");
  // The target's first bytes, up to the 8 KiB the request line may take.
  EXPECT_EQ(refusedPaths[2].rfind("POST /api/aaaa", 0), 0u);
  EXPECT_EQ(refusedPaths[2].size(), protocol::kMaxHeadSize);
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
