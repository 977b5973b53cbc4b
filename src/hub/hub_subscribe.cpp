// The Hub's reading side: subscribe (with presence, `last` and recovery), unsubscribe, history
// and presence, each a request to the engine whose completion answers on this loop.
#include <algorithm>

#include "hub/hub.h"
#include "hub/hub_client.h"

namespace duplex::hub {

namespace {

bool contains(const std::vector<std::string>& channels, std::string_view channel) {
  return std::find(channels.begin(), channels.end(), channel) != channels.end();
}

}  // namespace

ReadRequest Hub::readRequestFor(const ChannelInfo& info) const {
  ReadRequest request;
  request.channel = std::string(info.channel);
  request.limits = limitsFor(*info.options);
  request.nowMs = options_.nowMs();
  request.maxBytes = options_.maxReplyBytes;
  return request;
}

void Hub::subscribe(WebSocket& ws, Client& client, const Command& command) {
  auto info = options_.namespaces.lookup(command.channel);
  if (!info.ok()) return replyError(ws, command.id, info.error().code, info.error().message);
  if (auto denied = checkSubscribe(*info, principalOf(client))) {
    return replyError(ws, command.id, denied->code, denied->message);
  }
  bool waiting =
      std::any_of(client.subscribing.begin(), client.subscribing.end(),
                  [&](const Client::Subscribing& s) { return s.channel == command.channel; });
  if (waiting || contains(client.channels, command.channel)) {
    return replyError(ws, command.id, ErrorCode::AlreadySubscribed, "already subscribed");
  }
  if (client.channels.size() + client.subscribing.size() >= options_.maxSubscriptions) {
    return replyError(ws, command.id, ErrorCode::LimitExceeded, "too many subscriptions");
  }
  const NamespaceOptions& ns = *info->options;
  if (command.last && *command.last > options_.maxRecovery) {
    return replyError(
        ws, command.id, ErrorCode::BadRequest,
        "subscribe.last must be an integer from 0 to " + std::to_string(options_.maxRecovery));
  }
  ReadRequest read = readRequestFor(*info);
  if (command.last) {
    read.mode = ReadRequest::Mode::Latest;
    read.limit = static_cast<size_t>(*command.last);
  } else if (command.since) {
    // What does not fit in one reply cannot be recovered: the client starts over instead.
    read.mode = ReadRequest::Mode::Since;
    read.afterOffset = command.since->offset;
    read.epoch = std::string(command.since->epoch);
    read.limit = options_.maxRecovery;
  }
  auto subscription = std::make_shared<Subscription>(
      Subscription{command.id, std::string(command.channel), ns.presence, ns.historySize > 0,
                   read.mode, ns.presenceMax});
  client.subscribing.push_back({subscription->channel});
  if (ns.subscribeProxy) {
    return subscribeThroughProxy(ws, client, std::move(subscription), std::move(read));
  }
  subscribeAllowed(ws, client, std::move(subscription), std::move(read));
}

void Hub::subscribeAllowed(WebSocket& ws, Client& client,
                           std::shared_ptr<Subscription> subscription, ReadRequest read) {
  if (!subscription->presence) return subscribeRead(ws, std::move(subscription), std::move(read));
  // Presence first: a full channel refuses before anything is read, and the member is known
  // before the subscriber sees its first publication.
  engine_.join(
      *here().loop, subscription->channel, {client.id, client.user}, subscription->presenceMax,
      [this, caller = callerOf(ws), subscription, read = std::move(read),
       clientId = client.id](JoinResult&& joined) mutable {
        auto open = caller.open();
        if (!open) {
          // Closed meanwhile: closed() could not know it joined.
          if (joined == JoinResult::Joined && caller.hubAlive()) {
            engine_.leave(subscription->channel, clientId);
          }
          return;
        }
        auto entry = open->findSubscribing(subscription->channel);
        if (joined != JoinResult::Joined) {
          auto held = std::move(entry->held);
          open->subscribing.erase(entry);
          if (joined == JoinResult::Full) {
            replyError(*open->ws, subscription->id, ErrorCode::LimitExceeded, "presence is full");
          } else {
            replyError(*open->ws, subscription->id, ErrorCode::Unavailable,
                       "presence could not be joined");
          }
          return releaseHeld(*open->ws, *open, subscription->channel, std::move(held));
        }
        entry->joined = true;
        subscribeRead(*open->ws, std::move(subscription), std::move(read));
      });
}

void Hub::subscribeRead(WebSocket& ws, std::shared_ptr<Subscription> subscription,
                        ReadRequest read) {
  if (!subscription->history) {
    // Nothing to read; answered once the engine delivers this channel's live publications here.
    return engine_.listen(*here().loop, subscription->channel,
                          [this, caller = callerOf(ws), subscription](bool live) {
                            auto client = caller.open();
                            if (!client) return;  // closed meanwhile: closed() left presence
                            ReadResult nothing;
                            nothing.ok = live;
                            subscribed(*client->ws, *client, *subscription, nothing);
                          });
  }
  engine_.read(*here().loop, std::move(read),
               [this, caller = callerOf(ws), subscription](ReadResult&& result) {
                 // Closed meanwhile: closed() already left presence.
                 if (auto client = caller.open()) {
                   subscribed(*client->ws, *client, *subscription, result);
                 }
               });
}

void Hub::subscribed(WebSocket& ws, Client& client, const Subscription& subscription,
                     const ReadResult& read) {
  auto held = std::move(client.findSubscribing(subscription.channel)->held);
  answerSubscribe(ws, client, subscription, read);
  releaseHeld(ws, client, subscription.channel, std::move(held));
}

void Hub::answerSubscribe(WebSocket& ws, Client& client, const Subscription& subscription,
                          const ReadResult& read) {
  auto waiting = client.findSubscribing(subscription.channel);
  const bool joined = waiting->joined;
  client.subscribing.erase(waiting);
  const uint64_t id = subscription.id;
  if (!read.ok) {
    if (joined) engine_.leave(subscription.channel, client.id);
    return replyError(ws, id, ErrorCode::Unavailable,
                      "the channel cannot be read or created now; retry");
  }
  const StreamPosition position{read.position.top, read.position.epoch.view()};
  std::string out;
  switch (subscription.mode) {
    case ReadRequest::Mode::Latest:
      // Fewer than asked when they would not fit in one reply: the newest that do.
      beginSubscribeLast(out, id, position);
      out += read.publications;
      endPublications(out);
      break;
    case ReadRequest::Mode::Position:
      writeSubscribeResult(out, id, position);
      break;
    case ReadRequest::Mode::Since:
      if (!subscription.history) {
        writeSubscribeResult(out, id, position);
      } else if (read.recovery == Recovery::Recovered && !read.limited && !read.overflowed) {
        ++here().metrics.recovered;
        beginSubscribeRecovered(out, id, position);
        out += read.publications;
        endPublications(out);
      } else {
        ++here().metrics.notRecovered;
        writeSubscribeUnrecovered(out, id, position);
      }
      break;
  }
  // Attached in the read's completion: the engine delivers every publication above the read's
  // top after this runs, so the live pushes start right above the reply's offset.
  engine_.attach(ws, subscription.channel);
  client.channels.push_back(subscription.channel);
  reply(ws, out);
  if (joined) {
    client.present.push_back(subscription.channel);
    std::string& scratch = here().scratch;
    scratch.clear();
    writeJoinPush(scratch, subscription.channel, client.id, client.user);
    engine_.broadcast(ws.loop(), subscription.channel, scratch);
  }
}

void Hub::unsubscribe(WebSocket& ws, Client& client, const Command& command) {
  auto it = std::find(client.channels.begin(), client.channels.end(), command.channel);
  if (it == client.channels.end() || (!command.channel.empty() && command.channel[0] == '#')) {
    return replyError(ws, command.id, ErrorCode::NotSubscribed, "not subscribed");
  }
  engine_.detach(ws, command.channel);
  std::string channel = *it;
  client.channels.erase(it);
  leavePresence(ws, client, channel);
  std::string& scratch = here().scratch;
  scratch.clear();
  writeEmptyResult(scratch, command.id);
  reply(ws, scratch);
}

void Hub::leavePresence(WebSocket& ws, Client& client, std::string_view channel) {
  auto it = std::find(client.present.begin(), client.present.end(), channel);
  if (it == client.present.end()) return;
  std::string left = std::move(*it);
  client.present.erase(it);
  engine_.leave(left, client.id);
  std::string push;
  writeLeavePush(push, left, client.id, client.user);
  engine_.broadcast(ws.loop(), left, push, &ws);
}

void Hub::history(const ChannelInfo& info, ReplyTo to, const std::optional<Since>& since,
                  uint32_t limit, std::function<void(std::string&&)> answer) {
  // Within the reply budget: from an offset, the oldest that fit (ask again from the last one
  // for more); without, the newest that fit.
  ReadRequest read = readRequestFor(info);
  read.limit = limit;
  if (since) {
    read.mode = ReadRequest::Mode::Since;
    read.afterOffset = since->offset;
    read.epoch = std::string(since->epoch);
  } else {
    read.mode = ReadRequest::Mode::Latest;
  }
  engine_.read(*here().loop, std::move(read),
               // Needs no Hub: `answer` decides (a WebSocket reply only while the Hub lives; an
               // API answer is sent regardless, or its client would wait for nothing).
               [to, answer = std::move(answer)](ReadResult&& result) {
                 std::string out;
                 if (!result.ok) {
                   writeError(out, to, ErrorCode::Unavailable, "history cannot be read now; retry");
                 } else {
                   beginHistoryResult(out, to, {result.position.top, result.position.epoch.view()});
                   out += result.publications;
                   endPublications(out);
                 }
                 answer(std::move(out));
               });
}

void Hub::presence(std::string_view channel, ReplyTo to,
                   std::function<void(std::string&&)> answer) {
  engine_.presence(*here().loop, channel,
                   [to, answer = std::move(answer)](std::vector<PresenceMember>&& members) {
                     std::string out;
                     beginPresenceResult(out, to);
                     for (const PresenceMember& m : members)
                       appendPresenceClient(out, m.client, m.user);
                     endPresenceResult(out);
                     answer(std::move(out));
                   });
}

}  // namespace duplex::hub
