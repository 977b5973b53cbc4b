// Request bodies: POST routes get the Content-Length body, bodies that span reads are collected,
// pipelined requests after a body are understood, and what cannot be delimited safely
// (Transfer-Encoding) or is too large is refused with the right status.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server_fixture.h"

namespace duplex {
namespace {

class HttpBody : public test::ServerFixture {
 protected:
  std::vector<test::HttpReply> exchangeAll(test::RawPeer& peer, size_t want) {
    std::vector<test::HttpReply> replies;
    test::runUntil(loop, [&] {
      peer.pump();
      test::HttpReply r;
      while (test::takeResponse(peer.received(), r)) replies.push_back(r);
      return replies.size() >= want || peer.ended();
    });
    return replies;
  }
};

std::string post(std::string_view path, std::string_view body, std::string_view extra = {}) {
  return "POST " + std::string(path) +
         " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra) + "\r\n" + std::string(body);
}

TEST_F(HttpBody, PostRoutesGetTheBodyAndPipelinedRequestsFollow) {
  App& a = makeApp();
  std::vector<std::string> bodies;
  a.post("/api/echo", [&](const Request& request, HttpResponse& response) {
    bodies.emplace_back(request.body());
    response.body = "got " + std::string(request.body());
  });
  a.get("/health", [](const Request&, HttpResponse& r) { r.body = "ok"; });
  test::RawPeer peer(listen());
  std::string big(200 * 1024, 'b');  // spans many reads
  ASSERT_TRUE(peer.send(post("/api/echo", "{\"a\":1}") + post("/api/echo", big) +
                        test::getRequest("/health")));
  auto replies = exchangeAll(peer, 3);
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].status, 200);
  EXPECT_EQ(replies[0].body, "got {\"a\":1}");
  EXPECT_EQ(replies[1].body, "got " + big);
  EXPECT_EQ(replies[2].body, "ok");
  EXPECT_EQ(bodies, (std::vector<std::string>{"{\"a\":1}", big}));
}

struct Refusal {
  const char* name;
  std::string request;
  int status;
};

TEST_F(HttpBody, UndelimitableOrOversizeBodiesAreRefused) {
  const std::vector<Refusal> cases = {
      {"chunked",
       "POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n",
       501},
      {"two lengths",
       "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
       "Content-Length: 4\r\n\r\nabcd",
       400},
      {"signed length", "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
      {"too large", "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413},
      {"GET on a POST route", test::getRequest("/api/echo"), 405},
  };
  for (const Refusal& c : cases) {
    App& a = makeApp();
    a.post("/api/echo", [](const Request&, HttpResponse& r) { r.body = "should not run"; });
    test::RawPeer peer(listen());
    ASSERT_TRUE(peer.send(c.request)) << c.name;
    auto replies = exchangeAll(peer, 1);
    ASSERT_FALSE(replies.empty()) << c.name;
    EXPECT_EQ(replies[0].status, c.status) << c.name;
    EXPECT_NE(replies[0].body, "should not run") << c.name;
  }
}

}  // namespace
}  // namespace duplex
