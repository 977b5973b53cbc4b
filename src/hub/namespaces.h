#pragma once
// Channels and namespaces (docs/protocol.md, "Channels and namespaces"): the configuration that
// says which channels exist and what each allows, the channel name rules, and the access rules
// that follow from a namespace's options and a connection's token.
//
// A channel is "namespace:name" ("talk:main", "team:42:todo": the namespace ends at the first
// ':'), or "#user", the personal channel of one user. Names use [A-Za-z0-9_.:@=-], with '#' only
// as the first character of a personal channel, and are at most 255 bytes.
//
// The configuration is JSON:
//   {"namespaces": {"talk": {"history_size": 1000, "presence": true},
//                   "private": {"anonymous": false, "grant_required": true}},
//    "personal": {"history_size": 100},
//    "proxy": {"connect": {"url": "http://127.0.0.1:8000/duplex/connect"}}}
// "personal" (optional) sets the history and limits of personal channels; who may publish to
// and subscribe to them is fixed (the server API; the user itself).
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "hub/hub_protocol_error.h"
#include "hub/proxy_config.h"

namespace duplex::hub {

inline constexpr size_t kMaxChannelBytes = 255;

enum class PublishFrom : uint8_t {
  Clients,  // subscribers may publish
  Server,   // only the server API may
};

struct NamespaceOptions {
  uint64_t historySize = 0;        // publications kept per channel; 0: none (offsets stay 0)
  uint64_t historyTtlSeconds = 0;  // 0: kept until trimmed by size
  PublishFrom publish = PublishFrom::Clients;
  bool presence = false;                    // track subscribers; send join/leave
  bool anonymous = true;                    // connections without a token may subscribe
  bool grantRequired = false;               // subscribing needs the token's `channels` to grant it
  uint64_t maxDataBytes = 16384;            // larger data (as minified JSON) gets too_large
  uint64_t presenceMax = 1000;              // clients tracked per channel
  uint64_t idempotencyWindowSeconds = 300;  // how long a publish key is remembered
  // Client publications per second per connection in this namespace (a token bucket); 0: no
  // limit. The burst is how many may come at once; 0: max(1, 2 * publishRate).
  double publishRate = 0;
  double publishBurst = 0;
  // Ask the back end (ProxyConfig::subscribe / ::publish) before a client subscribes or
  // publishes here; the configuration refuses them without that proxy's URL.
  bool subscribeProxy = false;
  bool publishProxy = false;
  bool operator==(const NamespaceOptions&) const = default;
};

// The bucket size a namespace's publish rate limit uses (its publish_burst or the default).
double publishBurstOf(const NamespaceOptions& options);

// Personal channels unless the configuration's "personal" says otherwise: no history, published
// by the server API only, never anonymous.
NamespaceOptions defaultPersonalOptions();

// What lookup() found: views into the looked-up name and the Namespaces object.
struct ChannelInfo {
  std::string_view channel;
  std::string_view ns;    // "talk" for "talk:main"; empty for a personal channel
  std::string_view user;  // "alice" for "#alice"; empty for a namespaced channel
  const NamespaceOptions* options = nullptr;
  bool personal() const { return !user.empty(); }
};

// Who asks: the connection's token, if any.
struct Principal {
  bool hasToken = false;
  std::string_view user;                // the token's sub ("" for an anonymous token)
  std::span<const std::string> grants;  // the token's `channels` claim
};

class Namespaces {
 public:
  Namespaces();  // no namespaces: only personal channels exist

  // Parses the configuration above. Unknown keys, wrong types and out-of-range values are
  // refused (bad_request) with a message naming the key, e.g. "namespaces.talk.histroy_size:
  // unknown option (known: history_size, ...)".
  static HubResult<Namespaces> fromJson(std::string_view config);

  // Adds or replaces a namespace; false (and nothing changes) when the name is not a valid one.
  bool add(std::string_view name, const NamespaceOptions& options);
  void setPersonalOptions(const NamespaceOptions& options);

  // The channel's options: bad_request for a malformed name, not_found for a namespace that is
  // not configured.
  HubResult<ChannelInfo> lookup(std::string_view channel) const;
  const NamespaceOptions* find(std::string_view ns) const;
  const NamespaceOptions& personalOptions() const { return personal_; }
  size_t size() const { return namespaces_.size(); }
  // The back end's proxies (proxy_config.h): none unless the configuration has "proxy".
  const ProxyConfig& proxy() const { return proxy_; }
  void setProxy(ProxyConfig proxy) { proxy_ = std::move(proxy); }

 private:
  std::map<std::string, NamespaceOptions, std::less<>> namespaces_;
  NamespaceOptions personal_;
  ProxyConfig proxy_;
};

// nullopt when `channel` follows the name rules, else a bad_request saying which one it breaks.
std::optional<HubError> validateChannelName(std::string_view channel);
bool isValidNamespaceName(std::string_view ns);
// "#alice" for "alice"; nullopt for "" (anonymous) and for a user whose id cannot name a channel.
std::optional<std::string> personalChannel(std::string_view user);

// A grant is an exact channel name, or a prefix ending in '*' ("team:42:*" grants "team:42:x").
bool grantMatches(std::string_view grant, std::string_view channel);
bool grantsAllow(std::span<const std::string> grants, std::string_view channel);

// Access rules; nullopt means allowed. Subscribing: a personal channel only by its own user
// (forbidden), a non-anonymous namespace only with a token (unauthorized), a grant_required one
// only with a grant (forbidden). history and presence need what subscribe needs; presence also
// needs the namespace's presence on (forbidden).
std::optional<HubError> checkSubscribe(const ChannelInfo& info, const Principal& who);
std::optional<HubError> checkHistory(const ChannelInfo& info, const Principal& who);
std::optional<HubError> checkPresence(const ChannelInfo& info, const Principal& who);
// A client's publish: never on personal channels, only where publish is "clients" (forbidden),
// what subscribing needs, and data of at most max_data_bytes (too_large). Whether the client is
// subscribed (not_subscribed) is the hub's to check.
std::optional<HubError> checkPublish(const ChannelInfo& info, const Principal& who,
                                     size_t dataBytes);
// The server API's publish: any channel, data of at most max_data_bytes.
std::optional<HubError> checkServerPublish(const ChannelInfo& info, size_t dataBytes);

}  // namespace duplex::hub
