#include "hub/hub.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>

#include "hub/hub_client.h"

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
    : loop_(loop),
      engine_(engine),
      options_(std::move(options)),
      verifier_(options_.tokenSecret),
      inFlight_(std::make_shared<InFlight>()) {
  if (!options_.nowMs) options_.nowMs = systemNowMs;
  // Cancelled by ~Hub, so `this` is safe here.
  sweepTimer_ = loop_.setInterval(1000, [this] { sweepExpired(); });
}

Hub::~Hub() {
  loop_.cancelTimer(sweepTimer_);
  // From here on, a connection that ends, a completion, or any handler the App still holds
  // finds no Hub.
  lifeline_.cut();
  inFlight_->hubGone = true;
  // Accepted publishes are the engine's now: they are stored and delivered without the Hub.
  // Their publishers are acknowledged first, so the connections are told to go only when the
  // last of them has completed (publishCompleted).
  for (WebSocket* ws : clients_) {
    if (inFlight_->publishes == 0) {
      sayGoodbye(*ws);
    } else {
      inFlight_->farewell.push_back(std::any_cast<std::shared_ptr<Client>&>(ws->data()));
    }
  }
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
  clients_.insert(&ws);
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
  if (!clients_.erase(&ws)) return;
  Client& client = clientOf(ws);
  client.ws = nullptr;  // completions still on their way find nobody to answer
  while (!client.present.empty()) leavePresence(ws, client, client.present.back());
  for (const Client::Subscribing& s : client.subscribing) {
    if (s.joined) engine_.leave(s.channel, client.id);  // never announced: nobody to tell
  }
  client.subscribing.clear();
  if (!client.user.empty()) {
    auto it = users_.find(client.user);
    if (it != users_.end() && (it->second.erase(&ws), it->second.empty())) users_.erase(it);
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
  if (first && !client.user.empty()) {
    users_[client.user].insert(&ws);
    // Every connection of a user joins the user's personal channel (docs/protocol.md).
    if (auto personal = personalChannel(client.user)) {
      if (engine_.attach(ws, *personal)) client.channels.push_back(*personal);
    }
  }
  return true;
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
  ++metrics_.repliesOut;
  metrics_.replyBytesOut += text.size();
  ws.send(text);
}

void Hub::replyError(WebSocket& ws, uint64_t id, ErrorCode code, std::string_view message) {
  ++stats_.errors;
  metrics_.countError(code);
  scratch_.clear();
  writeError(scratch_, id, code, message);
  reply(ws, scratch_);
}

void Hub::disconnect(WebSocket& ws, DisconnectCode code, std::string_view reason) {
  scratch_.clear();
  writeDisconnectPush(scratch_, code, reason);
  reply(ws, scratch_);
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
  ++stats_.commands;
  ++metrics_.commandsIn;
  metrics_.commandBytesIn += data.size();
  if (opcode != Opcode::Text)
    return replyError(ws, 0, ErrorCode::BadRequest, "commands are JSON text frames");
  ParseResult parsed = parser_.parse(data);
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
    ++metrics_.commandsRateLimited;
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
    case Method::Ping:
      scratch_.clear();
      writeEmptyResult(scratch_, command.id);
      return reply(ws, scratch_);
  }
}

void Hub::connect(WebSocket& ws, Client& client, const Command& command) {
  if (!command.token.empty()) {
    HubError error;
    if (!authenticate(ws, client, command.token, error)) {
      return replyError(ws, command.id, error.code, error.message);
    }
  }
  scratch_.clear();
  writeConnectResult(scratch_, command.id, client.id, client.user, client.expires);
  reply(ws, scratch_);
}

void Hub::sweepExpired() {
  int64_t nowSeconds = options_.nowMs() / 1000;
  std::vector<WebSocket*> expired;
  for (WebSocket* ws : clients_) {
    Client& client = clientOf(*ws);
    if (client.expires && nowSeconds >= client.expires && ws->isOpen()) expired.push_back(ws);
  }
  for (WebSocket* ws : expired) disconnect(*ws, DisconnectCode::TokenExpired, "token expired");
  engine_.sweep(options_.nowMs());
}

}  // namespace duplex::hub
