#pragma once
// duplexd's routes for operators: /healthz (liveness: the loop answers), /readyz (readiness:
// the store can be read and written, else 503 with the reason) and /metrics (Prometheus).
#include <functional>
#include <string>

#include "hub/hub.h"
#include "readiness.h"
#include "server/app.h"
#include "server_numbers.h"

namespace duplexd {

// `moreMetrics`, when given, is appended to /metrics (families of other parts of duplexd).
// /metrics gathers every loop's numbers (gatherNumbers) and answers once they are in.
void addServiceRoutes(duplex::App& app, duplex::hub::Hub& hub, LoopTopics& topics,
                      Readiness readiness, std::function<std::string()> moreMetrics = {});

}  // namespace duplexd
