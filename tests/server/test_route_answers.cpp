// What a plain HTTP request hears from routes of other kinds: the closest route pattern names
// the resource, and the method only chooses among routes that fit that closely. GET on a
// WebSocket path without Upgrade is 426 with `Upgrade: websocket` (not the "/*" files' 404), a
// known path with the wrong method 405 with `Allow`, an unknown path 404.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server_fixture.h"

namespace duplex {
namespace {

class RouteAnswers : public test::ServerFixture {
 protected:
  void SetUp() override {
    App& a = makeApp();
    a.ws("/connection", {});
    a.ws("/rooms/*", {});
    a.get("/metrics", [](const Request&, HttpResponse& r) { r.body = "metrics"; });
    a.post("/api/publish", [](const Request&, HttpResponse& r) { r.body = "published"; });
    a.get("/*", [](const Request&, HttpResponse& r) {
      r.status = 404;
      r.body = "files";
    });
    port = listen();
  }

  test::HttpReply ask(const std::string& request) {
    test::RawPeer peer(port);
    EXPECT_TRUE(peer.send(request));
    test::HttpReply reply;
    test::runUntil(loop, [&] {
      peer.pump();
      return test::takeResponse(peer.received(), reply) || peer.ended();
    });
    return reply;
  }

  uint16_t port = 0;
};

TEST_F(RouteAnswers, GetOnAWebSocketPathWithoutUpgradeIs426) {
  for (const char* path : {"/connection", "/rooms/lobby"}) {
    test::HttpReply reply = ask(test::getRequest(path));
    EXPECT_EQ(reply.status, 426) << path;
    EXPECT_EQ(reply.header("Upgrade"), "websocket") << path;
  }
}

TEST_F(RouteAnswers, AKnownPathWithTheWrongMethodIs405WithAllow) {
  struct Case {
    std::string request;
    std::string allow;
  };
  const std::vector<Case> cases = {
      {test::getRequest("/api/publish"), "POST"},
      {test::getRequest("/metrics", "POST"), "GET, HEAD"},
      {test::getRequest("/connection", "DELETE"), "GET, HEAD"},
  };
  for (const Case& c : cases) {
    test::HttpReply reply = ask(c.request);
    EXPECT_EQ(reply.status, 405) << c.request;
    EXPECT_EQ(reply.header("Allow"), c.allow) << c.request;
  }
}

TEST_F(RouteAnswers, TheRightMethodIsServedAndAnUnknownPathIs404) {
  EXPECT_EQ(ask(test::getRequest("/metrics")).body, "metrics");
  EXPECT_EQ(ask("POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").body,
            "published");
  test::HttpReply files = ask(test::getRequest("/nothing/here"));
  EXPECT_EQ(files.status, 404);
  EXPECT_EQ(files.body, "files");
}

TEST_F(RouteAnswers, WithoutACatchAllAnUnknownPathIs404) {
  App& a = makeApp();
  a.ws("/connection", {});
  port = listen();
  EXPECT_EQ(ask(test::getRequest("/elsewhere")).status, 404);
}

}  // namespace
}  // namespace duplex
