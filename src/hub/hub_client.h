#pragma once
// The Hub's per-connection state (in ws.data()) and its queued publishes, shared by the Hub's
// .cpp files. Internal to src/hub.
#include <any>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hub/hub.h"

namespace duplex::hub {

struct Hub::Client {
  // A namespace's publish rate limit as this connection has used it. Keyed by the options'
  // address, which is stable (HubOptions::namespaces does not change after construction); one
  // per rate-limited namespace at most, so the vector stays as short as the configuration.
  struct PublishBucket {
    const NamespaceOptions* ns;
    double tokens;
    int64_t lastRefillMs;
  };

  std::string id;
  std::string user;
  bool hasToken = false;
  std::vector<std::string> grants;
  int64_t expires = 0;                // Unix seconds; 0: never
  std::vector<std::string> channels;  // subscribed, in order
  double tokens = 0;
  int64_t lastRefillMs = 0;
  std::vector<PublishBucket> publishBuckets;
};

// A publish waiting for this iteration's group commit.
struct Hub::Pending {
  WebSocket* publisher;  // null once it closed: still stored and broadcast, nobody to answer
  uint64_t id;
  std::string channel;
  std::string data;
  std::string key;
  ChannelLimits limits;
};

inline Hub::Client& clientOf(WebSocket& ws) {
  return *std::any_cast<std::shared_ptr<Hub::Client>&>(ws.data());
}

}  // namespace duplex::hub
