// The proxies' sans-I/O parts: the "proxy" configuration section and the namespaces' proxy
// options, the JSON bodies the hub sends the back end, and its answers read into verdicts or
// errors (docs/protocol.md, "Proxies").
#include "hub/proxy_protocol.h"

#include <gtest/gtest.h>

#include "hub/namespaces.h"
#include "hub/proxy_config.h"

namespace duplex::hub {
namespace {

TEST(ProxyConfig, ReadsEveryProxyAndTheNamespacesThatUseThem) {
  auto config = Namespaces::fromJson(R"({
    "namespaces": {"chat": {"subscribe_proxy": true, "publish_proxy": true}, "open": {}},
    "proxy": {"connect": {"url": "http://127.0.0.1:8000/c", "timeout_ms": 250},
              "subscribe": {"url": "https://backend/s"}, "publish": {"url": "http://b/p"},
              "rpc": {"url": "http://b/r", "timeout_ms": 60000},
              "headers": ["Cookie", "Authorization"]}})");
  ASSERT_TRUE(config.ok()) << config.error().message;
  const ProxyConfig& proxy = config->proxy();
  EXPECT_EQ(proxy.connect.url, "http://127.0.0.1:8000/c");
  EXPECT_EQ(proxy.connect.timeoutMs, 250u);
  EXPECT_EQ(proxy.subscribe.timeoutMs, 1000u);  // the default
  EXPECT_EQ(proxy.rpc.timeoutMs, 60000u);
  EXPECT_EQ(proxy.headers, (std::vector<std::string>{"Cookie", "Authorization"}));
  EXPECT_TRUE(config->find("chat")->subscribeProxy);
  EXPECT_TRUE(config->find("chat")->publishProxy);
  EXPECT_FALSE(config->find("open")->publishProxy);
}

TEST(ProxyConfig, WithoutTheSectionThereAreNoProxies) {
  auto config = Namespaces::fromJson(R"({"namespaces": {"talk": {}}})");
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->proxy().any());
  EXPECT_EQ(config->proxy().headers, std::vector<std::string>{"Cookie"});
}

TEST(ProxyConfig, RefusesWhatItDoesNotUnderstandAndSaysWhere) {
  const std::pair<const char*, const char*> rows[] = {
      {R"({"proxy": []})", "proxy: must be an object"},
      {R"({"proxy": {"connect": "http://b/c"}})", "proxy.connect: must be an object"},
      {R"({"proxy": {"connect": {"url": "ftp://b/c"}}})",
       "proxy.connect.url: must be an http:// or https:// URL"},
      {R"({"proxy": {"connect": {"url": "https://"}}})",
       "proxy.connect.url: must be an http:// or https:// URL"},
      {R"({"proxy": {"rpc": {"timeout_ms": 5}}})", "proxy.rpc.url: is required"},
      {R"({"proxy": {"rpc": {"url": "http://b", "timeout_ms": 60001}}})",
       "proxy.rpc.timeout_ms: must be an integer from 1 to 60000"},
      {R"({"proxy": {"rpc": {"url": "http://b", "retries": 1}}})",
       "proxy.rpc.retries: unknown option (known: url, timeout_ms)"},
      {R"({"proxy": {"refresh": {}}})",
       "proxy.refresh: unknown option (known: connect, subscribe, publish, rpc, headers)"},
      {R"({"proxy": {"headers": ["Bad Header"]}})",
       "proxy.headers: must be a list of header names"},
      {R"({"namespaces": {"chat": {"subscribe_proxy": true}}})",
       "namespaces.chat.subscribe_proxy: needs proxy.subscribe.url"},
      {R"({"namespaces": {"chat": {"publish_proxy": 1}}})",
       "namespaces.chat.publish_proxy: must be true or false"},
  };
  for (const auto& [json, message] : rows) {
    SCOPED_TRACE(json);
    auto config = Namespaces::fromJson(json);
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.error().code, ErrorCode::BadRequest);
    EXPECT_EQ(config.error().message.substr(0, std::string_view(message).size()), message);
  }
}

TEST(ProxyRequests, AreTheJsonTheProtocolDocuments) {
  std::string out;
  writeConnectRequest(out, "c-1", {{"Cookie", "session=\"a\""}, {"X-Forwarded-For", "10.0.0.1"}});
  EXPECT_EQ(out, R"({"client":"c-1","transport":"websocket","headers":{"Cookie":"session=\"a\"",)"
                 R"("X-Forwarded-For":"10.0.0.1"}})");
  out.clear();
  writeSubscribeRequest(out, "c-1", "alice", "chat:main");
  EXPECT_EQ(out, R"({"client":"c-1","user":"alice","channel":"chat:main"})");
  out.clear();
  writePublishRequest(out, "c-1", "alice", "chat:main", R"({"text":"hi"})");
  EXPECT_EQ(out, R"({"client":"c-1","user":"alice","channel":"chat:main","data":{"text":"hi"}})");
  out.clear();
  writeRpcRequest(out, "c-2", "", "whoami", "");
  EXPECT_EQ(out, R"({"client":"c-2","user":"","method":"whoami","data":null})");
}

TEST(ProxyAnswers, ConnectGivesTheUserItsExpiryAndChannels) {
  ProxyAnswerReader reader;
  auto verdict = reader.connect(
      R"({"result": {"user": "alice", "expires": 1764000000, "channels": ["chat:news"]}})");
  ASSERT_TRUE(verdict.ok()) << verdict.error().message;
  EXPECT_EQ(verdict->user, "alice");
  EXPECT_EQ(verdict->expires, 1764000000);
  EXPECT_EQ(verdict->channels, std::vector<std::string>{"chat:news"});
  verdict = reader.connect(R"({"result": {"user": ""}})");
  ASSERT_TRUE(verdict.ok());
  EXPECT_EQ(verdict->expires, 0);
}

TEST(ProxyAnswers, ARefusalCarriesTheBackEndsCodeOrForbidden) {
  ProxyAnswerReader reader;
  auto refused = reader.connect(R"({"error": {"code": "unauthorized", "message": "log in"}})");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::Unauthorized);
  EXPECT_EQ(refused.error().message, "log in");
  auto odd = reader.subscribe(R"({"error": {"code": "nope", "message": "no"}})");
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.error().code, ErrorCode::Forbidden);  // not a protocol code
  auto bare = reader.publish(R"({"error": {"code": "rate_limited"}})");
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.error().code, ErrorCode::RateLimited);
  EXPECT_EQ(bare.error().message, "refused by the back end");
}

TEST(ProxyAnswers, PublishMayReplaceTheDataAndRpcAnswersData) {
  ProxyAnswerReader reader;
  auto keep = reader.publish(R"({"result": {}})");
  ASSERT_TRUE(keep.ok());
  EXPECT_FALSE(keep->data);
  auto replaced = reader.publish(R"({"result": {"data": {"text": "***", "n": [1, 2]}}})");
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->data, R"({"text":"***","n":[1,2]})");
  auto rpc = reader.rpc(R"({"result": {"data": 5}})");
  ASSERT_TRUE(rpc.ok());
  EXPECT_EQ(rpc->data, "5");
  auto none = reader.rpc(R"({"result": {}})");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->data, "null");
}

TEST(ProxyAnswers, MalformedAnswersAreInternalErrorsThatSayWhatIsWrong) {
  ProxyAnswerReader reader;
  const std::pair<const char*, const char*> rows[] = {
      {"<html>", "the back end's connect answer is not JSON"},
      {"[1]", "the back end's connect answer is not a JSON object"},
      {R"({"ok": true})", R"(the back end's connect answer has neither "result")"},
      {R"({"result": {}})", "the back end's connect answer needs result.user"},
      {R"({"result": {"user": 5}})", "the back end's connect answer needs result.user"},
      {R"({"result": {"user": "a", "expires": "soon"}})", "has result.expires that is not"},
      {R"({"result": {"user": "a", "channels": ["bad channel"]}})", "is not a channel name"},
      {R"({"error": {"message": "no"}})", "has an error without a code"},
  };
  for (const auto& [body, message] : rows) {
    SCOPED_TRACE(body);
    auto verdict = reader.connect(body);
    ASSERT_FALSE(verdict.ok());
    EXPECT_EQ(verdict.error().code, ErrorCode::Internal);
    EXPECT_NE(verdict.error().message.find(message), std::string::npos) << verdict.error().message;
  }
}

}  // namespace
}  // namespace duplex::hub
