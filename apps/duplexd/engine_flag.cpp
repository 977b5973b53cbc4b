#include "engine_flag.h"

#include <cstdlib>

#include "flags.h"

namespace duplexd {

duplex::hub::RedisEngineOptions redisEngineOptions(const std::vector<std::string>& urls) {
  duplex::hub::RedisEngineOptions options;
  for (const std::string& url : urls) {
    std::string error;
    auto endpoint = duplex::redis::parseUrl(url, &error);
    if (!endpoint) duplex::cli::refuseCommandLine("duplexd", "--engine: " + error);
    options.shards.push_back(std::move(*endpoint));
  }
  // Test hook (tests/scaleout): presence entries of a killed node expire within seconds.
  if (const char* ttl = std::getenv("DUPLEXD_TEST_PRESENCE_TTL_MS")) {
    options.presenceTtlMs = std::strtoll(ttl, nullptr, 10);
  }
  // Test hook (tests/scaleout): a node cut off from Redis stays cut off this long, so the test
  // can publish in between.
  if (const char* ms = std::getenv("DUPLEXD_TEST_REDIS_RECONNECT_MS")) {
    options.client.reconnectMinMs = options.client.reconnectMaxMs =
        static_cast<uint32_t>(std::strtoul(ms, nullptr, 10));
  }
  if (const char* ms = std::getenv("DUPLEXD_TEST_UNSUBSCRIBE_AFTER_MS")) {
    options.unsubscribeAfterMs = static_cast<uint32_t>(std::strtoul(ms, nullptr, 10));
  }
  return options;
}

}  // namespace duplexd
