#pragma once
// The hub: channels over WebSockets with what plain WebSockets lack (docs/protocol.md):
// replies with stable error codes, publish acknowledged only once stored, idempotent publish,
// recovery of what a reconnecting client missed, presence, users with personal channels, token
// auth, and a server API for back ends. It is a WebSocketBehavior (app.ws("/connection",
// hub.behavior())) plus POST routes (hub.addApiRoutes(app)), over an Engine (engine.h) for
// storage, fan-out and presence. The Hub lives on one loop; whatever it asks the engine comes
// back on that loop, so its own state needs no lock.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "hub/engine.h"
#include "hub/hub_metrics.h"
#include "hub/hub_protocol.h"
#include "hub/jwt.h"
#include "hub/namespaces.h"
#include "net/lifeline.h"
#include "server/app.h"

namespace duplex::hub {

class ProxyClient;
struct ConnectVerdict;

// An embedder's rule for what may be published in a namespace (HubOptions::validators). Gets
// the channel and the data as the minified JSON text that would be stored (a validator may
// parse it with its own simdjson parser); returns nullopt to accept, or the error the publisher
// gets (normally bad_request with a message naming what is wrong), and then nothing is stored.
// Runs on the loop thread, after the access checks and the publish rate limit.
using PublishValidator =
    std::function<std::optional<HubError>(std::string_view channel, std::string_view data)>;

struct HubOptions {
  Namespaces namespaces;
  std::string tokenSecret;  // HS256 key; empty: every token is refused
  std::string apiKey;       // X-API-Key of the server API; empty: API off
  // The admin page's password (duplexd --admin-password): also accepted as X-API-Key, since
  // the page publishes and disconnects through the server API. Empty: the API key only.
  std::string adminPassword;
  std::vector<std::string> allowedOrigins;  // browsers from elsewhere get 403; empty: any
  double commandsPerSecond = 100;
  double commandBurst = 200;
  size_t maxSubscriptions = 256;  // per connection
  // Publications a subscribe may replay (`since`; more: not recovered) or ask for (`last`).
  size_t maxRecovery = 10'000;
  // Bytes of publications one reply may carry (subscribe last/since, history): bounded in memory,
  // well under a connection's maxBackpressure (4 MiB), and within the 1 MiB message limit that
  // clients such as python-websockets apply by default.
  size_t maxReplyBytes = 1'000'000;
  // Namespace name -> its validator, for client publishes and the server API's alike.
  // Personal channels have none.
  std::map<std::string, PublishValidator, std::less<>> validators;
  // The clock (milliseconds since the Unix epoch); tests pass their own.
  std::function<int64_t()> nowMs;
};

struct HubStats {
  uint64_t commands = 0;
  uint64_t errors = 0;
  uint64_t published = 0;   // stored (or history-less) publications broadcast
  uint64_t duplicates = 0;  // idempotent retries answered from the store
  uint64_t unavailable = 0;
};

class Hub {
 public:
  // `loop` and `engine` must outlive the Hub. The App it is mounted on need not: what the Hub
  // gave it (the route's handlers, the API routes) does nothing once the Hub is gone, and
  // completions that arrive after it are ignored.
  Hub(net::Loop& loop, Engine& engine, HubOptions options);
  // Sends every connection a disconnect push and close 1001 (DisconnectCode::ShuttingDown).
  // Publishes already accepted are the engine's: they are stored and delivered all the same
  // (their publishers are gone, so nobody is acknowledged). The route's handlers and the API
  // routes outlive it harmlessly: an upgrade is refused with 503, an API call answered
  // "unavailable", a closing connection's handlers do nothing.
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // The WebSocket side: mount it with app.ws("/connection", hub.behavior(route)). `route`
  // carries what the embedder decides for all its WebSocket routes (limits, timeouts,
  // compression, as duplexd's flags set them); the Hub puts its handlers on it (replacing any
  // but `accept`, which runs before its own) and lowers maxMessageSize to the protocol's
  // command limit (kMaxCommandBytes) when higher.
  WebSocketBehavior behavior(WebSocketBehavior route = {});
  // POST /api/publish, /api/history, /api/presence, /api/disconnect.
  void addApiRoutes(App& app);

  const HubStats& stats() const { return stats_; }
  // For /metrics: counters (hub_metrics.h) and gauges counted now.
  const HubMetrics& metrics() const { return metrics_; }
  HubGauges gauges() const;
  // The channels that have subscribers, with how many and the latest offset (the admin page).
  // Answered on this loop (the offsets are read through the engine, off the loop).
  void channelSummaries(std::function<void(std::vector<ChannelSummary>)> done);
  size_t clientCount() const { return clients_.size(); }
  // The back end's proxies (proxy_client.h), when the namespaces' configuration has any.
  const ProxyClient* proxy() const { return proxy_.get(); }

  struct Client;  // per-connection state (in ws.data())
  // A publish a connection sent to a channel while its subscribe to it waited for the engine.
  // It is handled once the subscribe is answered: the commands of one connection take effect in
  // the order sent, so a client that subscribes and at once publishes gets its own publication.
  static constexpr size_t kMaxHeldPublishes = 256;
  struct HeldPublish {
    uint64_t id;
    std::string key;
    std::string data;
  };

 private:
  // What a completion holds instead of `this` and a WebSocket pointer: both may be gone when
  // the engine answers.
  struct Caller;
  struct InFlight;
  // A WebSocket publish completed; after the Hub, the last one says goodbye to its clients.
  static void publishCompleted(InFlight& inFlight);
  struct Subscription;
  Caller callerOf(WebSocket& ws);

  int acceptUpgrade(const Request& request) const;  // 0 or the HTTP status refusing it
  void open(WebSocket& ws, const Request& request);
  void message(WebSocket& ws, std::string_view data, Opcode opcode);
  void closed(WebSocket& ws);

  void connect(WebSocket& ws, Client& client, const Command& command);
  void subscribe(WebSocket& ws, Client& client, const Command& command);
  void unsubscribe(WebSocket& ws, Client& client, const Command& command);
  void publish(WebSocket& ws, Client& client, const Command& command);
  // Handles the publishes held while a subscribe to `channel` waited (Client::HeldPublish).
  void releaseHeld(WebSocket& ws, Client& client, std::string_view channel,
                   std::vector<HeldPublish> held);
  void subscribeRead(WebSocket& ws, std::shared_ptr<Subscription> subscription, ReadRequest read);
  // The engine answered a subscribe's read: reply, attach, announce.
  void subscribed(WebSocket& ws, Client& client, const Subscription& subscription,
                  const ReadResult& read);
  void answerSubscribe(WebSocket& ws, Client& client, const Subscription& subscription,
                       const ReadResult& read);
  // History for a client or the server API; `answer` gets the reply (on this loop).
  void history(const ChannelInfo& info, ReplyTo to, const std::optional<Since>& since,
               uint32_t limit, std::function<void(std::string&&)> answer);
  // A read request for the channel; in a namespace with history it creates the channel (and
  // its epoch) if needed, so no reply there carries the empty epoch.
  ReadRequest readRequestFor(const ChannelInfo& info) const;
  std::optional<HubError> takePublishToken(Client& client, const ChannelInfo& info);
  std::optional<HubError> validate(const ChannelInfo& info, std::string_view data) const;
  void presence(std::string_view channel, ReplyTo to, std::function<void(std::string&&)> answer);
  void published(const PublishResult& result);  // counts a completed publish
  // The server API: an answer a completion sends (counted then, not when the handler returns).
  LaterResponse takeLater(HttpResponse& response);
  std::function<void(std::string&&)> answerLater(const Request& request, HttpResponse& response);
  void countApiAnswer(std::string_view endpoint, const HttpResponse& response);

  bool authenticate(WebSocket& ws, Client& client, std::string_view token, HubError& error);
  // The connection becomes its user's: in users_, and in the user's personal channel.
  void enterUser(WebSocket& ws, Client& client);

  // The proxies to the application's back end (proxy_hub.cpp); each answers on this loop.
  void keepProxyHeaders(Client& client, const Request& request) const;
  // While the connect proxy decides, the connection's later commands wait (in order).
  void holdWhileConnecting(WebSocket& ws, Client& client, std::string_view data);
  void connectThroughProxy(WebSocket& ws, Client& client, uint64_t id);
  void connectAnswered(WebSocket& ws, Client& client, uint64_t id,
                       HubResult<ConnectVerdict>&& verdict);
  void subscribeThroughProxy(WebSocket& ws, Client& client,
                             std::shared_ptr<Subscription> subscription, ReadRequest read);
  // The rest of a subscribe once allowed: presence (where on), then the read.
  void subscribeAllowed(WebSocket& ws, Client& client, std::shared_ptr<Subscription> subscription,
                        ReadRequest read);
  void publishThroughProxy(WebSocket& ws, Client& client, const Command& command);
  void askNextPublish(WebSocket& ws, Client& client);
  // A publish every check has passed: to the engine, acknowledged when stored and delivered.
  void publishToEngine(WebSocket& ws, uint64_t id, const ChannelInfo& info, std::string data,
                       std::string key);
  void rpc(WebSocket& ws, Client& client, const Command& command);
  bool takeToken(Client& client);
  void reply(WebSocket& ws, std::string_view text);
  void replyError(WebSocket& ws, uint64_t id, ErrorCode code, std::string_view message);
  void disconnect(WebSocket& ws, DisconnectCode code, std::string_view reason);
  void leavePresence(WebSocket& ws, Client& client, std::string_view channel);
  void sweepExpired();
  ChannelLimits limitsFor(const NamespaceOptions& options) const;
  Principal principalOf(const Client& client) const;

  net::Loop& loop_;
  Engine& engine_;
  HubOptions options_;
  JwtVerifier verifier_;
  CommandParser parser_;
  std::unordered_set<WebSocket*> clients_;
  std::unordered_map<std::string, std::unordered_set<WebSocket*>> users_;
  net::Loop::TimerId sweepTimer_ = 0;
  std::string scratch_;
  HubStats stats_;
  HubMetrics metrics_;
  // What the handlers the App holds and the engine's completions capture instead of `this`.
  net::Lifeline<Hub> lifeline_{this};
  std::shared_ptr<InFlight> inFlight_;
  std::unique_ptr<ProxyClient> proxy_;
  uint64_t lastCommitObserved_ = 0;
  bool answeringLater_ = false;  // the API handler now running took response.later()  //
                                 // PublishResult::commit.id last put in storeCommit
};

}  // namespace duplex::hub
