// ProxyClient against a real HTTP server (tests/httpclient/http_backend.py): one ProxyClient
// asked from two loop threads answers each request on the loop that asked (a hub spanning loops
// asks from each connection's own loop), with the connection's headers; and a back end nobody
// listens on is `unavailable`, saying so.
#include "hub/proxy_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "http_backend.h"
#include "net/loop.h"
#include "net_test_util.h"

namespace duplex::hub {
namespace {

TEST(ProxyClient, AnswersOnTheLoopThatAsked) {
  test::HttpBackend backend;
  net::Loop a, b;
  ProxyConfig config;
  config.connect.url = backend.url("/proxy/connect");
  ProxyClient proxy(a, config);
  struct Seen {
    std::atomic<net::Loop*> loop{nullptr};
    std::string user;
    std::atomic<bool> done{false};
  } seenA, seenB;
  ProxyHeaders headersA = {{"Cookie", "session=a"}};
  ProxyHeaders headersB = {{"Cookie", "session=b"}};
  auto ask = [&](net::Loop& loop, Seen& seen, const ProxyHeaders& headers) {
    loop.post([&] {
      proxy.connect({"c-1", "", headers}, [&](HubResult<ConnectVerdict>&& verdict) {
        seen.loop = net::Loop::current();
        seen.user = verdict.ok() ? verdict->user : verdict.error().message;
        seen.done = true;
        loop.stop();
      });
    });
  };
  ask(a, seenA, headersA);
  ask(b, seenB, headersB);
  std::thread threadB([&] { b.run(); });
  a.run();
  threadB.join();
  ASSERT_TRUE(seenA.done && seenB.done);
  EXPECT_EQ(seenA.loop.load(), &a);
  EXPECT_EQ(seenB.loop.load(), &b);
  EXPECT_EQ(seenA.user, "session=a");
  EXPECT_EQ(seenB.user, "session=b");
  EXPECT_EQ(proxy.requests(), 2u);
  EXPECT_EQ(proxy.unavailable(), 0u);
}

TEST(ProxyClient, ABackEndNobodyListensOnIsUnavailable) {
  net::Loop loop;
  ProxyConfig config;
  config.publish.url = "http://127.0.0.1:1/publish";  // port 1: nobody listens
  ProxyClient proxy(loop, config);
  std::optional<HubError> error;
  ProxyHeaders none;
  proxy.publish({"c-1", "alice", none}, "chat:main", R"({"text":"hi"})",
                [&](HubResult<PublishVerdict>&& verdict) {
                  ASSERT_FALSE(verdict.ok());
                  error = verdict.error();
                });
  ASSERT_TRUE(test::runUntil(loop, [&] { return error.has_value(); }));
  EXPECT_EQ(error->code, ErrorCode::Unavailable);
  EXPECT_EQ(error->message, "the back end's publish proxy cannot be reached");
  EXPECT_EQ(proxy.unavailable(), 1u);
}

}  // namespace
}  // namespace duplex::hub
