// The Hub's hooks into the application's back end (docs/protocol.md, "Proxies"): connect,
// subscribe, publish and rpc, each a request through ProxyClient whose completion runs on this
// loop and finds the connection through a weak handle (Hub::Caller), since it may have closed
// meanwhile. Nothing the back end has not approved is done: a refusal or a back end that does
// not answer leaves the subscribe unmade and the publication unstored.
#include <algorithm>

#include "hub/hub.h"
#include "hub/hub_client.h"
#include "hub/proxy_client.h"
#include "net/log.h"

namespace duplex::hub {

namespace {

// Commands a connection may send while the back end decides on its connect; more is a client
// that does not wait for answers at all.
constexpr size_t kMaxHeldCommands = 256;

// A close frame's reason is at most 123 bytes (RFC 6455 5.5): cut at a UTF-8 boundary.
std::string_view closeReason(std::string_view reason) {
  constexpr size_t kMax = 123;
  if (reason.size() <= kMax) return reason;
  size_t end = kMax;
  while (end > 0 && (static_cast<unsigned char>(reason[end]) & 0xC0) == 0x80) --end;
  return reason.substr(0, end);
}

}  // namespace

void Hub::keepProxyHeaders(Client& client, const Request& request) const {
  for (const std::string& name : proxy_->config().headers) {
    std::string_view value = request.header(name);
    if (!value.empty()) client.proxyHeaders.emplace_back(name, value);
  }
}

void Hub::holdWhileConnecting(WebSocket& ws, Client& client, std::string_view data) {
  if (client.heldCommands.size() >= kMaxHeldCommands) {
    return replyError(ws, 0, ErrorCode::RateLimited,
                      "too many commands while the back end decides on the connect");
  }
  client.heldCommands.emplace_back(data);
}

void Hub::connectThroughProxy(WebSocket& ws, Client& client, uint64_t id) {
  client.connecting = true;
  // `this`: the ProxyClient is the Hub's, and drops its completions when it goes.
  proxy_->connect({client.id, client.user, client.proxyHeaders},
                  [this, caller = callerOf(ws), id](HubResult<ConnectVerdict>&& verdict) {
                    if (auto open = caller.open()) {
                      connectAnswered(*open->ws, *open, id, std::move(verdict));
                    }
                  });
}

void Hub::connectAnswered(WebSocket& ws, Client& client, uint64_t id,
                          HubResult<ConnectVerdict>&& verdict) {
  client.connecting = false;
  std::vector<std::string> held = std::move(client.heldCommands);
  client.heldCommands.clear();
  if (!verdict.ok()) {
    const HubError& error = verdict.error();
    replyError(ws, id, error.code, error.message);
    // A back end that could not be asked may be asked again (connect once more); a refusal is
    // final, and what was sent behind the connect is not handled.
    if (error.code != ErrorCode::Unavailable) {
      return disconnect(ws, DisconnectCode::Unauthorized, closeReason(error.message));
    }
  } else {
    client.hasToken = true;  // authenticated, by the back end instead of a token
    client.user = std::move(verdict->user);
    client.expires = verdict->expires;
    enterUser(ws, client);
    // The channels the back end subscribes the connection to, as the personal channel is:
    // live publications, no presence, no history in the reply.
    for (const std::string& channel : verdict->channels) {
      if (std::find(client.channels.begin(), client.channels.end(), channel) !=
          client.channels.end()) {
        continue;
      }
      if (!options_.namespaces.lookup(channel).ok()) {
        DUPLEX_LOG(Warn, "hub: the connect proxy's channel %s is in no configured namespace",
                   channel.c_str());
        continue;
      }
      if (engine_.attach(ws, channel)) client.channels.push_back(channel);
    }
    std::string& scratch = here().scratch;
    scratch.clear();
    writeConnectResult(scratch, id, client.id, client.user, client.expires);
    reply(ws, scratch);
  }
  for (size_t i = 0; i < held.size(); ++i) {
    if (!client.ws) return;
    if (client.connecting) {  // a held connect went to the back end: the rest waits again
      client.heldCommands.assign(std::make_move_iterator(held.begin() + i),
                                 std::make_move_iterator(held.end()));
      return;
    }
    message(ws, held[i], Opcode::Text);
  }
}

void Hub::subscribeThroughProxy(WebSocket& ws, Client& client,
                                std::shared_ptr<Subscription> subscription, ReadRequest read) {
  // Counted as subscribing meanwhile (Client::subscribing): a second subscribe to the channel
  // is refused, and publishes to it wait for the answer.
  proxy_->subscribe(
      {client.id, client.user, client.proxyHeaders}, subscription->channel,
      [this, caller = callerOf(ws), subscription, read](HubResult<bool>&& allowed) mutable {
        auto open = caller.open();
        if (!open) return;  // closed: nothing was joined or attached yet
        if (allowed.ok()) {
          return subscribeAllowed(*open->ws, *open, std::move(subscription), std::move(read));
        }
        auto entry = open->findSubscribing(subscription->channel);
        auto held = std::move(entry->held);
        open->subscribing.erase(entry);
        replyError(*open->ws, subscription->id, allowed.error().code, allowed.error().message);
        // Answered in turn: not_subscribed, or refused on their own merits.
        releaseHeld(*open->ws, *open, subscription->channel, std::move(held));
      });
}

void Hub::publishThroughProxy(WebSocket& ws, Client& client, const Command& command) {
  if (client.proxiedPublishes.size() >= kMaxHeldPublishes) {
    return replyError(ws, command.id, ErrorCode::LimitExceeded,
                      "too many publishes waiting for the back end");
  }
  client.proxiedPublishes.push_back({command.id, std::string(command.channel),
                                     std::string(command.key), std::string(command.data)});
  if (client.proxiedPublishes.size() == 1) askNextPublish(ws, client);
}

void Hub::askNextPublish(WebSocket& ws, Client& client) {
  const Client::ProxiedPublish& next = client.proxiedPublishes.front();
  proxy_->publish(
      {client.id, client.user, client.proxyHeaders}, next.channel, next.data,
      [this, caller = callerOf(ws)](HubResult<PublishVerdict>&& verdict) {
        auto open = caller.open();
        if (!open) return;  // closed: never stored; the client retries with the same key
        WebSocket& socket = *open->ws;
        Client::ProxiedPublish publication = std::move(open->proxiedPublishes.front());
        open->proxiedPublishes.pop_front();
        auto info = options_.namespaces.lookup(publication.channel);  // found before asking
        if (!verdict.ok()) {
          replyError(socket, publication.id, verdict.error().code, verdict.error().message);
        } else if (!verdict->data) {
          publishToEngine(socket, publication.id, *info, std::move(publication.data),
                          std::move(publication.key));
        } else if (verdict->data->size() > info->options->maxDataBytes) {
          replyError(socket, publication.id, ErrorCode::Internal,
                     "the back end replaced the data with " +
                         std::to_string(verdict->data->size()) + " bytes; this channel takes " +
                         std::to_string(info->options->maxDataBytes));
        } else if (auto refused = validate(*info, *verdict->data)) {
          replyError(socket, publication.id, refused->code, refused->message);
        } else {
          publishToEngine(socket, publication.id, *info, std::move(*verdict->data),
                          std::move(publication.key));
        }
        if (open->ws && !open->proxiedPublishes.empty()) askNextPublish(*open->ws, *open);
      });
}

void Hub::rpc(WebSocket& ws, Client& client, const Command& command) {
  if (!proxy_ || !proxy_->config().rpc.configured()) {
    return replyError(ws, command.id, ErrorCode::NotFound, "rpc is not configured on this server");
  }
  proxy_->rpc({client.id, client.user, client.proxyHeaders}, command.rpcMethod, command.data,
              [this, caller = callerOf(ws), id = command.id](HubResult<RpcVerdict>&& verdict) {
                auto open = caller.open();
                if (!open) return;
                if (!verdict.ok()) {
                  return replyError(*open->ws, id, verdict.error().code, verdict.error().message);
                }
                std::string& scratch = here().scratch;
                scratch.clear();
                scratch += R"({"id":)";
                appendJsonNumber(scratch, id);
                scratch += R"(,"result":{"data":)";
                scratch += verdict->data;
                scratch += "}}";
                reply(*open->ws, scratch);
              });
}

}  // namespace duplex::hub
