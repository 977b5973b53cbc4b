#include "hub/proxy_config.h"

#include <simdjson.h>

namespace duplex::hub {
namespace {

HubError badRequest(std::string message) {
  return {ErrorCode::BadRequest, std::move(message)};
}

constexpr uint64_t kMaxTimeoutMs = 60'000;

std::optional<HubError> readEndpoint(simdjson::dom::element block, const std::string& where,
                                     ProxyEndpoint& endpoint) {
  simdjson::dom::object object;
  if (block.get(object) != simdjson::SUCCESS) {
    return badRequest(where + R"(: must be an object, {"url": "http://...", "timeout_ms": 1000})");
  }
  for (simdjson::dom::key_value_pair field : object) {
    std::string name = where + "." + std::string(field.key);
    if (field.key == "url") {
      std::string_view url;
      bool isString = field.value.get(url) == simdjson::SUCCESS;
      size_t scheme = url.starts_with("http://") ? 7 : url.starts_with("https://") ? 8 : 0;
      if (!isString || scheme == 0 || url.size() == scheme) {  // a host must follow
        return badRequest(name + ": must be an http:// or https:// URL");
      }
      endpoint.url = std::string(url);
    } else if (field.key == "timeout_ms") {
      uint64_t ms = 0;
      if (field.value.get_uint64().get(ms) != simdjson::SUCCESS || ms == 0 || ms > kMaxTimeoutMs) {
        return badRequest(name + ": must be an integer from 1 to 60000");
      }
      endpoint.timeoutMs = static_cast<uint32_t>(ms);
    } else {
      return badRequest(name + ": unknown option (known: url, timeout_ms)");
    }
  }
  if (endpoint.url.empty()) return badRequest(where + ".url: is required");
  return std::nullopt;
}

// A header name as RFC 9110 5.1 allows it (a token).
bool isHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

HubResult<ProxyConfig> ProxyConfig::fromJson(std::string_view section) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object object;
  if (parser.parse(section.data(), section.size()).get(root) != simdjson::SUCCESS ||
      root.get(object) != simdjson::SUCCESS) {
    return badRequest("proxy: must be an object");
  }
  ProxyConfig config;
  for (simdjson::dom::key_value_pair field : object) {
    std::string where = "proxy." + std::string(field.key);
    ProxyEndpoint* endpoint = field.key == "connect"     ? &config.connect
                              : field.key == "subscribe" ? &config.subscribe
                              : field.key == "publish"   ? &config.publish
                              : field.key == "rpc"       ? &config.rpc
                                                         : nullptr;
    if (endpoint) {
      if (auto error = readEndpoint(field.value, where, *endpoint)) return *error;
    } else if (field.key == "headers") {
      simdjson::dom::array names;
      if (field.value.get(names) != simdjson::SUCCESS) {
        return badRequest(where + R"(: must be a list of header names, e.g. ["Cookie"])");
      }
      config.headers.clear();
      for (simdjson::dom::element item : names) {
        std::string_view name;
        if (item.get(name) != simdjson::SUCCESS || !isHeaderName(name)) {
          return badRequest(where + ": must be a list of header names, e.g. [\"Cookie\"]");
        }
        config.headers.emplace_back(name);
      }
    } else {
      return badRequest(where +
                        ": unknown option (known: connect, subscribe, publish, rpc, headers)");
    }
  }
  return config;
}

}  // namespace duplex::hub
