// An App listening with TLS and our client connecting to it over wss://, on one loop.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "client/client.h"
#include "net/tls_session.h"
#include "server/app.h"
#include "test_pki.h"

namespace duplex {
namespace {

using test::pkiFile;

class TlsApp : public ::testing::Test {
 protected:
  TlsApp() : app_(loop_, quietOptions()) {
    WebSocketBehavior echo;
    echo.maxMessageSize = 4 << 20;
    echo.open = [this](WebSocket& ws, const Request&) {
      serverSawTls_ = ws.tls() != nullptr && ws.tls()->alpn() == "http/1.1";
    };
    echo.message = [](WebSocket& ws, std::string_view data, Opcode opcode) {
      if (data == "burst") {
        // Many small messages in one iteration: they leave as a few records (see
        // tls_session_test) in one sendmsg.
        for (int i = 0; i < 1000; ++i) ws.send("burst " + std::to_string(i));
        return;
      }
      ws.send(data, opcode);
    };
    app_.ws("/*", std::move(echo));
  }

  static AppOptions quietOptions() {
    AppOptions options;
    options.handleSignals = false;
    return options;
  }

  std::string listen() {
    app_.listen("127.0.0.1", 0, TlsOptions{pkiFile("server.pem"), pkiFile("server.key")});
    return "wss://127.0.0.1:" + std::to_string(app_.port()) + "/echo";
  }

  // Runs the loop until `done` is set or 20 s pass.
  void runUntil(const bool& done) {
    net::Loop::TimerId check = loop_.setInterval(10, [&] {
      if (done) loop_.stop();
    });
    net::Loop::TimerId limit = loop_.setTimeout(20000, [&] { loop_.stop(); });
    loop_.run();
    loop_.cancelTimer(check);
    loop_.cancelTimer(limit);
  }

  ClientBehavior trusting() {
    ClientBehavior behavior;
    behavior.tls.caFile = pkiFile("ca.pem");
    behavior.maxMessageSize = 4 << 20;
    return behavior;
  }

  net::Loop loop_;
  App app_;
  bool serverSawTls_ = false;
};

std::string randomBytes(size_t size) {
  std::mt19937 random(11);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

TEST_F(TlsApp, EchoesOneMebibyteEachWay) {
  std::string url = listen();
  std::vector<std::string> messages = {"hello", randomBytes(1 << 20), "", randomBytes(70000)};
  size_t next = 0;
  bool done = false;
  std::string problem;
  ClientBehavior behavior = trusting();
  behavior.open = [&](WebSocket& ws) { ws.sendBinary(messages[0]); };
  behavior.message = [&](WebSocket& ws, std::string_view data, Opcode) {
    if (data != messages[next]) problem = "echo " + std::to_string(next) + " differs";
    if (++next < messages.size()) {
      ws.sendBinary(messages[next]);
    } else {
      ws.close(1000);
    }
  };
  behavior.close = [&](WebSocket&, uint16_t code, std::string_view) {
    if (code != 1000) problem = "closed with " + std::to_string(code);
    done = true;
  };
  behavior.error = [&](std::string_view error) {
    problem = std::string(error);
    done = true;
  };
  connect(loop_, url, std::move(behavior));
  runUntil(done);
  EXPECT_TRUE(done);
  EXPECT_EQ(problem, "");
  EXPECT_EQ(next, messages.size());
  EXPECT_TRUE(serverSawTls_);
}

TEST_F(TlsApp, ABurstOfSmallMessagesArrivesInOrder) {
  std::string url = listen();
  int received = 0;
  bool done = false;
  ClientBehavior behavior = trusting();
  behavior.open = [&](WebSocket& ws) { ws.send("burst"); };
  behavior.message = [&](WebSocket& ws, std::string_view data, Opcode) {
    EXPECT_EQ(data, "burst " + std::to_string(received));
    if (++received == 1000) ws.close(1000);
  };
  behavior.close = [&](WebSocket&, uint16_t, std::string_view) { done = true; };
  behavior.error = [&](std::string_view error) {
    ADD_FAILURE() << error;
    done = true;
  };
  connect(loop_, url, std::move(behavior));
  runUntil(done);
  EXPECT_EQ(received, 1000);
}

TEST_F(TlsApp, VerificationFailureReachesTheErrorCallback) {
  std::string url = listen();
  std::string error;
  bool done = false;
  bool opened = false;
  ClientBehavior behavior = trusting();
  behavior.tls.serverName = "wrong.example";
  behavior.open = [&](WebSocket&) { opened = true; };
  behavior.error = [&](std::string_view e) {
    error = std::string(e);
    done = true;
  };
  connect(loop_, url, std::move(behavior));
  runUntil(done);
  EXPECT_FALSE(opened);
  EXPECT_EQ(error, "certificate verify failed: hostname mismatch");
}

TEST_F(TlsApp, UnreadableCaFileReachesTheErrorCallback) {
  std::string url = listen();
  std::string error;
  bool done = false;
  ClientBehavior behavior = trusting();
  behavior.tls.caFile = "/nonexistent/ca.pem";
  behavior.error = [&](std::string_view e) {
    error = std::string(e);
    done = true;
  };
  connect(loop_, url, std::move(behavior));
  runUntil(done);
  EXPECT_EQ(error, "cannot load trusted CAs from /nonexistent/ca.pem: No such file or directory");
}

TEST_F(TlsApp, ListenWithUnusableFilesThrows) {
  EXPECT_THROW(app_.listen("127.0.0.1", 0, TlsOptions{pkiFile("server.pem"), "/nonexistent.key"}),
               net::TlsError);
}

TEST_F(TlsApp, ReloadFailsWholeAndServingGoesOn) {
  // Copies the test can break, as a renewal that went wrong would.
  std::string dir = std::filesystem::path(pkiFile("ca.pem")).parent_path() / "reload-app";
  std::filesystem::create_directories(dir);
  std::string cert = dir + "/live.pem", key = dir + "/live.key";
  auto copy = [](const std::string& from, const std::string& to) {
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  };
  copy(pkiFile("server.pem"), cert);
  copy(pkiFile("server.key"), key);
  app_.listen("127.0.0.1", 0, TlsOptions{cert, key});
  std::string url = "wss://127.0.0.1:" + std::to_string(app_.port()) + "/";

  auto roundTrip = [&] {
    bool done = false;
    bool echoed = false;
    ClientBehavior behavior = trusting();
    behavior.open = [&](WebSocket& ws) { ws.send("ping?"); };
    behavior.message = [&](WebSocket& ws, std::string_view data, Opcode) {
      echoed = data == "ping?";
      ws.close(1000);
    };
    behavior.close = [&](WebSocket&, uint16_t, std::string_view) { done = true; };
    behavior.error = [&](std::string_view) { done = true; };
    connect(loop_, url, std::move(behavior));
    runUntil(done);
    return echoed;
  };

  EXPECT_TRUE(roundTrip());
  copy(pkiFile("renewed.key"), key);  // the key changed, the certificate not yet
  EXPECT_THROW(app_.reloadTls(), net::TlsError);
  EXPECT_TRUE(roundTrip());
  copy(pkiFile("renewed.pem"), cert);
  EXPECT_NO_THROW(app_.reloadTls());
  EXPECT_TRUE(roundTrip());
}

}  // namespace
}  // namespace duplex
