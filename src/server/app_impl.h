#pragma once
// App's private state, shared with ServerConnection.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/listener.h"
#include "net/tls_context.h"
#include "server/app.h"
#include "server/routes.h"

namespace duplex {

class ServerConnection;

struct App::Impl {
  net::Loop& loop;
  AppOptions options;
  RouteTable<WebSocketBehavior> wsRoutes;
  RouteTable<HttpHandler> getRoutes;  // GET and HEAD
  RouteTable<HttpHandler> postRoutes;
  std::vector<std::unique_ptr<net::Listener>> listeners;
  std::vector<std::unique_ptr<net::TlsContext>> tlsContexts;  // one per TLS listener
  size_t connections = 0;
  // This App's connections, linked through the connections themselves (no allocation, nothing
  // per message): shutdown and destruction reach these and no other App's on the same loop.
  ServerConnection* firstConnection = nullptr;
  // Open connections per peer IP address, when AppOptions::maxConnectionsPerIp is set.
  std::unordered_map<std::string, uint32_t> connectionsPerIp;
  bool shuttingDown = false;
  bool running = false;  // inside App::run(): shutdown ends it by stopping the loop
  net::Loop::TimerId shutdownTimer = 0;

  Impl(net::Loop& l, AppOptions o) : loop(l), options(o) {}
  void accept(int fd, const net::TlsContext* tls);
  // A connection joins the list when it is made and leaves it when the loop deletes it.
  void connectionMade(ServerConnection& connection);
  void connectionGone(ServerConnection& connection);
  // Calls `action` on each of this App's connections not closed yet. A connection leaves the
  // list only when the loop deletes it, never during the walk, so `action` may close any.
  void forEachConnection(void (*action)(ServerConnection&));
};

}  // namespace duplex
