#include "hub/namespaces.h"

#include <simdjson.h>

#include <algorithm>

#include "hub/json_error_position.h"

namespace duplex::hub {
namespace {

// [A-Za-z0-9_.:@=-]
bool isChannelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '@' || c == '=' || c == '-';
}

HubError badRequest(std::string message) {
  return {ErrorCode::BadRequest, std::move(message)};
}

// The options a configuration block may set; personal channels take only some of them.
enum class Scope : uint8_t { Namespace, Personal };

constexpr std::string_view kNamespaceKeys =
    "history_size, history_ttl_seconds, publish, presence, anonymous, grant_required, "
    "max_data_bytes, presence_max, idempotency_window_seconds, publish_rate, publish_burst, "
    "subscribe_proxy, publish_proxy";
constexpr std::string_view kPersonalKeys =
    "history_size, history_ttl_seconds, max_data_bytes, idempotency_window_seconds";

std::optional<HubError> readOptions(simdjson::dom::element block, const std::string& where,
                                    Scope scope, NamespaceOptions& options) {
  simdjson::dom::object object;
  if (block.get(object) != simdjson::SUCCESS) return badRequest(where + ": must be an object");
  for (simdjson::dom::key_value_pair field : object) {
    std::string name = where + "." + std::string(field.key);
    auto unsignedValue = [&](uint64_t& out, uint64_t min) -> std::optional<HubError> {
      int64_t v = 0;
      uint64_t u = 0;
      if (field.value.get_int64().get(v) == simdjson::SUCCESS && v >= 0) {
        u = static_cast<uint64_t>(v);
      } else if (field.value.get_uint64().get(u) != simdjson::SUCCESS) {
        return badRequest(name + ": must be a non-negative integer");
      }
      if (u < min) return badRequest(name + ": must be at least " + std::to_string(min));
      out = u;
      return std::nullopt;
    };
    // Rates may be fractional (0.5: one publication every two seconds).
    auto rateValue = [&](double& out, double min) -> std::optional<HubError> {
      double v = 0;
      if (field.value.get_double().get(v) != simdjson::SUCCESS || !(v >= min) || v > 1e9) {
        return badRequest(name + ": must be a number from " + std::to_string(int(min)) +
                          " to 1000000000");
      }
      out = v;
      return std::nullopt;
    };
    auto boolValue = [&](bool& out) -> std::optional<HubError> {
      if (field.value.get_bool().get(out) != simdjson::SUCCESS) {
        return badRequest(name + ": must be true or false");
      }
      return std::nullopt;
    };
    std::optional<HubError> error;
    std::string_view key = field.key;
    if (key == "history_size") {
      error = unsignedValue(options.historySize, 0);
    } else if (key == "history_ttl_seconds") {
      error = unsignedValue(options.historyTtlSeconds, 0);
    } else if (key == "max_data_bytes") {
      error = unsignedValue(options.maxDataBytes, 1);
    } else if (key == "idempotency_window_seconds") {
      error = unsignedValue(options.idempotencyWindowSeconds, 0);
    } else if (scope == Scope::Personal) {
      return badRequest(
          name + ": not an option of personal channels (known: " + std::string(kPersonalKeys) +
          "; they are published by the server API and read by their own user)");
    } else if (key == "presence") {
      error = boolValue(options.presence);
    } else if (key == "anonymous") {
      error = boolValue(options.anonymous);
    } else if (key == "subscribe_proxy") {
      error = boolValue(options.subscribeProxy);
    } else if (key == "publish_proxy") {
      error = boolValue(options.publishProxy);
    } else if (key == "grant_required") {
      error = boolValue(options.grantRequired);
    } else if (key == "presence_max") {
      error = unsignedValue(options.presenceMax, 1);
    } else if (key == "publish_rate") {
      error = rateValue(options.publishRate, 0);
    } else if (key == "publish_burst") {
      error = rateValue(options.publishBurst, 1);
    } else if (key == "publish") {
      std::string_view from;
      if (field.value.get(from) == simdjson::SUCCESS && from == "clients") {
        options.publish = PublishFrom::Clients;
      } else if (from == "server") {
        options.publish = PublishFrom::Server;
      } else {
        return badRequest(name + R"(: must be "clients" or "server")");
      }
    } else {
      return badRequest(name + ": unknown option (known: " + std::string(kNamespaceKeys) + ")");
    }
    if (error) return error;
  }
  if (options.publishBurst > 0 && options.publishRate == 0) {
    return badRequest(where +
                      ".publish_burst: needs publish_rate (without it, publishing has "
                      "no limit to burst over)");
  }
  return std::nullopt;
}

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

}  // namespace

double publishBurstOf(const NamespaceOptions& options) {
  return options.publishBurst > 0 ? options.publishBurst : std::max(1.0, 2 * options.publishRate);
}

NamespaceOptions defaultPersonalOptions() {
  NamespaceOptions options;
  options.publish = PublishFrom::Server;
  options.anonymous = false;
  return options;
}

Namespaces::Namespaces() : personal_(defaultPersonalOptions()) {}

HubResult<Namespaces> Namespaces::fromJson(std::string_view config) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(config.data(), config.size()).get(root)) {
    return badRequest(describeJsonError(
        config, std::string("the configuration is not JSON: ") + simdjson::error_message(error)));
  }
  simdjson::dom::object top;
  if (root.get(top) != simdjson::SUCCESS) {
    return badRequest("the configuration must be a JSON object");
  }
  Namespaces result;
  for (simdjson::dom::key_value_pair section : top) {
    if (section.key == "personal") {
      NamespaceOptions personal = defaultPersonalOptions();
      if (auto error = readOptions(section.value, "personal", Scope::Personal, personal)) {
        return *error;
      }
      result.setPersonalOptions(personal);
    } else if (section.key == "namespaces") {
      simdjson::dom::object namespaces;
      if (section.value.get(namespaces) != simdjson::SUCCESS) {
        return badRequest("namespaces: must be an object of namespace name to options");
      }
      for (simdjson::dom::key_value_pair ns : namespaces) {
        std::string where = "namespaces." + std::string(ns.key);
        if (!isValidNamespaceName(ns.key)) {
          return badRequest(where +
                            ": a namespace name is 1 or more of [A-Za-z0-9_.@=-] (no ':' or '#')");
        }
        if (result.find(ns.key)) return badRequest(where + ": configured twice");
        NamespaceOptions options;
        if (auto error = readOptions(ns.value, where, Scope::Namespace, options)) return *error;
        result.add(ns.key, options);
      }
    } else if (section.key == "proxy") {
      auto proxy = ProxyConfig::fromJson(simdjson::to_string(section.value));
      if (!proxy.ok()) return proxy.error();
      result.setProxy(std::move(*proxy));
    } else {
      return badRequest(quoted(section.key) +
                        ": unknown configuration key (known: namespaces, personal, proxy)");
    }
  }
  // Checked once every section is read: "proxy" may come after the namespaces.
  for (const auto& [name, options] : result.namespaces_) {
    if (options.subscribeProxy && !result.proxy_.subscribe.configured()) {
      return badRequest("namespaces." + name + ".subscribe_proxy: needs proxy.subscribe.url");
    }
    if (options.publishProxy && !result.proxy_.publish.configured()) {
      return badRequest("namespaces." + name + ".publish_proxy: needs proxy.publish.url");
    }
  }
  return result;
}

bool Namespaces::add(std::string_view name, const NamespaceOptions& options) {
  if (!isValidNamespaceName(name)) return false;
  namespaces_.insert_or_assign(std::string(name), options);
  return true;
}

void Namespaces::setPersonalOptions(const NamespaceOptions& options) {
  personal_ = options;
  // What makes a channel personal is not configurable.
  personal_.publish = PublishFrom::Server;
  personal_.anonymous = false;
  personal_.grantRequired = false;
  personal_.presence = false;
}

const NamespaceOptions* Namespaces::find(std::string_view ns) const {
  auto it = namespaces_.find(ns);
  return it == namespaces_.end() ? nullptr : &it->second;
}

HubResult<ChannelInfo> Namespaces::lookup(std::string_view channel) const {
  if (auto error = validateChannelName(channel)) return *error;
  ChannelInfo info;
  info.channel = channel;
  if (channel[0] == '#') {
    info.user = channel.substr(1);
    info.options = &personal_;
    return info;
  }
  info.ns = channel.substr(0, channel.find(':'));
  info.options = find(info.ns);
  if (!info.options) {
    return HubError{ErrorCode::NotFound, "namespace " + quoted(info.ns) + " is not configured"};
  }
  return info;
}

std::optional<HubError> validateChannelName(std::string_view channel) {
  if (channel.empty()) return badRequest("the channel name is empty");
  if (channel.size() > kMaxChannelBytes) {
    return badRequest("a channel name is at most 255 bytes");
  }
  std::string_view rest = channel[0] == '#' ? channel.substr(1) : channel;
  if (channel[0] == '#' && rest.empty()) {
    return badRequest("a personal channel is '#' and a user id");
  }
  for (char c : rest) {
    if (c == '#') return badRequest("'#' may only start a personal channel's name");
    if (!isChannelChar(c)) {
      return badRequest("a channel name has only the characters A-Z a-z 0-9 _ . : @ = -");
    }
  }
  if (channel[0] != '#') {
    size_t colon = channel.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == channel.size()) {
      return badRequest("a channel is namespace:name, or #user");
    }
  }
  return std::nullopt;
}

bool isValidNamespaceName(std::string_view ns) {
  if (ns.empty() || ns.size() + 2 > kMaxChannelBytes) return false;
  for (char c : ns) {
    if (c == ':' || !isChannelChar(c)) return false;
  }
  return true;
}

std::optional<std::string> personalChannel(std::string_view user) {
  if (user.empty()) return std::nullopt;
  std::string channel = "#" + std::string(user);
  if (validateChannelName(channel)) return std::nullopt;
  return channel;
}

bool grantMatches(std::string_view grant, std::string_view channel) {
  if (!grant.empty() && grant.back() == '*') {
    std::string_view prefix = grant.substr(0, grant.size() - 1);
    return channel.substr(0, prefix.size()) == prefix;
  }
  return grant == channel;
}

bool grantsAllow(std::span<const std::string> grants, std::string_view channel) {
  for (const std::string& grant : grants) {
    if (grantMatches(grant, channel)) return true;
  }
  return false;
}

std::optional<HubError> checkSubscribe(const ChannelInfo& info, const Principal& who) {
  if (info.personal()) {
    if (who.hasToken && who.user == info.user) return std::nullopt;
    return HubError{ErrorCode::Forbidden, "a personal channel is only for its own user"};
  }
  if (!info.options->anonymous && !who.hasToken) {
    return HubError{ErrorCode::Unauthorized,
                    "namespace " + quoted(info.ns) + " needs a token; connect with one"};
  }
  if (info.options->grantRequired && !grantsAllow(who.grants, info.channel)) {
    return HubError{ErrorCode::Forbidden,
                    "the token does not grant the channel " + quoted(info.channel)};
  }
  return std::nullopt;
}

std::optional<HubError> checkHistory(const ChannelInfo& info, const Principal& who) {
  return checkSubscribe(info, who);
}

std::optional<HubError> checkPresence(const ChannelInfo& info, const Principal& who) {
  if (!info.options->presence) {
    return HubError{ErrorCode::Forbidden, info.personal()
                                              ? "personal channels have no presence"
                                              : "presence is off in namespace " + quoted(info.ns)};
  }
  return checkSubscribe(info, who);
}

std::optional<HubError> checkPublish(const ChannelInfo& info, const Principal& who,
                                     size_t dataBytes) {
  if (info.personal()) {
    return HubError{ErrorCode::Forbidden, "personal channels are published by the server API only"};
  }
  if (info.options->publish == PublishFrom::Server) {
    return HubError{ErrorCode::Forbidden,
                    "publishing to " + std::string(info.ns) + ":* is for the server API only"};
  }
  if (auto error = checkSubscribe(info, who)) return error;
  return checkServerPublish(info, dataBytes);
}

std::optional<HubError> checkServerPublish(const ChannelInfo& info, size_t dataBytes) {
  if (dataBytes > info.options->maxDataBytes) {
    return HubError{ErrorCode::TooLarge, "data is " + std::to_string(dataBytes) +
                                             " bytes; this channel takes at most " +
                                             std::to_string(info.options->maxDataBytes)};
  }
  return std::nullopt;
}

}  // namespace duplex::hub
