#include "hub/hub.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "hub/hub_client.h"
#include "hub/publication_list.h"

namespace duplex::hub {

namespace {

int64_t systemNowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

Hub::Hub(net::Loop& loop, pubsub::Topics& topics, ChannelStore& store, HubOptions options)
    : loop_(loop),
      topics_(topics),
      store_(store),
      options_(std::move(options)),
      verifier_(options_.tokenSecret) {
  if (!options_.nowMs) options_.nowMs = systemNowMs;
  // Cancelled by ~Hub, so `this` is safe here.
  sweepTimer_ = loop_.setInterval(1000, [this] { sweepExpired(); });
}

Hub::~Hub() {
  loop_.cancelTimer(sweepTimer_);
  // Accepted publishes are stored and acknowledged, not lost with the batch: the deferred
  // commit would find the Hub gone.
  commit();
  // From here on, a connection that ends (or any handler the App still holds) finds no Hub.
  lifeline_.cut();
  for (WebSocket* ws : clients_) {
    disconnect(*ws, DisconnectCode::ShuttingDown, "the hub is shutting down");
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
    if (Hub* hub = life.get()) hub->closed(ws);
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
  std::snprintf(id, sizeof id, "c-%llx", static_cast<unsigned long long>(nextClientId_++));
  client->id = id;
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
  for (const std::string& channel : client.channels) leavePresence(ws, client, channel);
  if (!client.user.empty()) {
    auto it = users_.find(client.user);
    if (it != users_.end() && (it->second.erase(&ws), it->second.empty())) users_.erase(it);
  }
  for (Pending& p : pending_) {
    if (p.publisher == &ws) p.publisher = nullptr;
  }
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
      if (topics_.subscribe(ws, *personal)) client.channels.push_back(*personal);
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
      std::string out;
      if (command.method == Method::History) {
        history(out, command.id, *info, command.since, command.limit);
      } else {
        presence(out, command.id, command.channel);
      }
      return reply(ws, out);
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

void Hub::subscribe(WebSocket& ws, Client& client, const Command& command) {
  auto info = options_.namespaces.lookup(command.channel);
  if (!info.ok()) return replyError(ws, command.id, info.error().code, info.error().message);
  if (auto denied = checkSubscribe(*info, principalOf(client))) {
    return replyError(ws, command.id, denied->code, denied->message);
  }
  if (topics_.isSubscribed(ws, command.channel)) {
    return replyError(ws, command.id, ErrorCode::AlreadySubscribed, "already subscribed");
  }
  if (client.channels.size() >= options_.maxSubscriptions) {
    return replyError(ws, command.id, ErrorCode::LimitExceeded, "too many subscriptions");
  }
  const NamespaceOptions& ns = *info->options;
  if (command.last && *command.last > options_.maxRecovery) {
    return replyError(
        ws, command.id, ErrorCode::BadRequest,
        "subscribe.last must be an integer from 0 to " + std::to_string(options_.maxRecovery));
  }
  if (ns.presence) {
    auto& members = presence_[std::string(command.channel)];
    if (members.size() >= ns.presenceMax) {
      return replyError(ws, command.id, ErrorCode::LimitExceeded, "presence is full");
    }
  }
  std::string out;
  if (ns.historySize == 0) {
    if (command.last) {
      beginSubscribeLast(out, command.id, {0, {}});
      endPublications(out);
    } else {
      writeSubscribeResult(out, command.id, {0, {}});
    }
  } else {
    auto position = positionFor(*info);
    if (!position.ok())
      return replyError(ws, command.id, ErrorCode::Unavailable,
                        "the channel cannot be read or created now; retry");
    if (command.last) {
      // The newest publications, then subscribe, in this one call on the loop thread: a
      // publication is broadcast only after it is stored, so the live pushes that follow start
      // right above the reply's offset.
      // Fewer than asked when they would not fit in one reply: the newest that do.
      beginSubscribeLast(out, command.id, {position->top, position->epoch.view()});
      PublicationList list(out, options_.maxReplyBytes, PublicationList::Keep::Newest);
      auto result =
          store_.latest(command.channel, static_cast<size_t>(*command.last),
                        [&](const PublicationView& pub) { list.add(pub.offset, pub.data); });
      if (!result.ok())
        return replyError(ws, command.id, ErrorCode::Unavailable, "history cannot be read");
      list.finish();
      endPublications(out);
    } else if (!command.since) {
      writeSubscribeResult(out, command.id, {position->top, position->epoch.view()});
    } else {
      // Replay what was missed, then subscribe: both on this thread in one call, and
      // publications are broadcast only after they are stored, so nothing falls in between.
      // What does not fit in one reply cannot be recovered: the client starts over instead.
      beginSubscribeRecovered(out, command.id, {position->top, position->epoch.view()});
      PublicationList list(out, options_.maxReplyBytes, PublicationList::Keep::Oldest);
      auto result = store_.since(
          command.channel, command.since->offset, command.since->epoch, options_.maxRecovery,
          [&](const PublicationView& pub) { list.add(pub.offset, pub.data); });
      if (!result.ok())
        return replyError(ws, command.id, ErrorCode::Unavailable, "history cannot be read");
      if (result->recovery == Recovery::Recovered && !result->limited && !list.overflowed()) {
        ++metrics_.recovered;
        endPublications(out);
      } else {
        ++metrics_.notRecovered;
        out.clear();
        writeSubscribeUnrecovered(out, command.id,
                                  {result->position.top, result->position.epoch.view()});
      }
    }
  }
  topics_.subscribe(ws, command.channel);
  client.channels.emplace_back(command.channel);
  reply(ws, out);
  if (ns.presence) {
    presence_[std::string(command.channel)].push_back(&ws);
    scratch_.clear();
    writeJoinPush(scratch_, command.channel, client.id, client.user);
    topics_.publish(command.channel, scratch_);
  }
}

void Hub::unsubscribe(WebSocket& ws, Client& client, const Command& command) {
  auto it = std::find(client.channels.begin(), client.channels.end(), command.channel);
  if (it == client.channels.end() || (!command.channel.empty() && command.channel[0] == '#')) {
    return replyError(ws, command.id, ErrorCode::NotSubscribed, "not subscribed");
  }
  topics_.unsubscribe(ws, command.channel);
  std::string channel = *it;
  client.channels.erase(it);
  leavePresence(ws, client, channel);
  scratch_.clear();
  writeEmptyResult(scratch_, command.id);
  reply(ws, scratch_);
}

void Hub::leavePresence(WebSocket& ws, Client& client, std::string_view channel) {
  auto it = presence_.find(std::string(channel));
  if (it == presence_.end()) return;
  auto& members = it->second;
  auto member = std::find(members.begin(), members.end(), &ws);
  if (member == members.end()) return;
  members.erase(member);
  std::string push;
  writeLeavePush(push, channel, client.id, client.user);
  if (members.empty()) presence_.erase(it);
  topics_.publish(channel, push, Opcode::Text, &ws);
}

StoreResult<Position> Hub::positionFor(const ChannelInfo& info) {
  if (info.options->historySize == 0) return store_.position(info.channel);
  return store_.ensureChannel(info.channel, limitsFor(*info.options), options_.nowMs());
}

void Hub::history(std::string& out, ReplyTo to, const ChannelInfo& info,
                  const std::optional<Since>& since, uint32_t limit) {
  std::string_view channel = info.channel;
  auto position = positionFor(info);
  if (!position.ok())
    return writeError(out, to, ErrorCode::Unavailable,
                      "the channel cannot be read or created now; retry");
  // Within the reply budget: from an offset, the oldest that fit (ask again from the last one
  // for more); without, the newest that fit.
  beginHistoryResult(out, to, {position->top, position->epoch.view()});
  PublicationList list(out, options_.maxReplyBytes,
                       since ? PublicationList::Keep::Oldest : PublicationList::Keep::Newest);
  auto visit = [&](const PublicationView& pub) { list.add(pub.offset, pub.data); };
  bool ok = since ? store_.since(channel, since->offset, since->epoch, limit, visit).ok()
                  : store_.latest(channel, limit, visit).ok();
  if (!ok) {
    out.clear();
    return writeError(out, to, ErrorCode::Unavailable, "history cannot be read");
  }
  list.finish();
  endPublications(out);
}

void Hub::presence(std::string& out, ReplyTo to, std::string_view channel) {
  beginPresenceResult(out, to);
  auto it = presence_.find(std::string(channel));
  if (it != presence_.end()) {
    for (WebSocket* member : it->second) {
      Client& client = clientOf(*member);
      appendPresenceClient(out, client.id, client.user);
    }
  }
  endPresenceResult(out);
}

void Hub::sweepExpired() {
  int64_t nowSeconds = options_.nowMs() / 1000;
  std::vector<WebSocket*> expired;
  for (WebSocket* ws : clients_) {
    Client& client = clientOf(*ws);
    if (client.expires && nowSeconds >= client.expires && ws->isOpen()) expired.push_back(ws);
  }
  for (WebSocket* ws : expired) disconnect(*ws, DisconnectCode::TokenExpired, "token expired");
  auto trimmed = store_.trimStep(options_.nowMs());
  (void)trimmed;  // errors are retried on the next sweep
}

}  // namespace duplex::hub
