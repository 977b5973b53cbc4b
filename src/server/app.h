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
  // closed or this many seconds have passed. Watched from the first listen() on (or from run()
  // for an App that never listens), so a signal that arrives between the two still shuts down
  // gracefully: whoever saw the port can stop the server.
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
  // Event loops, each on its own thread (run() runs the first on the calling thread). A
  // connection stays on the loop that accepted it for its whole life, and its handlers run on
  // that loop's thread: handlers of different connections may run at the same time, so what
  // they share must be per loop (App::loop(i), pubsub::Topics over the app) or thread-safe.
  // One listener accepts on the first loop and hands connections to the loops in turn.
  uint32_t threads = 1;
  // Benchmark/diagnostic knob: instead of the round-robin hand-off, every loop accepts from its
  // own SO_REUSEPORT socket and the kernel spreads connections by a hash of their addresses.
  // Round-robin spreads more evenly (docs/architecture.md, "threads"); leave it off.
  bool acceptOnEveryLoop = false;
  // The kernel interface of the loops the App makes (net/io_backend.h): Default follows
  // DUPLEX_IO_BACKEND (epoll when unset); IoUring falls back to epoll, logged once, when the
  // kernel refuses it. An App on a caller's loop gives its other loops that loop's backend.
  net::IoBackend backend = net::IoBackend::Default;
};

// Serving wss:// (and https:// for the GET routes) on a listener.
struct TlsOptions {
  std::string certFile;  // PEM: the certificate, then its intermediates
  std::string keyFile;   // PEM, unencrypted
};

class App {
 public:
  explicit App(AppOptions options = {});
  // Runs on a loop the caller owns (several apps, or an app beside clients, on one loop). With
  // options.threads > 1 that loop is the first; the App owns the others.
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
  // How the server's own refusals are written for paths matching `pattern` (a route pattern):
  // the answers it gives before or instead of a handler, such as a malformed head (400), a body
  // over maxBodySize (413), a request line over 8 KiB (414: the target's beginning is the path
  // matched), Transfer-Encoding (501), a method the path does not take (405) or too many
  // connections (503). An API under a prefix answers them in its own error shape this way.
  // Elsewhere, and when not even the request line could be read, they are text/plain.
  App& refusals(std::string pattern, RefusalWriter write);

  // Binds and listens (before run() when there are several loops); throws std::system_error /
  // std::runtime_error naming the address when it cannot. Port 0 picks a free port (see port()).
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

  // Runs the loops (the first on this thread, the others on threads of their own) until
  // shutdown() (or a signal, see AppOptions) has closed every connection on every loop. An
  // exception thrown on a loop's thread shuts the app down and is rethrown here.
  void run();
  // Thread-safe. Stops accepting, sends close 1001 to every WebSocket of this App on every
  // loop, and ends run() once they are closed or the deadline has passed (then the rest are
  // dropped). Other Apps on the same loop keep their connections; on a loop the caller runs
  // itself (not through run()), the caller decides when the loop stops.
  void shutdown();

  // The loops, loop(0) first. Work for a loop from any thread goes through
  // loop(i).post(task), which is thread-safe; net::Loop::current() says which loop (if any)
  // the calling thread runs.
  net::Loop& loop(size_t index = 0);
  size_t loopCount() const;
  std::vector<net::Loop*> loops();  // for objects serving every loop (pubsub::Topics)
  // This App's open connections (HTTP and WebSocket) on every loop together, not the loops'
  // other sockets; thread-safe.
  size_t connectionCount() const;
  // Connections each loop has accepted since the start: how evenly they were spread.
  std::vector<uint64_t> acceptedPerLoop() const;
  // This App's open connections by phase, on every loop together (for /metrics); thread-safe.
  struct ConnectionCounts {
    size_t handshaking = 0;  // HTTP: before an upgrade, or plain requests (keep-alive)
    size_t open = 0;         // WebSockets, closing ones included
  };
  ConnectionCounts connectionCounts() const;

  struct Impl;

 private:
  // AppOptions::handleSignals: once, on the first loop, before any of its threads start.
  void watchShutdownSignals();

  std::unique_ptr<Impl> impl_;
  net::Lifeline<App> lifeline_{this};  // what the loop's signal handlers capture
};

}  // namespace duplex
