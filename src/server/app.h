#pragma once
// The face users see: routes, listening, running. An echo server is
//
//   duplex::App app;
//   app.ws("/*", {.message = [](duplex::WebSocket& ws, std::string_view data, duplex::Opcode op) {
//     ws.send(data, op);
//   }});
//   app.listen("127.0.0.1", 9001).run();
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/lifeline.h"
#include "net/listener.h"
#include "net/loop.h"
#include "net/tls_context.h"
#include "server/behavior.h"
#include "server/http_route.h"
#include "server/websocket.h"

namespace duplex {

struct AppOptions {
  // Time a client has to send its complete handshake (slowloris defence).
  uint32_t handshakeTimeoutSeconds = 10;
  // On SIGINT/SIGTERM: send every WebSocket close 1001 and return from run() once all are
  // closed or this many seconds have passed.
  bool handleSignals = true;
  uint32_t shutdownTimeoutSeconds = 5;
  // Beyond these many open connections (in total, or from one IP address) new ones are answered
  // 503 Service Unavailable at their first request. 0 = no limit (the fd limit still holds).
  uint32_t maxConnections = 0;
  uint32_t maxConnectionsPerIp = 0;
  // Request bodies (POST routes) up to this size; larger ones get 413. Chunked bodies get 501.
  size_t maxBodySize = 1 << 20;
  // Benchmark/diagnostic knob, not a tuning one: false turns corking off on the loop the app
  // runs on (net::Loop::setCorking), so every frame leaves in its own syscall. It exists to
  // measure what corking buys (docs/performance.md); leave it on.
  bool cork = true;
};

// Serving wss:// (and https:// for the GET routes) on a listener.
struct TlsOptions {
  std::string certFile;  // PEM: the certificate, then its intermediates
  std::string keyFile;   // PEM, unencrypted
};

class App {
 public:
  explicit App(AppOptions options = {});
  // Runs on a loop the caller owns (several apps, or an app beside clients, on one loop).
  App(net::Loop& loop, AppOptions options = {});
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Route patterns: an exact path ("/chat"), a prefix ending in "*" ("/rooms/*"), or "/*"
  // for everything. Exact routes win over prefixes, longer prefixes over shorter ones.
  App& ws(std::string pattern, WebSocketBehavior behavior);
  App& get(std::string pattern, HttpHandler handler);  // GET and HEAD
  // POST with a Content-Length body (Request::body(); at most AppOptions::maxBodySize).
  App& post(std::string pattern, HttpHandler handler);

  // Binds and listens; throws std::system_error / std::runtime_error naming the address when it
  // cannot. Port 0 picks a free port (see port()).
  App& listen(std::string_view host, uint16_t port);
  // The same with TLS (1.2 and 1.3, ALPN http/1.1); the handshake is part of
  // AppOptions::handshakeTimeoutSeconds. Also throws net::TlsError for unusable files.
  App& listen(std::string_view host, uint16_t port, const TlsOptions& tls);
  // Reads every TLS listener's certificate and key files again (after a renewal replaced them):
  // new connections get the new ones, open ones keep theirs. Throws net::TlsError and keeps
  // the current certificates when a file is unusable.
  void reloadTls();
  // Calls reloadTls() whenever the process receives `signal` (SIGHUP, as certificate renewal
  // tools expect), logging the outcome; a failed reload keeps the current certificates.
  void reloadTlsOnSignal(int signal);
  uint16_t port() const;

  // Runs the loop until shutdown() (or a signal, see AppOptions) has closed every connection.
  void run();
  // Stops accepting, sends close 1001 to every WebSocket of this App, and ends run() once they
  // are closed or the deadline has passed (then the rest are dropped). Other Apps on the same
  // loop keep their connections; on a loop the caller runs itself (not through run()), the
  // caller decides when the loop stops.
  void shutdown();

  net::Loop& loop() { return *loop_; }
  // This App's connections (HTTP and WebSocket), not the loop's.
  size_t connectionCount() const;
  // Connections by phase, counted by walking the loop's sockets: for /metrics, not hot paths.
  struct ConnectionCounts {
    size_t handshaking = 0;  // HTTP: before an upgrade, or plain requests (keep-alive)
    size_t open = 0;         // WebSockets, closing ones included
  };
  ConnectionCounts connectionCounts() const;

  struct Impl;

 private:
  std::unique_ptr<net::Loop> ownedLoop_;
  net::Loop* loop_;
  std::unique_ptr<Impl> impl_;
  net::Lifeline<App> lifeline_{this};  // what the loop's signal handlers capture
};

}  // namespace duplex
