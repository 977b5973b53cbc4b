#pragma once
// duplexd's /metrics: the hub's numbers (hub/hub_metrics.h), the server's connections, the
// build, and the process, in the Prometheus text format. docs/deploy.md lists every name.
#include <string>

#include "server/app.h"
#include "server_numbers.h"

namespace duplexd {

// `numbers`: every loop's, gathered by gatherNumbers().
std::string renderHubMetrics(const duplex::App& app, const ServerNumbers& numbers);

}  // namespace duplexd
