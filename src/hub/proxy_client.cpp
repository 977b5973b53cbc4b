#include "hub/proxy_client.h"

#include "net/log.h"
#include "net/loop.h"

namespace duplex::hub {

namespace {

// Why the back end gave no verdict, as the client reads it.
HubError unavailableError(std::string_view proxy, const ProxyEndpoint& endpoint,
                          const httpclient::HttpAnswer& answer) {
  std::string message = "the back end's " + std::string(proxy) + " proxy ";
  switch (answer.failure) {
    case httpclient::HttpFailure::Timeout:
      message += "did not answer within " + std::to_string(endpoint.timeoutMs) + " ms";
      break;
    case httpclient::HttpFailure::Refused:
      message += "cannot be reached";
      break;
    case httpclient::HttpFailure::Other:
      message += "failed: " + answer.error;
      break;
    case httpclient::HttpFailure::None:
      message += "answered HTTP " + std::to_string(answer.status);
      break;
  }
  return {ErrorCode::Unavailable, std::move(message)};
}

}  // namespace

ProxyClient::ProxyClient(net::Loop& loop, ProxyConfig config)
    : config_(std::move(config)), defaultLoop_(loop) {}

ProxyClient::~ProxyClient() = default;

ProxyClient::PerLoop& ProxyClient::here() {
  net::Loop* loop = net::Loop::current();
  if (!loop) loop = &defaultLoop_;
  std::lock_guard lock(loopsMutex_);
  std::unique_ptr<PerLoop>& part = loops_[loop];
  if (!part) part = std::make_unique<PerLoop>(*loop);
  return *part;
}

template <class Verdict>
void ProxyClient::ask(std::string_view proxy, const ProxyEndpoint& endpoint, const ProxyCaller& who,
                      std::string body,
                      HubResult<Verdict> (ProxyAnswerReader::*read)(std::string_view),
                      std::function<void(HubResult<Verdict>&&)> done) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  httpclient::HttpRequest request{endpoint.url, std::move(body), who.headers, endpoint.timeoutMs};
  PerLoop& part = here();
  // `this` and `part` outlive the callback: the HTTP client is ours, and abandons what is in
  // flight when we go.
  part.http.post(std::move(request), [this, &part, proxy, endpoint, read,
                                      done = std::move(done)](httpclient::HttpAnswer&& answer) {
    if (!answer.answered() || answer.status != 200) {
      unavailable_.fetch_add(1, std::memory_order_relaxed);
      HubError error = unavailableError(proxy, endpoint, answer);
      DUPLEX_LOG(Warn, "hub: %s (%s)", error.message.c_str(), endpoint.url.c_str());
      return done(std::move(error));
    }
    HubResult<Verdict> verdict = (part.reader.*read)(answer.body);
    if (!verdict.ok() && verdict.error().code == ErrorCode::Internal) {
      DUPLEX_LOG(Warn, "hub: %s (%s)", verdict.error().message.c_str(), endpoint.url.c_str());
    }
    done(std::move(verdict));
  });
}

void ProxyClient::connect(const ProxyCaller& who,
                          std::function<void(HubResult<ConnectVerdict>&&)> done) {
  std::string body;
  writeConnectRequest(body, who.client, who.headers);
  ask("connect", config_.connect, who, std::move(body), &ProxyAnswerReader::connect,
      std::move(done));
}

void ProxyClient::subscribe(const ProxyCaller& who, std::string_view channel,
                            std::function<void(HubResult<bool>&&)> done) {
  std::string body;
  writeSubscribeRequest(body, who.client, who.user, channel);
  ask("subscribe", config_.subscribe, who, std::move(body), &ProxyAnswerReader::subscribe,
      std::move(done));
}

void ProxyClient::publish(const ProxyCaller& who, std::string_view channel, std::string_view data,
                          std::function<void(HubResult<PublishVerdict>&&)> done) {
  std::string body;
  writePublishRequest(body, who.client, who.user, channel, data);
  ask("publish", config_.publish, who, std::move(body), &ProxyAnswerReader::publish,
      std::move(done));
}

void ProxyClient::rpc(const ProxyCaller& who, std::string_view method, std::string_view data,
                      std::function<void(HubResult<RpcVerdict>&&)> done) {
  std::string body;
  writeRpcRequest(body, who.client, who.user, method, data);
  ask("rpc", config_.rpc, who, std::move(body), &ProxyAnswerReader::rpc, std::move(done));
}

}  // namespace duplex::hub
