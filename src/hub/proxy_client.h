#pragma once
// The hub's side of the proxies: asks the application's back end over HTTP (httpclient, on the
// hub's loop, never blocking it) and turns its answer, or its silence, into a verdict or a hub
// error. A back end that times out, cannot be reached, answers a status other than 200 is
// `unavailable` (the message says which); one that refuses gives its own code.
//
// A request completes on the loop it was made on (net::Loop::current(), the asking connection's
// loop), never inside the call, and never after the ProxyClient is gone (its HTTP clients
// abandon what is in flight). Each loop that asks gets its own HTTP client (its own connection
// pool) and answer parser, made on first use: one ProxyClient may serve a hub spanning several
// loops. It must be destroyed when those loops no longer run, or on the only one.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "httpclient/http_client.h"
#include "hub/proxy_config.h"
#include "hub/proxy_protocol.h"

namespace duplex::net {
class Loop;
}

namespace duplex::hub {

// Who asks: a connection, its user (after connect) and the upgrade's headers it kept, which
// every proxy request carries as HTTP headers (a session cookie reaches the back end's own
// session middleware).
struct ProxyCaller {
  std::string_view client;
  std::string_view user;
  const ProxyHeaders& headers;
};

class ProxyClient {
 public:
  // `loop` serves calls made outside any running loop (tests).
  ProxyClient(net::Loop& loop, ProxyConfig config);
  ~ProxyClient();
  const ProxyConfig& config() const { return config_; }

  void connect(const ProxyCaller& who, std::function<void(HubResult<ConnectVerdict>&&)> done);
  void subscribe(const ProxyCaller& who, std::string_view channel,
                 std::function<void(HubResult<bool>&&)> done);
  void publish(const ProxyCaller& who, std::string_view channel, std::string_view data,
               std::function<void(HubResult<PublishVerdict>&&)> done);
  void rpc(const ProxyCaller& who, std::string_view method, std::string_view data,
           std::function<void(HubResult<RpcVerdict>&&)> done);

  // Requests made, and those that ended in `unavailable` (for tests and logs).
  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }
  uint64_t unavailable() const { return unavailable_.load(std::memory_order_relaxed); }

 private:
  // What one loop uses, only on its thread.
  struct PerLoop {
    explicit PerLoop(net::Loop& loop) : http(loop) {}
    httpclient::HttpClient http;
    ProxyAnswerReader reader;
  };
  PerLoop& here();

  // POSTs `body` to `endpoint`; `read` turns a 200 answer's body into the verdict.
  template <class Verdict>
  void ask(std::string_view proxy, const ProxyEndpoint& endpoint, const ProxyCaller& who,
           std::string body, HubResult<Verdict> (ProxyAnswerReader::*read)(std::string_view),
           std::function<void(HubResult<Verdict>&&)> done);

  ProxyConfig config_;
  net::Loop& defaultLoop_;
  std::mutex loopsMutex_;  // taken once per request, to find the loop's own part
  std::unordered_map<net::Loop*, std::unique_ptr<PerLoop>> loops_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> unavailable_{0};
};

}  // namespace duplex::hub
