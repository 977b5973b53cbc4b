#pragma once
// duplexd --engine redis://HOST:PORT[/DB] (repeatable: shards, docs/scaling.md): the URLs
// checked before anything starts, and the Redis engine's options from them.
#include <string>
#include <vector>

#include "hub/redis_engine.h"

namespace duplexd {

// Every URL parsed; the first bad one ends the process with one line (refuseCommandLine).
duplex::hub::RedisEngineOptions redisEngineOptions(const std::vector<std::string>& urls);

}  // namespace duplexd
