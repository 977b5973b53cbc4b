#pragma once
// /metrics in the Prometheus text format (version 0.0.4): what the server and pub/sub layers
// count. (The retired /ws endpoint's counters went with it.)
#include <string>

#include "pubsub/topics.h"
#include "server/app.h"

namespace duplexd {

std::string renderMetrics(const duplex::App& app, const duplex::pubsub::Topics& topics);

}  // namespace duplexd
