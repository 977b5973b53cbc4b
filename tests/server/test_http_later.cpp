// Handlers that answer later (HttpResponse::later()): the answer arrives when the handler's
// completion sends it, a pipelined request waits for it and is answered in order, and a client
// that goes away meanwhile leaves a send() that does nothing.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "server/http_route.h"
#include "server_fixture.h"

namespace duplex {
namespace {

class HttpLater : public test::ServerFixture {
 protected:
  std::optional<LaterResponse> waiting;  // the handler's, until the test completes it
  int asked = 0;

  void SetUp() override {
    makeApp()
        .post("/later",
              [this](const Request& request, HttpResponse& response) {
                ++asked;
                response.body = "ignored: the later response is what is sent";
                waiting = response.later();
                waiting->response().header("Content-Type", "text/plain");
                waiting->response().body = "later:" + std::string(request.body());
              })
        .get("/now", [](const Request&, HttpResponse& response) { response.body = "now"; });
    listen();
  }

  static std::string post(std::string_view body) {
    return "POST /later HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + std::string(body);
  }
};

TEST_F(HttpLater, TheAnswerLeavesWhenTheHandlerSendsIt) {
  test::RawPeer peer(app->port());
  ASSERT_TRUE(peer.send(post("abc")));
  ASSERT_TRUE(test::runUntil(loop, [&] { return waiting.has_value(); }));
  for (int i = 0; i < 5; ++i) test::runOnce(loop);
  peer.pump();
  EXPECT_TRUE(peer.received().empty()) << "answered before send(): " << peer.received();
  EXPECT_FALSE(waiting->clientGone());
  waiting->send();
  test::HttpReply reply;
  ASSERT_TRUE(readReply(peer, reply));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "later:abc");
  EXPECT_EQ(reply.header("Content-Type"), "text/plain");
  waiting->send();  // a second send() is nothing
  // Keep-alive: the connection serves the next request.
  ASSERT_TRUE(exchange(peer, test::getRequest("/now"), reply));
  EXPECT_EQ(reply.body, "now");
}

TEST_F(HttpLater, APipelinedRequestWaitsForTheLaterAnswer) {
  test::RawPeer peer(app->port());
  ASSERT_TRUE(peer.send(post("one") + test::getRequest("/now") + post("two")));
  ASSERT_TRUE(test::runUntil(loop, [&] { return waiting.has_value(); }));
  for (int i = 0; i < 5; ++i) test::runOnce(loop);
  peer.pump();
  EXPECT_TRUE(peer.received().empty());
  EXPECT_EQ(asked, 1);
  waiting->send();
  std::vector<test::HttpReply> replies;
  auto collect = [&] {
    peer.pump();
    test::HttpReply r;
    while (test::takeResponse(peer.received(), r)) replies.push_back(r);
  };
  ASSERT_TRUE(test::runUntil(loop, [&] {
    collect();
    return asked == 2 || peer.ended();
  }));
  waiting->send();
  ASSERT_TRUE(test::runUntil(loop, [&] {
    collect();
    return replies.size() == 3 || peer.ended();
  }));
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].body, "later:one");
  EXPECT_EQ(replies[1].body, "now");
  EXPECT_EQ(replies[2].body, "later:two");
}

TEST_F(HttpLater, AClientThatLeftMakesSendDoNothing) {
  {
    test::RawPeer peer(app->port());
    ASSERT_TRUE(peer.send(post("gone")));
    ASSERT_TRUE(test::runUntil(loop, [&] { return waiting.has_value(); }));
  }  // closed by the client while the handler waits
  ASSERT_TRUE(test::runUntil(loop, [&] { return waiting->clientGone(); }));
  ASSERT_TRUE(allGone());
  waiting->send();  // the connection is gone (deleted): nothing happens
  test::runOnce(loop);
  // The server goes on serving.
  test::RawPeer other(app->port());
  test::HttpReply reply;
  ASSERT_TRUE(exchange(other, test::getRequest("/now"), reply));
  EXPECT_EQ(reply.body, "now");
}

TEST(HttpResponseLater, OutsideAConnectionIsAnError) {
  HttpResponse response;
  EXPECT_THROW(response.later(), std::logic_error);
}

}  // namespace
}  // namespace duplex
