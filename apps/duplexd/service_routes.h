#pragma once
// duplexd's routes for operators: /healthz (liveness: the loop answers), /readyz (readiness:
// the store can be read and written, else 503 with the reason) and /metrics (Prometheus).
#include <functional>
#include <string>

#include "hub/hub.h"
#include "pubsub/topics.h"
#include "readiness.h"
#include "server/app.h"

namespace duplexd {

// `moreMetrics`, when given, is appended to /metrics (families of other parts of duplexd).
void addServiceRoutes(duplex::App& app, const duplex::hub::Hub& hub,
                      const duplex::pubsub::Topics& topics, Readiness readiness,
                      std::function<std::string()> moreMetrics = {});

}  // namespace duplexd
