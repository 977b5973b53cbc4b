#pragma once
// The hub: channels over WebSockets with what plain WebSockets lack (docs/protocol.md):
// replies with stable error codes, publish acknowledged only once stored, idempotent publish,
// recovery of what a reconnecting client missed, presence, users with personal channels, token
// auth, and a server API for back ends. It is a WebSocketBehavior (app.ws("/connection",
// hub.behavior())) plus POST routes (hub.addApiRoutes(app)), over an Engine (engine.h) for
// storage, fan-out and presence. One Hub serves every loop of an App: each loop keeps its own
// part of it (its connections, users, counters and scratch space), touched only on that loop's
// thread, and whatever a loop asks the engine comes back on that loop, so nothing is locked.
// What spans the loops (a user's connections everywhere, /metrics, the admin page's numbers)
// asks each loop on its own thread (net/every_loop.h).
#include <array>
#include <atomic>
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
// Runs on the publishing connection's loop thread, after the access checks and the publish rate
// limit: with several loops, on several threads at once (keep per-thread state thread_local).
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

  void add(const HubStats& other);
};

// Every number the hub reports, over all its loops (Hub::report): counters added up, gauges
// counted on each loop when asked (users and channels counted once however many loops have
// them).
struct HubReport {
  HubStats stats;
  HubMetrics metrics;
  HubGauges gauges;
  // The users and channels behind gauges.users and gauges.channels, so that add() counts one
  // connected on several loops once.
  std::unordered_set<std::string> users;
  std::unordered_set<std::string> channels;

  // Another loop's report added to this one.
  void add(const HubReport& other);
};

class Hub {
 public:
  // `loop` and `engine` must outlive the Hub. The App it is mounted on need not: what the Hub
  // gave it (the route's handlers, the API routes) does nothing once the Hub is gone, and
  // completions that arrive after it are ignored.
  Hub(net::Loop& loop, Engine& engine, HubOptions options);
  // One Hub over several loops (App::loops()): a connection's commands, its engine calls and
  // their completions run on the connection's loop. Construct and destroy it while the loops
  // do not run; every loop must be one the engine serves.
  Hub(const std::vector<net::Loop*>& loops, Engine& engine, HubOptions options);
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

  // Every loop's numbers added up, read now: on the loop's thread with one loop; with several
  // only while they do not run (tests). A running server asks report() instead.
  HubStats stats() const;
  HubMetrics metrics() const;
  HubGauges gauges() const;
  size_t clientCount() const;
  // The numbers of /metrics and the admin page over every loop, each loop's read on its own
  // thread; answered later on the calling loop's thread.
  void report(std::function<void(HubReport)> done);
  // This loop's part of report(); call on that loop's thread. For an embedder gathering more
  // per loop in the same round (duplexd adds its Topics' figures).
  HubReport reportOf(const net::Loop& loop) const;
  // The channels that have subscribers on any loop, with how many and the latest offset (the
  // admin page). Answered on the calling loop (the offsets are read through the engine).
  void channelSummaries(std::function<void(std::vector<ChannelSummary>)> done);
  // The back end's proxies (proxy_client.h), when the namespaces' configuration has any.
  const ProxyClient* proxy() const { return proxy_.get(); }
  // The loops the Hub serves, loop 0 first.
  const std::vector<net::Loop*>& loops() const { return loopList_; }

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
  // What one loop keeps of the Hub, touched only on that loop's thread (hub_client.h).
  struct LoopPart;
  // The calling thread's loop's part (the connection's, or the completion's: the same loop).
  LoopPart& here() const;
  LoopPart& partOf(const net::Loop& loop) const;
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
  // A transaction's publications may complete on several loops: its commit latency is observed
  // once, by the first loop to see it (true).
  bool firstToObserve(uint64_t commit);
  // The server API: an answer a completion sends (counted then, not when the handler returns).
  LaterResponse takeLater(HttpResponse& response);
  std::function<void(std::string&&)> answerLater(const Request& request, HttpResponse& response);
  // /api/disconnect's answer, once the engine has ended the user's connections (engine.h).
  Engine::Done<DisconnectResult> answerDisconnected(const Request& request, HttpResponse& response);
  void countApiAnswer(std::string_view endpoint, const HttpResponse& response);

  bool authenticate(WebSocket& ws, Client& client, std::string_view token, HubError& error);
  // The connection becomes its user's: in its loop's users, and in the user's personal channel.
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
  // Disconnects the user's connections on this loop; how many.
  uint64_t disconnectUser(LoopPart& part, const std::string& user);
  void leavePresence(WebSocket& ws, Client& client, std::string_view channel);
  void sweepExpired(LoopPart& part);
  ChannelLimits limitsFor(const NamespaceOptions& options) const;
  Principal principalOf(const Client& client) const;

  Engine& engine_;
  HubOptions options_;
  JwtVerifier verifier_;  // read-only once constructed: shared by the loops
  std::vector<net::Loop*> loopList_;
  std::vector<std::unique_ptr<LoopPart>> parts_;  // in the order of loopList_
  uint64_t id_;  // unique in the process: what here()'s per-thread memo is keyed by
  static constexpr size_t kCommitSlots = 64;
  std::array<std::atomic<uint64_t>, kCommitSlots> commitsObserved_{};
  // What the handlers the App holds and the engine's completions capture instead of `this`.
  net::Lifeline<Hub> lifeline_{this};
  // The back end's proxies: one HTTP client per loop inside, each used on its loop's thread.
  std::unique_ptr<ProxyClient> proxy_;
};

}  // namespace duplex::hub
