#pragma once
// /metrics in the Prometheus text format (version 0.0.4).
#include <string>

#include "hub/history_store.h"
#include "pubsub/topics.h"
#include "server/app.h"
#include "throw_room.h"

namespace duplexd {

std::string renderMetrics(const duplex::App& app, const duplex::pubsub::Topics& topics,
                          const ThrowRoom& room, duplex::hub::HistoryStore& store);

}  // namespace duplexd
