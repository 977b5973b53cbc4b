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
  // Open connections per peer IP address, when AppOptions::maxConnectionsPerIp is set.
  std::unordered_map<std::string, uint32_t> connectionsPerIp;
  bool shuttingDown = false;
  net::Loop::TimerId shutdownTimer = 0;

  Impl(net::Loop& l, AppOptions o) : loop(l), options(o) {}
  void accept(int fd, const net::TlsContext* tls);
  void connectionGone();
};

}  // namespace duplex
