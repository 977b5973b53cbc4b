// TLS, permessage-deflate and static files on every loop of a four-loop App, and a certificate
// reload from another thread while the loops accept.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "multiloop_fixture.h"
#include "net/tls_session.h"
#include "test_pki.h"

namespace duplex {
namespace {

using test::ServerThread;

std::string compressible(int i) {
  std::string s = "{\"n\":" + std::to_string(i) + ",\"text\":\"";
  while (s.size() < 1000) s += "tomato tomato tomato ";
  return s + "\"}";
}

TEST(MultiLoopFeatures, TlsAndCompressionOnEveryLoopWithAReloadMeanwhile) {
  constexpr int kClients = 16;
  constexpr int kMessages = 10;
  App app(test::multiLoopOptions(4));
  std::atomic<int> tlsAndDeflate{0}, wrongThread{0};
  std::vector<std::atomic<int>> perLoop(4);
  WebSocketBehavior b;
  b.compression.enabled = true;
  b.open = [&](WebSocket& ws, const Request&) {
    if (ws.tls() && ws.isCompressed()) ++tlsAndDeflate;
    if (!test::onOwnLoop(ws)) ++wrongThread;
    ++perLoop[static_cast<size_t>(test::loopIndex(app, ws.loop()))];
  };
  b.message = [](WebSocket& ws, std::string_view data, Opcode op) { ws.send(data, op); };
  app.ws("/*", std::move(b));
  app.listen("127.0.0.1", 0, TlsOptions{test::pkiFile("server.pem"), test::pkiFile("server.key")});
  std::string url = "wss://127.0.0.1:" + std::to_string(app.port()) + "/echo";
  ServerThread thread(app);
  thread.start();

  net::Loop loop;
  int echoed = 0, wrong = 0, closed = 0, compressedClients = 0;
  std::vector<WebSocket*> clients;
  for (int i = 0; i < kClients; ++i) {
    ClientBehavior c;
    c.tls.caFile = test::pkiFile("ca.pem");
    c.open = [&](WebSocket& ws) {
      compressedClients += ws.isCompressed();
      clients.push_back(&ws);
      for (int m = 0; m < kMessages; ++m) ws.send(compressible(m));
    };
    c.message = [&, next = 0](WebSocket&, std::string_view data, Opcode) mutable {
      if (data != compressible(next++)) ++wrong;
      ++echoed;
    };
    c.close = [&](WebSocket&, uint16_t, std::string_view) { ++closed; };
    connect(loop, url, std::move(c));
    // Half way, the certificate is reloaded from this thread while the loops accept.
    if (i == kClients / 2) app.reloadTls();
  }
  ASSERT_TRUE(test::runUntil(
      loop, [&] { return echoed == kClients * kMessages; }, 20000))
      << echoed;
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(compressedClients, kClients);
  EXPECT_EQ(tlsAndDeflate.load(), kClients);
  EXPECT_EQ(wrongThread.load(), 0);
  for (auto& n : perLoop) EXPECT_EQ(n.load(), kClients / 4);
  for (WebSocket* ws : clients) ws->close();
  ASSERT_TRUE(test::runUntil(loop, [&] { return closed == kClients; }));
  EXPECT_LT(thread.stop(), 2000u);
}

// A blocking HTTP/1.1 GET with Connection: close; the whole response.
std::string get(uint16_t port, const std::string& path) {
  int fd = test::connectTcp(port);
  if (fd < 0) return {};
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return {};
  }
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) response.append(buffer, size_t(n));
  ::close(fd);
  return response;
}

TEST(MultiLoopFeatures, StaticFilesOnEveryLoop) {
  std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("duplex-multiloop-" + std::to_string(::getpid()));
  std::filesystem::create_directories(root);
  std::ofstream(root / "hello.txt") << "hello from a file";
  App app(test::multiLoopOptions(4));
  app.get("/static/*", files(root));
  app.listen("127.0.0.1", 0);
  ServerThread thread(app);
  thread.start();
  for (int i = 0; i < 8; ++i) {
    std::string response = get(app.port(), "/static/hello.txt");
    EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
    EXPECT_NE(response.find("\r\n\r\nhello from a file"), std::string::npos) << response;
  }
  EXPECT_EQ(app.acceptedPerLoop(), (std::vector<uint64_t>{2, 2, 2, 2}));
  thread.stop();
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace duplex
