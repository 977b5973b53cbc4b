#pragma once
// duplexd's /metrics: the hub's numbers (hub/hub_metrics.h), the server's connections, the
// build, and the process, in the Prometheus text format. docs/deploy.md lists every name.
#include <string>

#include "hub/hub.h"
#include "pubsub/topics.h"
#include "server/app.h"

namespace duplexd {

std::string renderHubMetrics(const duplex::App& app, const duplex::hub::Hub& hub,
                             const duplex::pubsub::Topics& topics);

}  // namespace duplexd
