#pragma once
// The Hub's per-connection state (in ws.data()) and the handle its engine completions hold,
// shared by the Hub's .cpp files. Internal to src/hub.
#include <algorithm>
#include <any>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "hub/hub.h"
#include "hub/proxy_protocol.h"

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

  // A subscribe waiting for the engine (presence, then the read): counted as subscribed, so a
  // second subscribe to the channel is refused, and left by closed() when it joined presence.
  struct Subscribing {
    std::string channel;
    bool joined = false;
    std::vector<HeldPublish> held;  // its publishes to the channel meanwhile
  };

  WebSocket* ws = nullptr;  // null once closed: completions then have nobody to answer
  std::string id;
  std::string user;
  bool hasToken = false;
  std::vector<std::string> grants;
  int64_t expires = 0;                // Unix seconds; 0: never
  std::vector<std::string> channels;  // subscribed, in order
  std::vector<Subscribing> subscribing;
  std::vector<std::string> present;  // channels where it is an announced presence member
  double tokens = 0;
  int64_t lastRefillMs = 0;
  std::vector<PublishBucket> publishBuckets;

  // The proxies (proxy_hub.cpp). The upgrade's headers the configuration names, kept for the
  // back end; empty without proxies.
  ProxyHeaders proxyHeaders;
  bool connecting = false;                // the connect proxy has not answered yet
  std::vector<std::string> heldCommands;  // sent meanwhile, handled once it has
  // Publishes in publish_proxy namespaces, asked one at a time so they are stored in the
  // order sent; the first is with the back end.
  struct ProxiedPublish {
    uint64_t id;
    std::string channel;
    std::string key;
    std::string data;
  };
  std::deque<ProxiedPublish> proxiedPublishes;

  // The waiting subscribe to `channel`; there is one whenever a completion asks.
  std::vector<Subscribing>::iterator findSubscribing(std::string_view channel) {
    return std::find_if(subscribing.begin(), subscribing.end(),
                        [&](const Subscribing& s) { return s.channel == channel; });
  }
};

// A subscribe between the command and the engine's answers.
struct Hub::Subscription {
  uint64_t id;
  std::string channel;
  bool presence;  // the namespace announces members
  bool history;   // the namespace keeps history (else no read is needed)
  ReadRequest::Mode mode;
  uint64_t presenceMax;
};

struct Hub::Caller {
  net::Lifeline<Hub>::Handle hub;
  std::weak_ptr<Client> client;

  bool hubAlive() const { return hub.get() != nullptr; }
  // The connection's state while both it and the Hub live and it is not closed; else null.
  std::shared_ptr<Client> open() const {
    if (!hubAlive()) return nullptr;
    auto c = client.lock();
    return c && c->ws ? c : nullptr;
  }
};

// WebSocket publishes the engine has not completed, shared with their completions: a Hub that
// goes away leaves its connections open until the last of them is acknowledged.
struct Hub::InFlight {
  size_t publishes = 0;
  bool hubGone = false;
  std::vector<std::weak_ptr<Client>> farewell;  // told to go once publishes reaches 0
};

// One loop's part of the Hub: its connections, users, counters, parser and scratch space, all
// touched on that loop's thread only, so the per-message path takes no lock and shares no
// cache line with another loop.
struct Hub::LoopPart {
  explicit LoopPart(net::Loop& l) : loop(&l), inFlight(std::make_shared<InFlight>()) {}

  net::Loop* loop;
  CommandParser parser;
  std::string scratch;
  std::unordered_set<WebSocket*> clients;
  std::unordered_map<std::string, std::unordered_set<WebSocket*>> users;
  net::Loop::TimerId sweepTimer = 0;
  HubStats stats;
  HubMetrics metrics;
  std::shared_ptr<InFlight> inFlight;
  uint64_t lastCommitObserved = 0;  // PublishResult::commit.id last put in storeCommit
  bool answeringLater = false;      // the API handler now running took response.later()
};

inline Hub::Client& clientOf(WebSocket& ws) {
  return *std::any_cast<std::shared_ptr<Hub::Client>&>(ws.data());
}

}  // namespace duplex::hub
