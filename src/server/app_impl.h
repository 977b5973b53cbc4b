#pragma once
// App's private state, shared with ServerConnection.
//
// Threads: with AppOptions::threads = N the App has N loops, each run by its own thread, and
// every connection lives on one of them for its whole life. Per-loop state (LoopState) is
// touched only on its loop's thread. What is shared between loops is read-only once run()
// starts (options, routes), atomic (the connection count), or taken under a lock once per
// connection, never per message (the per-IP counts, the TLS contexts a reload swaps).
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/listener.h"
#include "net/tls_context.h"
#include "server/app.h"
#include "server/routes.h"

namespace duplex {

class ServerConnection;

struct App::Impl {
  // A descriptor accepted on one loop for another, with the listener's TLS context.
  struct Accepted {
    int fd;
    const net::TlsContext* tls;
  };

  struct LoopState {
    net::Loop* loop;
    size_t index;
    size_t connections = 0;  // this App's, open on this loop
    // Connections ever adopted by this loop: how evenly accepts are spread (tests, benchmark).
    std::atomic<uint64_t> accepted{0};
    bool shuttingDown = false;
    // Inside App::run() (always, for the loops the App owns beyond the first): shutdown ends
    // it by stopping the loop. A loop the caller runs itself stops when the caller says.
    bool runByApp = false;
    net::Loop::TimerId shutdownTimer = 0;
    // Listeners whose accepts this loop runs: all of them on loop 0 (round-robin), or one
    // SO_REUSEPORT socket per address on every loop (AppOptions::acceptOnEveryLoop).
    std::vector<std::unique_ptr<net::Listener>> listeners;
    // Round-robin: descriptors accepted this iteration for other loops, by loop index; handed
    // over at the end of the iteration, one post (one wake-up) per loop per batch.
    std::vector<std::vector<Accepted>> handoffs;
    bool handoffScheduled = false;

    LoopState(net::Loop& l, size_t i) : loop(&l), index(i), runByApp(i > 0) {}
  };

  AppOptions options;
  RouteTable<WebSocketBehavior> wsRoutes;
  RouteTable<HttpHandler> getRoutes;  // GET and HEAD
  RouteTable<HttpHandler> postRoutes;
  RouteTable<RefusalWriter> refusalWriters;  // App::refusals
  std::vector<std::unique_ptr<net::Loop>> ownedLoops;
  std::vector<std::unique_ptr<LoopState>> loops;              // loops[0] runs on run()'s thread
  std::vector<std::unique_ptr<net::TlsContext>> tlsContexts;  // one per TLS listen()
  // Held while a connection's TLS session is made from a context and while reloadTls swaps
  // the contexts: once per connection, and only for TLS listeners.
  std::mutex tlsMutex;
  size_t nextLoop = 0;  // round-robin cursor (touched only by the accepting loop, loop 0)
  std::atomic<size_t> connections{0};  // open on every loop together
  std::atomic<size_t> webSockets{0};   // of those, upgraded (App::connectionCounts)
  // Open connections per peer IP address, when AppOptions::maxConnectionsPerIp is set.
  std::mutex perIpMutex;
  std::unordered_map<std::string, uint32_t> connectionsPerIp;
  std::atomic<bool> shuttingDown{false};
  bool watchingSignals = false;  // App::watchShutdownSignals ran
  // run() is running the loops (one or several): work for a loop from another thread is posted.
  std::atomic<bool> threadsRunning{false};

  Impl(AppOptions o) : options(o) {}
  LoopState& stateOf(const net::Loop& loop);
  // A listener on `on` accepted `fd`: keep it there or hand it to the next loop in turn.
  void accepted(LoopState& on, int fd, const net::TlsContext* tls);
  void sendHandoffs(LoopState& from);
  void adopt(LoopState& state, int fd, const net::TlsContext* tls);
  // A connection joins its loop's list when it is made and leaves it when the loop deletes it.
  void connectionMade(ServerConnection& connection);
  void connectionGone(ServerConnection& connection);
  // Calls `action` on each of this App's connections on that loop not closed yet. A connection
  // leaves the list only when the loop deletes it, never during the walk, so `action` may
  // close any.
  void forEachConnection(LoopState& state, void (*action)(ServerConnection&));
  // Runs `task` on the loop's thread: now when called there (or before the threads run),
  // otherwise posted.
  void runOn(LoopState& state, std::function<void()> task);
  void shutdownLoop(LoopState& state);
};

}  // namespace duplex
