#pragma once
// What the hub and the application's back end say to each other (docs/protocol.md, "Proxies"),
// sans-I/O: the JSON bodies the hub POSTs, and the back end's answers read into verdicts. A
// back end answers {"result": {...}} to go ahead or {"error": {"code", "message"}} to refuse;
// the code is one of the protocol's (docs/protocol.md, "Error codes"), and the client gets it
// as the error of its command.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hub/hub_protocol_error.h"

namespace duplex::hub {

// The upgrade request's headers the configuration names (ProxyConfig::headers), as sent.
using ProxyHeaders = std::vector<std::pair<std::string, std::string>>;

// {"client": "c-1", "transport": "websocket", "headers": {"Cookie": "session=..."}}
void writeConnectRequest(std::string& out, std::string_view client, const ProxyHeaders& headers);
// {"client": "c-1", "user": "alice", "channel": "chat:main"}
void writeSubscribeRequest(std::string& out, std::string_view client, std::string_view user,
                           std::string_view channel);
// {"client", "user", "channel", "data": <the data as the client sent it, minified>}
void writePublishRequest(std::string& out, std::string_view client, std::string_view user,
                         std::string_view channel, std::string_view data);
// {"client", "user", "method": "...", "data": <data, or null>}
void writeRpcRequest(std::string& out, std::string_view client, std::string_view user,
                     std::string_view method, std::string_view data);

// {"result": {"user": "alice", "expires": 1764000000, "channels": ["chat:news"]}}: the
// connection is the user `user` ("" for anonymous) until `expires` (Unix seconds; 0 or absent:
// never), subscribed by the server to `channels` (optional).
struct ConnectVerdict {
  std::string user;
  int64_t expires = 0;
  std::vector<std::string> channels;
};
// {"result": {}} publishes the client's data; {"result": {"data": X}} publishes X instead.
struct PublishVerdict {
  std::optional<std::string> data;  // the replacement, minified JSON
};
// {"result": {"data": X}}: the rpc's result is {"data": X} (null when absent).
struct RpcVerdict {
  std::string data;  // minified JSON
};

// Reads answers with one reusable parser. A refusal is the back end's error (its code when it
// is one of the protocol's, else forbidden); an answer that is neither is `internal`, naming
// what is wrong with it.
class ProxyAnswerReader {
 public:
  ProxyAnswerReader();
  ~ProxyAnswerReader();
  ProxyAnswerReader(const ProxyAnswerReader&) = delete;
  ProxyAnswerReader& operator=(const ProxyAnswerReader&) = delete;

  HubResult<ConnectVerdict> connect(std::string_view body);
  HubResult<bool> subscribe(std::string_view body);  // true: allowed
  HubResult<PublishVerdict> publish(std::string_view body);
  HubResult<RpcVerdict> rpc(std::string_view body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace duplex::hub
