#include "hub/proxy_protocol.h"

#include <simdjson.h>

#include "hub/hub_protocol_writer.h"
#include "hub/namespaces.h"

namespace duplex::hub {

namespace {

void beginRequest(std::string& out, std::string_view client, std::string_view user) {
  out += R"({"client":)";
  appendJsonString(out, client);
  out += R"(,"user":)";
  appendJsonString(out, user);
}

// Data the client sent is already minified JSON; absent data is null.
void appendData(std::string& out, std::string_view data) {
  out += R"(,"data":)";
  out += data.empty() ? std::string_view("null") : data;
}

HubError malformed(std::string_view proxy, std::string_view what) {
  return {ErrorCode::Internal,
          "the back end's " + std::string(proxy) + " answer " + std::string(what)};
}

}  // namespace

void writeConnectRequest(std::string& out, std::string_view client, const ProxyHeaders& headers) {
  out += R"({"client":)";
  appendJsonString(out, client);
  out += R"(,"transport":"websocket","headers":{)";
  bool first = true;
  for (const auto& [name, value] : headers) {
    if (!first) out += ',';
    first = false;
    appendJsonString(out, name);
    out += ':';
    appendJsonString(out, value);
  }
  out += "}}";
}

void writeSubscribeRequest(std::string& out, std::string_view client, std::string_view user,
                           std::string_view channel) {
  beginRequest(out, client, user);
  out += R"(,"channel":)";
  appendJsonString(out, channel);
  out += '}';
}

void writePublishRequest(std::string& out, std::string_view client, std::string_view user,
                         std::string_view channel, std::string_view data) {
  beginRequest(out, client, user);
  out += R"(,"channel":)";
  appendJsonString(out, channel);
  appendData(out, data);
  out += '}';
}

void writeRpcRequest(std::string& out, std::string_view client, std::string_view user,
                     std::string_view method, std::string_view data) {
  beginRequest(out, client, user);
  out += R"(,"method":)";
  appendJsonString(out, method);
  appendData(out, data);
  out += '}';
}

struct ProxyAnswerReader::Impl {
  simdjson::dom::parser parser;

  // The "result" object of an answer, or the back end's refusal, or what is malformed.
  HubResult<simdjson::dom::object> result(std::string_view proxy, std::string_view body) {
    simdjson::dom::element root;
    if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
      return malformed(proxy, "is not JSON");
    }
    simdjson::dom::object top;
    if (root.get(top) != simdjson::SUCCESS) return malformed(proxy, "is not a JSON object");
    simdjson::dom::element error;
    if (top["error"].get(error) == simdjson::SUCCESS) {
      std::string_view code, message;
      if (error["code"].get(code) != simdjson::SUCCESS) {
        return malformed(proxy, "has an error without a code");
      }
      if (error["message"].get(message) != simdjson::SUCCESS) message = "refused by the back end";
      return HubError{errorCodeFromName(code).value_or(ErrorCode::Forbidden), std::string(message)};
    }
    simdjson::dom::object found;
    if (top["result"].get(found) != simdjson::SUCCESS) {
      return malformed(proxy, R"(has neither "result" (an object) nor "error")");
    }
    return found;
  }
};

ProxyAnswerReader::ProxyAnswerReader() : impl_(std::make_unique<Impl>()) {}
ProxyAnswerReader::~ProxyAnswerReader() = default;

HubResult<ConnectVerdict> ProxyAnswerReader::connect(std::string_view body) {
  auto result = impl_->result("connect", body);
  if (!result.ok()) return result.error();
  ConnectVerdict verdict;
  simdjson::dom::element value;
  std::string_view user;
  if ((*result)["user"].get(value) != simdjson::SUCCESS || value.get(user) != simdjson::SUCCESS) {
    return malformed("connect", "needs result.user, a string (\"\" for anonymous)");
  }
  verdict.user = std::string(user);
  if ((*result)["expires"].get(value) == simdjson::SUCCESS && !value.is_null()) {
    if (value.get_int64().get(verdict.expires) != simdjson::SUCCESS || verdict.expires < 0) {
      return malformed("connect", "has result.expires that is not Unix seconds");
    }
  }
  if ((*result)["channels"].get(value) == simdjson::SUCCESS && !value.is_null()) {
    simdjson::dom::array channels;
    if (value.get(channels) != simdjson::SUCCESS) {
      return malformed("connect", "has result.channels that is not a list");
    }
    for (simdjson::dom::element item : channels) {
      std::string_view channel;
      if (item.get(channel) != simdjson::SUCCESS || validateChannelName(channel)) {
        return malformed("connect", "has a result.channels entry that is not a channel name");
      }
      verdict.channels.emplace_back(channel);
    }
  }
  return verdict;
}

HubResult<bool> ProxyAnswerReader::subscribe(std::string_view body) {
  auto result = impl_->result("subscribe", body);
  if (!result.ok()) return result.error();
  return true;
}

HubResult<PublishVerdict> ProxyAnswerReader::publish(std::string_view body) {
  auto result = impl_->result("publish", body);
  if (!result.ok()) return result.error();
  PublishVerdict verdict;
  simdjson::dom::element data;
  if ((*result)["data"].get(data) == simdjson::SUCCESS) verdict.data = simdjson::to_string(data);
  return verdict;
}

HubResult<RpcVerdict> ProxyAnswerReader::rpc(std::string_view body) {
  auto result = impl_->result("rpc", body);
  if (!result.ok()) return result.error();
  RpcVerdict verdict{"null"};
  simdjson::dom::element data;
  if ((*result)["data"].get(data) == simdjson::SUCCESS) verdict.data = simdjson::to_string(data);
  return verdict;
}

}  // namespace duplex::hub
