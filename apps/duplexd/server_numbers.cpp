#include "server_numbers.h"

#include <stdexcept>
#include <utility>

#include "hub/proxy_client.h"
#include "net/every_loop.h"

namespace duplexd {

LoopTopics::LoopTopics(const std::vector<duplex::net::Loop*>& loops) : loops_(loops) {
  for (duplex::net::Loop* loop : loops) {
    topics_.push_back(std::make_unique<duplex::pubsub::Topics>(*loop));
  }
}

duplex::pubsub::Topics& LoopTopics::on(const duplex::net::Loop& loop) {
  for (size_t i = 0; i < loops_.size(); ++i) {
    if (loops_[i] == &loop) return *topics_[i];
  }
  throw std::logic_error("LoopTopics: a loop it does not serve");
}

namespace {

void add(duplex::pubsub::TopicsStats& sum, const duplex::pubsub::TopicsStats& s) {
  sum.published += s.published;
  sum.delivered += s.delivered;
  sum.deliveredBytes += s.deliveredBytes;
  sum.dropped += s.dropped;
  sum.slowClosed += s.slowClosed;
  sum.compressedOnce += s.compressedOnce;
  sum.refused += s.refused;
}

}  // namespace

void gatherNumbers(duplex::hub::Hub& hub, LoopTopics& topics,
                   std::function<void(ServerNumbers)> done) {
  // Both outlive the loops' tasks: duplexd destroys them after the loops have stopped.
  duplex::net::askEveryLoop<ServerNumbers>(
      hub.loops(),
      [&hub, &topics](duplex::net::Loop& loop) {
        return ServerNumbers{hub.reportOf(loop), topics.on(loop).stats()};
      },
      [&hub, done = std::move(done)](std::vector<ServerNumbers> perLoop) {
        ServerNumbers total;
        for (const ServerNumbers& n : perLoop) {
          total.hub.add(n.hub);
          add(total.delivered, n.delivered);
        }
        if (const duplex::hub::ProxyClient* proxy = hub.proxy()) {
          total.proxy = ProxyNumbers{proxy->requests(), proxy->unavailable()};
        }
        done(std::move(total));
      });
}

}  // namespace duplexd
