// rediss://: a TLS-only redis-server (Debian builds it with TLS) with certificates of the TLS
// tests' throwaway PKI (tests/tls/pki.py): commands and pub/sub work when the client trusts the
// test CA, and a client trusting another CA fails with a clear reason.
#include <gtest/gtest.h>

#include <string>

#include "redis_test_util.h"
#include "test_pki.h"

namespace duplex::redis {
namespace {

using test::must;
using test::pkiFile;
using test::quickOptions;
using test::RedisServer;
using test::runUntil;
using test::Transitions;

std::vector<std::string> tlsArgs() {
  return {"--tls-cert-file",    pkiFile("server.pem"), "--tls-key-file",     pkiFile("server.key"),
          "--tls-ca-cert-file", pkiFile("ca.pem"),     "--tls-auth-clients", "no"};
}

#define START_TLS_SERVER(server)                                                     \
  RedisServer server(tlsArgs(), true);                                               \
  if (!server.running() && server.startError().find("tls") != std::string::npos)     \
    GTEST_SKIP() << "this redis-server has no TLS support: " << server.startError(); \
  ASSERT_TRUE(server.running()) << server.startError()

TEST(RedisTls, CommandsAndPubSubOverRediss) {
  START_TLS_SERVER(server);
  net::Loop loop;
  Options options = quickOptions();
  options.tlsCaFile = pkiFile("ca.pem");
  Connection c(loop, test::endpointOf(server.url(":", "/2")), options);
  Subscriber s(loop, test::endpointOf(server.url()), options);
  std::vector<std::string> got;
  s.onMessage([&](std::string_view, std::string_view payload) { got.emplace_back(payload); });
  s.subscribe("secure");
  ASSERT_TRUE(runUntil(loop, [&] { return c.isConnected() && s.isConnected(); }));
  std::string big(3 * 1024 * 1024, 'z');  // many TLS records each way
  must(loop, c, {"SET", "k", big});
  EXPECT_TRUE(must(loop, c, {"GET", "k"}).string == big);
  EXPECT_EQ(must(loop, c, {"PUBLISH", "secure", "over tls"}).integer, 1);
  ASSERT_TRUE(runUntil(loop, [&] { return got.size() == 1; }));
  EXPECT_EQ(got[0], "over tls");
}

TEST(RedisTls, AServerCertificateFromAnotherCaIsAClearDown) {
  START_TLS_SERVER(server);
  net::Loop loop;
  Options options = quickOptions();
  options.tlsCaFile = pkiFile("rogue-ca.pem");
  options.connectTimeoutMs = 10000;  // the failure, not a slow handshake (valgrind), must show
  Connection c(loop, test::endpointOf(server.url()), options);
  Transitions seen;
  seen.watch(c);
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() > 0; }));
  EXPECT_NE(seen.events[0].find("TLS"), std::string::npos) << seen.events[0];
  EXPECT_NE(seen.events[0].find("certificate verify failed"), std::string::npos) << seen.events[0];
  EXPECT_FALSE(test::run(loop, c, {"PING"}).ok);
}

TEST(RedisTls, PlainRedisUrlAgainstATlsPortFails) {
  START_TLS_SERVER(server);
  net::Loop loop;
  Options options = quickOptions();
  options.connectTimeoutMs = 300;
  std::string url = "redis://127.0.0.1:" + std::to_string(server.port());
  Connection c(loop, test::endpointOf(url), options);
  Transitions seen;
  seen.watch(c);
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() > 0; }));
  EXPECT_EQ(seen.ups(), 0);
}

TEST(RedisTls, AnUnreadableCaFileIsAClearDown) {
  net::Loop loop;
  Options options = quickOptions();
  options.tlsCaFile = "/nonexistent/ca.pem";
  Connection c(loop, test::endpointOf("rediss://127.0.0.1:1"), options);
  Transitions seen;
  seen.watch(c);
  ASSERT_TRUE(runUntil(loop, [&] { return seen.downs() > 0; }));
  EXPECT_NE(seen.events[0].find("/nonexistent/ca.pem"), std::string::npos) << seen.events[0];
}

}  // namespace
}  // namespace duplex::redis
