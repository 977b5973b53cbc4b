#pragma once
// Where the hub asks the application's back end (docs/protocol.md, "Proxies"): the "proxy"
// section of the hub configuration. Each proxy is a URL the hub POSTs JSON to and a timeout;
// `headers` names the headers of the WebSocket upgrade request (the browser's cookies, an
// Authorization header) that the connect proxy passes on, and that every later proxy request of
// that connection carries too, so a session-based back end (Django, aiohttp-session) recognises
// its user without JWTs.
//
//   "proxy": {"connect": {"url": "http://127.0.0.1:8000/duplex/connect", "timeout_ms": 1000},
//             "publish": {"url": "http://127.0.0.1:8000/duplex/publish"},
//             "headers": ["Cookie"]}
//
// connect and rpc apply to every connection; subscribe and publish only in the namespaces that
// set "subscribe_proxy" / "publish_proxy" to true.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hub/hub_protocol_error.h"

namespace duplex::hub {

struct ProxyEndpoint {
  std::string url;  // empty: not configured
  uint32_t timeoutMs = 1000;
  bool configured() const { return !url.empty(); }
  bool operator==(const ProxyEndpoint&) const = default;
};

struct ProxyConfig {
  ProxyEndpoint connect;
  ProxyEndpoint subscribe;
  ProxyEndpoint publish;
  ProxyEndpoint rpc;
  std::vector<std::string> headers = {"Cookie"};
  bool any() const {
    return connect.configured() || subscribe.configured() || publish.configured() ||
           rpc.configured();
  }
  bool operator==(const ProxyConfig&) const = default;

  // The "proxy" section's JSON (an object). Unknown keys, a URL that is not http(s), a timeout
  // outside 1..60000 ms are refused with a message naming the key ("proxy.connect.timeout_ms:
  // ...").
  static HubResult<ProxyConfig> fromJson(std::string_view section);
};

}  // namespace duplex::hub
