#pragma once
// The admin page at /admin (web/admin/): live plots of connections, messages/s, publishes/s and
// store latency, the channels with subscribers and offsets, a channel's presence, publish, and
// disconnecting a user. Behind a secret: --admin-password, or else the API key.
//
// The page's numbers come over a WebSocket (/admin/live) that pushes, once a second, the same
// counters /metrics exposes (hub_metrics.h); the browser turns counters into rates. A browser
// cannot put a header on a WebSocket, so the secret is the socket's first message; a wrong one
// is answered {"type":"refused"} and close 4001, and that socket gets no second try. The page's
// actions go through the server API (/api/*), which takes the admin password as its key.
// Watchers may be on any loop: each loop keeps its own and pushes to them, once a second, the
// numbers of every loop (gatherNumbers).
#include <memory>
#include <string>

#include "hub/hub.h"
#include "server/app.h"
#include "server_numbers.h"

namespace duplexd {

class AdminPage {
 public:
  // Mounts GET /admin, GET /admin/* (the page's files under webDir/admin) and /admin/live.
  // An empty secret leaves the page visible and every login refused. `route` holds the limits,
  // compression and origin check every WebSocket route of duplexd starts from.
  // Construct and destroy it while the App's loops do not run.
  AdminPage(duplex::App& app, duplex::hub::Hub& hub, LoopTopics& topics, std::string secret,
            const std::string& webDir, duplex::WebSocketBehavior route);
  ~AdminPage();
  AdminPage(const AdminPage&) = delete;
  AdminPage& operator=(const AdminPage&) = delete;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace duplexd
