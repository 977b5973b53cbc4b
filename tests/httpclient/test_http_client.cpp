// The loop-driven HTTP client (src/httpclient) against a real HTTP/1.1 server on loopback:
// answers with their status and body, chunked bodies, headers sent, a timeout that does not
// hold up other requests or the loop, a refused connection, and a kept-alive connection reused.
#include "httpclient/http_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "http_backend.h"
#include "net/loop.h"
#include "net_test_util.h"

namespace duplex::httpclient {
namespace {

class HttpClientTest : public ::testing::Test {
 protected:
  // Posts and runs the loop until answered.
  HttpAnswer postAndWait(const std::string& url, std::string body = "{}",
                         uint32_t timeoutMs = 2000) {
    std::optional<HttpAnswer> answer;
    client.post({url, std::move(body), {}, timeoutMs},
                [&](HttpAnswer&& a) { answer = std::move(a); });
    EXPECT_TRUE(test::runUntil(
        loop, [&] { return answer.has_value(); }, 5000));
    return answer.value_or(HttpAnswer{});
  }

  test::HttpBackend backend;
  net::Loop loop;
  HttpClient client{loop};
};

TEST_F(HttpClientTest, PostsTheBodyAndHeadersAndGetsTheAnswer) {
  std::optional<HttpAnswer> answer;
  bool calledInsidePost = true;
  client.post({backend.url("/echo"), R"({"hello":"back end"})", {{"Cookie", "session=abc"}}, 2000},
              [&](HttpAnswer&& a) { answer = std::move(a); });
  calledInsidePost = answer.has_value();
  EXPECT_FALSE(calledInsidePost);
  EXPECT_EQ(client.inFlight(), 1u);
  ASSERT_TRUE(test::runUntil(loop, [&] { return answer.has_value(); }));
  ASSERT_TRUE(answer->answered()) << answer->error;
  EXPECT_EQ(answer->status, 200);
  EXPECT_NE(answer->body.find(R"("body": "{\"hello\":\"back end\"}")"), std::string::npos)
      << answer->body;
  EXPECT_NE(answer->body.find(R"("Cookie": "session=abc")"), std::string::npos) << answer->body;
  EXPECT_NE(answer->body.find(R"("Content-Type": "application/json")"), std::string::npos);
  EXPECT_EQ(client.inFlight(), 0u);
}

TEST_F(HttpClientTest, AnErrorStatusIsAnAnswerWithItsStatus) {
  HttpAnswer answer = postAndWait(backend.url("/status/503"));
  ASSERT_TRUE(answer.answered()) << answer.error;
  EXPECT_EQ(answer.status, 503);
  EXPECT_EQ(answer.body, R"({"status": 503})");
}

TEST_F(HttpClientTest, ReadsAChunkedBody) {
  HttpAnswer answer = postAndWait(backend.url("/chunked"));
  ASSERT_TRUE(answer.answered()) << answer.error;
  EXPECT_EQ(answer.body, R"({"chunked": "yes"})");
}

// libcurl asks a large body (with Debian's 7.88: one of 2 MiB, not one of 100 KB) to
// "Expect: 100-continue", then waits up to a second for an answer that many small servers
// never send. The request must not ask: the backend echoes the headers it got. (Not a bound on
// the time taken: a busy machine breaks that, and this backend, Python's http.server, answers
// 100 Continue at once, so it would not show the wait anyway.)
TEST_F(HttpClientTest, ALargeBodyIsSentWithoutWaitingForContinue) {
  const size_t size = 2 << 20;
  std::string body = "\"" + std::string(size - 2, 'x') + "\"";
  HttpAnswer answer = postAndWait(backend.url("/echo"), body);
  ASSERT_TRUE(answer.answered()) << answer.error;
  EXPECT_EQ(answer.status, 200);
  const std::string headers = answer.body.substr(std::min(answer.body.size(), size));
  EXPECT_NE(headers.find("\"Content-Length\": \"" + std::to_string(size) + "\""), std::string::npos)
      << headers;
  EXPECT_EQ(headers.find("\"Expect\""), std::string::npos) << headers;
}

TEST_F(HttpClientTest, ASlowAnswerTimesOutWithoutHoldingUpTheLoopOrOtherRequests) {
  std::optional<HttpAnswer> slow, quick;
  uint64_t start = test::monotonicMs();
  client.post({backend.url("/slow?ms=3000"), "{}", {}, 300},
              [&](HttpAnswer&& a) { slow = std::move(a); });
  client.post({backend.url("/echo"), "{}", {}, 2000},
              [&](HttpAnswer&& a) { quick = std::move(a); });
  int ticks = 0;
  net::Loop::TimerId tick = loop.setInterval(50, [&] { ++ticks; });
  ASSERT_TRUE(test::runUntil(loop, [&] { return slow && quick; }));
  loop.cancelTimer(tick);
  uint64_t elapsed = test::monotonicMs() - start;
  ASSERT_TRUE(quick->answered()) << quick->error;
  EXPECT_EQ(slow->failure, HttpFailure::Timeout) << slow->error;
  EXPECT_GE(elapsed, 300u);
  EXPECT_LT(elapsed, 2000u);
  EXPECT_GE(ticks, 3);  // the loop's timers kept running meanwhile
}

TEST_F(HttpClientTest, NobodyListeningIsRefused) {
  HttpAnswer answer = postAndWait("http://127.0.0.1:" + std::to_string(test::unusedLoopbackPort()) + "/x");
  EXPECT_EQ(answer.failure, HttpFailure::Refused) << answer.error;
  EXPECT_FALSE(answer.error.empty());
}

TEST_F(HttpClientTest, AKeptAliveConnectionIsReused) {
  HttpAnswer first = postAndWait(backend.url("/echo"));
  HttpAnswer second = postAndWait(backend.url("/echo"));
  HttpAnswer third = postAndWait(backend.url("/echo"));
  ASSERT_TRUE(first.answered() && second.answered() && third.answered());
  EXPECT_EQ(client.connectionsOpened(), 1u);
  auto peerPort = [](const std::string& body) { return body.substr(body.find("\"peer_port\"")); };
  EXPECT_EQ(peerPort(first.body), peerPort(third.body));
}

TEST_F(HttpClientTest, RequestsAtOnceOpenConnectionsSideBySide) {
  int answered = 0;
  for (int i = 0; i < 4; ++i) {
    client.post({backend.url("/slow?ms=500"), "{}", {}, 3000}, [&](HttpAnswer&& a) {
      EXPECT_TRUE(a.answered()) << a.error;
      ++answered;
    });
  }
  uint64_t start = test::monotonicMs();
  ASSERT_TRUE(test::runUntil(loop, [&] { return answered == 4; }));
  EXPECT_LT(test::monotonicMs() - start, 1500u);  // not one after the other (2000)
  EXPECT_EQ(client.connectionsOpened(), 4u);
}

TEST_F(HttpClientTest, DestroyingTheClientAbandonsWhatIsInFlight) {
  bool called = false;
  auto other = std::make_unique<HttpClient>(loop);
  other->post({backend.url("/slow?ms=200"), "{}", {}, 2000}, [&](HttpAnswer&&) { called = true; });
  test::runFor(loop, 50);
  other.reset();
  test::runFor(loop, 400);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace duplex::httpclient
