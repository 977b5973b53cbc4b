#include "hub/hub.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "hub/hub_client.h"
#include "hub/proxy_client.h"

namespace duplex::hub {

namespace {

int64_t systemNowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Client ids are unique in the process, not per Hub: hubs on several loops share one engine,
// whose presence knows clients by id. They count up from a random start (below 2^62), so the
// nodes sharing a Redis engine do not hand out the same ids either.
uint64_t nextClientId() {
  static std::atomic<uint64_t> next{std::random_device{}() * (uint64_t{1} << 30) +
                                    std::random_device{}() % (uint64_t{1} << 30)};
  return next.fetch_add(1, std::memory_order_relaxed);
}

uint64_t nextHubId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// The disconnect push and close 1001 that a Hub going away sends; also sent from the last
// publish completion after the Hub is gone (Hub::InFlight), so it needs no Hub.
void sayGoodbye(WebSocket& ws) {
  std::string push;
  writeDisconnectPush(push, DisconnectCode::ShuttingDown, "the hub is shutting down");
  ws.send(push);
  ws.close(static_cast<uint16_t>(DisconnectCode::ShuttingDown), "the hub is shutting down");
}

}  // namespace

Hub::Hub(net::Loop& loop, Engine& engine, HubOptions options)
    : Hub(std::vector<net::Loop*>{&loop}, engine, std::move(options)) {}

Hub::Hub(const std::vector<net::Loop*>& loops, Engine& engine, HubOptions options)
    : engine_(engine),
      options_(std::move(options)),
      verifier_(options_.tokenSecret),
      loopList_(loops),
      id_(nextHubId()) {
  if (loops.empty()) throw std::invalid_argument("Hub: no loop to serve");
  if (!options_.nowMs) options_.nowMs = systemNowMs;
  if (options_.namespaces.proxy().any()) {
    // One HTTP client per loop inside (made on a loop's first request, on that loop's thread).
    proxy_ = std::make_unique<ProxyClient>(*loops.front(), options_.namespaces.proxy());
  }
  for (net::Loop* loop : loops) {
    parts_.push_back(std::make_unique<LoopPart>(*loop));
    LoopPart* part = parts_.back().get();
    // Cancelled by ~Hub, so `this` is safe here.
    part->sweepTimer = loop->setInterval(1000, [this, part] { sweepExpired(*part); });
  }
  // A user disconnect from any node's server API reaches this Hub's loops through the engine.
  engine_.setUserDisconnector(
      [life = lifeline_.handle()](net::Loop& loop, const std::string& user) {
        Hub* hub = life.get();
        if (!hub) return uint64_t{0};
        const auto& served = hub->loopList_;
        if (std::find(served.begin(), served.end(), &loop) == served.end()) return uint64_t{0};
        return hub->disconnectUser(hub->partOf(loop), user);
      });
}

Hub::~Hub() {
  for (auto& part : parts_) part->loop->cancelTimer(part->sweepTimer);
  // From here on, a connection that ends, a completion, or any handler the App still holds
  // finds no Hub.
  lifeline_.cut();
  // Accepted publishes are the engine's now: they are stored and delivered without the Hub.
  // Their publishers are acknowledged first, so the connections are told to go only when the
  // last of them has completed (publishCompleted). Each loop's in its own count: a loop's
  // completions run on that loop.
  for (auto& part : parts_) {
    InFlight& inFlight = *part->inFlight;
    inFlight.hubGone = true;
    for (WebSocket* ws : part->clients) {
      if (inFlight.publishes == 0) {
        sayGoodbye(*ws);
      } else {
        inFlight.farewell.push_back(std::any_cast<std::shared_ptr<Client>&>(ws->data()));
      }
    }
  }
}

Hub::LoopPart& Hub::partOf(const net::Loop& loop) const {
  // A handful of loops: a scan is cheaper than a lookup, and one loop is one comparison.
  for (const auto& part : parts_) {
    if (part->loop == &loop) return *part;
  }
  throw std::logic_error("Hub: a loop it does not serve");
}

Hub::LoopPart& Hub::here() const {
  if (parts_.size() == 1) return *parts_.front();
  net::Loop* current = net::Loop::current();
  // The thread's last answer, for this Hub (by id: an address may be reused) and this loop:
  // a few calls per message find it in one comparison, however many loops there are.
  struct Last {
    uint64_t hub = 0;
    const net::Loop* loop = nullptr;
    LoopPart* part = nullptr;
  };
  thread_local Last last;
  if (last.hub == id_ && last.loop == current && current) return *last.part;
  if (!current) throw std::logic_error("Hub: called from a thread that runs none of its loops");
  LoopPart& part = partOf(*current);
  last = {id_, current, &part};
  return part;
}

void Hub::publishCompleted(InFlight& inFlight) {
  --inFlight.publishes;
  if (!inFlight.hubGone || inFlight.publishes != 0) return;
  std::vector<std::weak_ptr<Client>> farewell = std::move(inFlight.farewell);
  for (const std::weak_ptr<Client>& weak : farewell) {
    auto client = weak.lock();
    if (client && client->ws) sayGoodbye(*client->ws);
  }
}

WebSocketBehavior Hub::behavior(WebSocketBehavior route) {
  WebSocketBehavior b = std::move(route);
  b.maxMessageSize = std::min<uint64_t>(b.maxMessageSize, kMaxCommandBytes);
  // The App keeps these for as long as the route exists, which may be longer than the Hub.
  // The route's own admission check (the embedder's) comes first, then the Hub's.
  b.accept = [life = lifeline_.handle(),
              routeAccept = std::move(b.accept)](const Request& request) {
    if (routeAccept) {
      if (int refused = routeAccept(request)) return refused;
    }
    Hub* hub = life.get();
    return hub ? hub->acceptUpgrade(request) : 503;
  };
  b.open = [life = lifeline_.handle()](WebSocket& ws, const Request& request) {
    if (Hub* hub = life.get()) hub->open(ws, request);
  };
  b.message = [life = lifeline_.handle()](WebSocket& ws, std::string_view data, Opcode op) {
    if (Hub* hub = life.get()) hub->message(ws, data, op);
  };
  b.close = [life = lifeline_.handle()](WebSocket& ws, uint16_t, std::string_view) {
    if (Hub* hub = life.get()) return hub->closed(ws);
    // The Hub is gone but a publish completion may still answer: it must not find `ws`.
    if (auto* client = std::any_cast<std::shared_ptr<Client>>(&ws.data())) (*client)->ws = nullptr;
  };
  return b;
}

int Hub::acceptUpgrade(const Request& request) const {
  std::string_view origin = request.header("Origin");
  if (origin.empty() || options_.allowedOrigins.empty()) return 0;
  bool allowed = std::find(options_.allowedOrigins.begin(), options_.allowedOrigins.end(),
                           origin) != options_.allowedOrigins.end();
  return allowed ? 0 : 403;
}

void Hub::open(WebSocket& ws, const Request& request) {
  auto client = std::make_shared<Client>();
  char id[32];
  std::snprintf(id, sizeof id, "c-%llx", static_cast<unsigned long long>(nextClientId()));
  client->id = id;
  client->ws = &ws;
  client->tokens = options_.commandBurst;
  client->lastRefillMs = options_.nowMs();
  ws.data() = client;
  partOf(ws.loop()).clients.insert(&ws);
  if (proxy_) keepProxyHeaders(*client, request);
  if (auto token = request.queryParam("token")) {
    HubError error;
    if (!authenticate(ws, *client, *token, error)) {
      disconnect(ws,
                 error.code == ErrorCode::TokenExpired ? DisconnectCode::TokenExpired
                                                       : DisconnectCode::Unauthorized,
                 error.message);
    }
  }
}

void Hub::closed(WebSocket& ws) {
  // By the connection's loop, not the thread's: an App destroyed after its loops stopped
  // closes what is left from another thread.
  LoopPart& part = partOf(ws.loop());
  if (!part.clients.erase(&ws)) return;
  Client& client = clientOf(ws);
  client.ws = nullptr;  // completions still on their way find nobody to answer
  while (!client.present.empty()) leavePresence(ws, client, client.present.back());
  for (const Client::Subscribing& s : client.subscribing) {
    if (s.joined) engine_.leave(s.channel, client.id);  // never announced: nobody to tell
  }
  client.subscribing.clear();
  if (!client.user.empty()) {
    auto it = part.users.find(client.user);
    if (it != part.users.end() && (it->second.erase(&ws), it->second.empty())) part.users.erase(it);
  }
}

Hub::Caller Hub::callerOf(WebSocket& ws) {
  return {lifeline_.handle(), std::any_cast<std::shared_ptr<Client>&>(ws.data())};
}

bool Hub::authenticate(WebSocket& ws, Client& client, std::string_view token, HubError& error) {
  int64_t nowSeconds = options_.nowMs() / 1000;
  auto claims = verifier_.verify(token, nowSeconds);
  if (!claims.ok()) {
    error = claims.error();
    return false;
  }
  // A connection is one user for its whole life: a second connect may refresh the token only.
  if (client.hasToken && claims->user != client.user) {
    error = {ErrorCode::Forbidden, "a connection cannot change its user"};
    return false;
  }
  bool first = !client.hasToken;
  client.hasToken = true;
  client.user = claims->user;
  client.grants = claims->channels;
  client.expires = claims->expires;
  if (first) enterUser(ws, client);
  return true;
}

void Hub::enterUser(WebSocket& ws, Client& client) {
  if (client.user.empty()) return;
  here().users[client.user].insert(&ws);
  // Every connection of a user joins the user's personal channel (docs/protocol.md).
  if (auto personal = personalChannel(client.user)) {
    if (engine_.attach(ws, *personal)) client.channels.push_back(*personal);
  }
}

bool Hub::takeToken(Client& client) {
  int64_t now = options_.nowMs();
  client.tokens =
      std::min(options_.commandBurst,
               client.tokens + (now - client.lastRefillMs) * options_.commandsPerSecond / 1000.0);
  client.lastRefillMs = now;
  if (client.tokens < 1) return false;
  client.tokens -= 1;
  return true;
}

void Hub::reply(WebSocket& ws, std::string_view text) {
  HubMetrics& metrics = here().metrics;
  ++metrics.repliesOut;
  metrics.replyBytesOut += text.size();
  ws.send(text);
}

void Hub::replyError(WebSocket& ws, uint64_t id, ErrorCode code, std::string_view message) {
  LoopPart& part = here();
  ++part.stats.errors;
  part.metrics.countError(code);
  part.scratch.clear();
  writeError(part.scratch, id, code, message);
  reply(ws, part.scratch);
}

void Hub::disconnect(WebSocket& ws, DisconnectCode code, std::string_view reason) {
  std::string& scratch = here().scratch;
  scratch.clear();
  writeDisconnectPush(scratch, code, reason);
  reply(ws, scratch);
  ws.close(static_cast<uint16_t>(code), reason);
}

Principal Hub::principalOf(const Client& client) const {
  return {client.hasToken, client.user, client.grants};
}

ChannelLimits Hub::limitsFor(const NamespaceOptions& options) const {
  ChannelLimits limits;
  limits.historySize = options.historySize;
  limits.historyTtlMs = static_cast<int64_t>(options.historyTtlSeconds) * 1000;
  limits.idempotencyWindowMs = static_cast<int64_t>(options.idempotencyWindowSeconds) * 1000;
  return limits;
}

void Hub::message(WebSocket& ws, std::string_view data, Opcode opcode) {
  Client& client = clientOf(ws);
  // Counted when handled, after the back end's connect answer.
  if (client.connecting && opcode == Opcode::Text) return holdWhileConnecting(ws, client, data);
  LoopPart& part = here();
  ++part.stats.commands;
  ++part.metrics.commandsIn;
  part.metrics.commandBytesIn += data.size();
  if (opcode != Opcode::Text)
    return replyError(ws, 0, ErrorCode::BadRequest, "commands are JSON text frames");
  ParseResult parsed = part.parser.parse(data);
  if (parsed.status == ParseStatus::NotJson) {
    ws.close(CloseCode::InvalidPayload, parsed.message);  // says where
    return;
  }
  if (parsed.status == ParseStatus::TooLarge) {
    ws.close(CloseCode::MessageTooBig, "command too large");
    return;
  }
  if (!parsed.ok()) return replyError(ws, parsed.command.id, parsed.error, parsed.message);
  const Command& command = parsed.command;
  if (!takeToken(client)) {
    ++part.metrics.commandsRateLimited;
    return replyError(ws, command.id, ErrorCode::RateLimited, "too many commands; slow down");
  }
  if (client.expires && options_.nowMs() / 1000 >= client.expires &&
      command.method != Method::Connect) {
    return replyError(ws, command.id, ErrorCode::TokenExpired,
                      "the token has expired; connect again");
  }
  switch (command.method) {
    case Method::Connect:
      return connect(ws, client, command);
    case Method::Subscribe:
      return subscribe(ws, client, command);
    case Method::Unsubscribe:
      return unsubscribe(ws, client, command);
    case Method::Publish:
      return publish(ws, client, command);
    case Method::History:
    case Method::Presence: {
      auto info = options_.namespaces.lookup(command.channel);
      if (!info.ok()) return replyError(ws, command.id, info.error().code, info.error().message);
      Principal who = principalOf(client);
      auto denied =
          command.method == Method::History ? checkHistory(*info, who) : checkPresence(*info, who);
      if (denied) return replyError(ws, command.id, denied->code, denied->message);
      auto answer = [caller = callerOf(ws)](std::string&& out) {
        if (auto open = caller.open()) open->ws->send(out);
      };
      if (command.method == Method::History) {
        return history(*info, command.id, command.since, command.limit, std::move(answer));
      }
      return presence(command.channel, command.id, std::move(answer));
    }
    case Method::Rpc:
      return rpc(ws, client, command);
    case Method::Ping:
      part.scratch.clear();
      writeEmptyResult(part.scratch, command.id);
      return reply(ws, part.scratch);
  }
}

void Hub::connect(WebSocket& ws, Client& client, const Command& command) {
  // Without a token, the back end decides who this is (the upgrade's cookies).
  if (command.token.empty() && !client.hasToken && proxy_ && proxy_->config().connect.configured())
    return connectThroughProxy(ws, client, command.id);
  if (!command.token.empty()) {
    HubError error;
    if (!authenticate(ws, client, command.token, error)) {
      return replyError(ws, command.id, error.code, error.message);
    }
  }
  std::string& scratch = here().scratch;
  scratch.clear();
  writeConnectResult(scratch, command.id, client.id, client.user, client.expires);
  reply(ws, scratch);
}

void Hub::sweepExpired(LoopPart& part) {
  int64_t nowSeconds = options_.nowMs() / 1000;
  std::vector<WebSocket*> expired;
  for (WebSocket* ws : part.clients) {
    Client& client = clientOf(*ws);
    if (client.expires && nowSeconds >= client.expires && ws->isOpen()) expired.push_back(ws);
  }
  for (WebSocket* ws : expired) disconnect(*ws, DisconnectCode::TokenExpired, "token expired");
  engine_.sweep(options_.nowMs());  // the engine runs one sweep at a time, whichever loop asks
}

uint64_t Hub::disconnectUser(LoopPart& part, const std::string& user) {
  auto it = part.users.find(user);
  if (it == part.users.end()) return 0;
  uint64_t count = 0;
  std::vector<WebSocket*> connections(it->second.begin(), it->second.end());
  for (WebSocket* ws : connections) {
    if (!ws->isOpen()) continue;
    disconnect(*ws, DisconnectCode::Disconnected, "disconnected by the server");
    ++count;
  }
  return count;
}

}  // namespace duplex::hub
