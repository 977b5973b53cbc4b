#pragma once
// duplexd's fan-out over its loops and the numbers /metrics and the admin page show. Each loop
// has its own pubsub::Topics (the in-process engine hands each loop what its subscribers get,
// and carries what crosses loops itself), and its own part of the hub's counters: the numbers
// are gathered by asking every loop on its own thread (net/every_loop.h), so nothing on the
// message path is shared between loops, and a scrape reads no other thread's memory.
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "hub/hub.h"
#include "net/loop.h"
#include "pubsub/topics.h"

namespace duplexd {

// One Topics per loop, each delivering to that loop's connections only.
class LoopTopics {
 public:
  explicit LoopTopics(const std::vector<duplex::net::Loop*>& loops);
  duplex::pubsub::Topics& on(const duplex::net::Loop& loop);
  const std::vector<duplex::net::Loop*>& loops() const { return loops_; }

 private:
  std::vector<duplex::net::Loop*> loops_;
  std::vector<std::unique_ptr<duplex::pubsub::Topics>> topics_;  // in the order of loops_
};

// The back end's proxies (hub/proxy_client.h): counted by the one ProxyClient all loops share.
struct ProxyNumbers {
  uint64_t requests = 0;
  uint64_t unavailable = 0;
};

struct ServerNumbers {
  duplex::hub::HubReport hub;
  duplex::pubsub::TopicsStats delivered;  // every loop's publications to subscribers
  std::optional<ProxyNumbers> proxy;      // when the hub has proxies
};

// Every loop's numbers, added up and handed to `done` on the calling loop (later).
void gatherNumbers(duplex::hub::Hub& hub, LoopTopics& topics,
                   std::function<void(ServerNumbers)> done);

}  // namespace duplexd
