#pragma once
// An App on a test-owned Loop, with handlers that record what they saw, and helpers for raw
// peers. The records are declared before the loop so that handlers still running while the
// fixture tears down find them alive.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/client.h"
#include "net/loop.h"
#include "net_test_util.h"
#include "server/app.h"
#include "server/request.h"
#include "server/websocket.h"
#include "ws_test_util.h"

namespace duplex::test {

// What the handlers of one end of a connection saw.
struct Side {
  std::vector<std::string> events;  // "open /p?q", "text hello", "binary ...", "close 1000 bye"
  int opens = 0;
  int messages = 0;
  int closes = 0;
  int drains = 0;
  int pings = 0;
  int pongs = 0;
  int errors = 0;
  uint16_t closeCode = 0;
  std::string closeReason;
  protocol::Error closeError = protocol::Error::None;  // ws.error() in the close handler
  std::string error;
  std::string subprotocol;
  WebSocket* ws = nullptr;  // while open
};

inline std::string describe(std::string_view data, Opcode opcode) {
  return std::string(opcode == Opcode::Text ? "text " : "binary ") + std::string(data);
}

class ServerFixture : public ::testing::Test {
 protected:
  Side server;
  Side client;
  net::Loop loop;
  std::unique_ptr<App> app;

  void TearDown() override {
    // Connections are deleted at the end of an iteration and report to their App then: close
    // them and let the loop delete them while the App still exists.
    for (net::Socket* socket : loop.sockets()) socket->closeNow();
    runOnce(loop);
    app.reset();
  }

  static AppOptions options() {
    AppOptions o;
    o.handleSignals = false;
    o.handshakeTimeoutSeconds = 5;
    o.shutdownTimeoutSeconds = 5;
    return o;
  }

  App& makeApp(AppOptions o = options()) {
    app = std::make_unique<App>(loop, o);
    return *app;
  }
  uint16_t listen() {
    app->listen("127.0.0.1", 0);
    return app->port();
  }
  std::string url(std::string_view target) const {
    return "ws://127.0.0.1:" + std::to_string(app->port()) + std::string(target);
  }

  // A route behavior that records into `server`.
  WebSocketBehavior recording() {
    WebSocketBehavior b;
    b.open = [this](WebSocket& ws, const Request& request) {
      server.ws = &ws;
      ++server.opens;
      server.subprotocol = std::string(request.subprotocol());
      std::string e = "open " + std::string(request.path());
      if (!request.query().empty()) e += "?" + std::string(request.query());
      server.events.push_back(e);
    };
    b.message = [this](WebSocket&, std::string_view data, Opcode opcode) {
      ++server.messages;
      server.events.push_back(describe(data, opcode));
    };
    b.close = [this](WebSocket& ws, uint16_t code, std::string_view reason) {
      server.ws = nullptr;
      ++server.closes;
      server.closeError = ws.error();
      server.closeCode = code;
      server.closeReason = std::string(reason);
      server.events.push_back("close " + std::to_string(code) + " " + std::string(reason));
    };
    b.drain = [this](WebSocket&) { ++server.drains; };
    b.ping = [this](WebSocket&, std::string_view) { ++server.pings; };
    b.pong = [this](WebSocket&, std::string_view) { ++server.pongs; };
    return b;
  }

  // A client behavior that records into `client`.
  ClientBehavior recordingClient() {
    ClientBehavior b;
    b.open = [this](WebSocket& ws) {
      client.ws = &ws;
      ++client.opens;
      client.events.push_back("open");
    };
    b.message = [this](WebSocket&, std::string_view data, Opcode opcode) {
      ++client.messages;
      client.events.push_back(describe(data, opcode));
    };
    b.close = [this](WebSocket& ws, uint16_t code, std::string_view reason) {
      client.ws = nullptr;
      ++client.closes;
      client.closeError = ws.error();
      client.closeCode = code;
      client.closeReason = std::string(reason);
      client.events.push_back("close " + std::to_string(code) + " " + std::string(reason));
    };
    b.error = [this](std::string_view error) {
      ++client.errors;
      client.error = std::string(error);
      client.events.push_back("error");
    };
    b.drain = [this](WebSocket&) { ++client.drains; };
    b.ping = [this](WebSocket&, std::string_view) { ++client.pings; };
    b.pong = [this](WebSocket&, std::string_view) { ++client.pongs; };
    return b;
  }

  // Sends `request` from `peer` and waits for the whole response head (and body).
  bool exchange(RawPeer& peer, std::string_view request, HttpReply& reply, bool headOnly = false) {
    if (!peer.send(request)) return false;
    return readReply(peer, reply, headOnly);
  }
  bool readReply(RawPeer& peer, HttpReply& reply, bool headOnly = false) {
    return runUntil(loop,
                    [&] {
                      peer.pump();
                      return takeResponse(peer.received(), reply, headOnly) || peer.ended();
                    }) &&
           reply.status != 0;
  }

  // Completes a WebSocket handshake from a raw peer; what follows the 101 stays in received().
  bool rawUpgrade(RawPeer& peer, std::string_view target, std::string_view extraHeaders = {}) {
    HttpReply reply;
    if (!exchange(peer, upgradeRequest(target, extraHeaders), reply, true)) return false;
    EXPECT_EQ(reply.status, 101);
    return reply.status == 101;
  }

  // Reads frames until `done(frames)` holds or the peer's connection ended.
  bool readFrames(RawPeer& peer, std::vector<Frame>& frames,
                  const std::function<bool(const std::vector<Frame>&)>& done,
                  uint64_t boundMs = 5000) {
    return runUntil(
               loop,
               [&] {
                 peer.pump();
                 for (Frame& f : takeFrames(peer.received())) frames.push_back(std::move(f));
                 return done(frames) || peer.ended();
               },
               boundMs) &&
           done(frames);
  }

  // Runs until every server connection is gone (deleted, so counted out).
  bool allGone(uint64_t boundMs = 5000) {
    return runUntil(
        loop, [&] { return app->connectionCount() == 0; }, boundMs);
  }
};

inline bool hasCloseFrame(const std::vector<Frame>& frames) {
  for (const Frame& f : frames) {
    if (f.opcode == 0x8) return true;
  }
  return false;
}

inline const Frame* findCloseFrame(const std::vector<Frame>& frames) {
  for (const Frame& f : frames) {
    if (f.opcode == 0x8) return &f;
  }
  return nullptr;
}

}  // namespace duplex::test
