// The Hub's publish path: access, the namespace's publish rate, the embedder's validator, then
// the engine, which stores the publication (in a group commit with whatever else is waiting)
// and delivers it before the completion acknowledges it.
#include <algorithm>
#include <cstdio>

#include "hub/hub.h"
#include "hub/hub_client.h"
#include "net/log.h"

namespace duplex::hub {

std::optional<HubError> Hub::takePublishToken(Client& client, const ChannelInfo& info) {
  const NamespaceOptions& ns = *info.options;
  if (ns.publishRate <= 0) return std::nullopt;
  const double burst = publishBurstOf(ns);
  const int64_t now = options_.nowMs();
  auto bucket = std::find_if(client.publishBuckets.begin(), client.publishBuckets.end(),
                             [&](const Client::PublishBucket& b) { return b.ns == &ns; });
  if (bucket == client.publishBuckets.end()) {
    client.publishBuckets.push_back({&ns, burst, now});
    bucket = client.publishBuckets.end() - 1;
  }
  // A clock stepping back refills nothing rather than draining the bucket.
  const int64_t elapsed = std::max<int64_t>(now - bucket->lastRefillMs, 0);
  bucket->tokens = std::min(burst, bucket->tokens + elapsed * ns.publishRate / 1000.0);
  bucket->lastRefillMs = now;
  if (bucket->tokens >= 1) {
    bucket->tokens -= 1;
    return std::nullopt;
  }
  char rate[32];
  std::snprintf(rate, sizeof rate, "%g", ns.publishRate);
  const char* noun = ns.publishRate == 1 ? " publication" : " publications";
  return HubError{ErrorCode::RateLimited, std::string("at most ") + rate + noun +
                                              " per second in " + std::string(info.ns) +
                                              ":*; slow down"};
}

std::optional<HubError> Hub::validate(const ChannelInfo& info, std::string_view data) const {
  if (info.personal()) return std::nullopt;
  auto it = options_.validators.find(info.ns);
  if (it == options_.validators.end() || !it->second) return std::nullopt;
  return it->second(info.channel, data);
}

void Hub::publish(WebSocket& ws, Client& client, const Command& command) {
  if (auto waiting = client.findSubscribing(command.channel);
      waiting != client.subscribing.end()) {
    // Bounded by the command rate; this bound is for a subscribe the engine is slow to answer.
    if (waiting->held.size() >= kMaxHeldPublishes) {
      return replyError(ws, command.id, ErrorCode::LimitExceeded,
                        "too many publishes waiting for this connection's subscribe");
    }
    waiting->held.push_back({command.id, std::string(command.key), std::string(command.data)});
    return;
  }
  auto info = options_.namespaces.lookup(command.channel);
  if (!info.ok()) return replyError(ws, command.id, info.error().code, info.error().message);
  if (auto denied = checkPublish(*info, principalOf(client), command.data.size())) {
    return replyError(ws, command.id, denied->code, denied->message);
  }
  // The rate before the validator: a flood of invalid publishes is slowed down too, and costs
  // no parsing once over the limit.
  if (auto limited = takePublishToken(client, *info)) {
    ++here().metrics.publishesRateLimited;
    return replyError(ws, command.id, limited->code, limited->message);
  }
  if (auto refused = validate(*info, command.data)) {
    return replyError(ws, command.id, refused->code, refused->message);
  }
  if (info->options->publishProxy) return publishThroughProxy(ws, client, command);
  publishToEngine(ws, command.id, *info, std::string(command.data), std::string(command.key));
}

void Hub::publishToEngine(WebSocket& ws, uint64_t id, const ChannelInfo& info, std::string data,
                          std::string key) {
  LoopPart& part = here();
  ++part.inFlight->publishes;
  engine_.publish(
      *part.loop,
      {std::string(info.channel), std::move(data), std::move(key), limitsFor(*info.options),
       options_.nowMs()},
      [this, caller = callerOf(ws), id, inFlight = part.inFlight](PublishResult&& result) {
        if (!caller.hubAlive()) {
          // The Hub went after accepting it: acknowledged all the same, before the goodbye.
          auto publisher = caller.client.lock();
          if (publisher && publisher->ws) {
            std::string out;
            if (result.ok) {
              writePublishResult(out, id, {result.appended.offset, result.appended.epoch.view()});
            } else {
              writeError(out, id, ErrorCode::Unavailable,
                         "the publication could not be stored; retry with the same key");
            }
            publisher->ws->send(out);
          }
          return publishCompleted(*inFlight);
        }
        publishCompleted(*inFlight);
        published(result);
        // Closed meanwhile: still stored and delivered, nobody to answer.
        auto open = caller.open();
        if (!open) return;
        if (!result.ok) {
          return replyError(*open->ws, id, ErrorCode::Unavailable,
                            "the publication could not be stored; retry with the same key");
        }
        LoopPart& here = this->here();
        here.scratch.clear();
        writePublishResult(here.scratch, id,
                           {result.appended.offset, result.appended.epoch.view()});
        ++here.metrics.acks;
        reply(*open->ws, here.scratch);
      });
}

void Hub::releaseHeld(WebSocket& ws, Client& client, std::string_view channel,
                      std::vector<HeldPublish> held) {
  for (const HeldPublish& h : held) {
    if (!ws.isOpen()) return;  // never acknowledged: the client retries with the same key
    Command command;
    command.id = h.id;
    command.method = Method::Publish;
    command.channel = channel;
    command.key = h.key;
    command.data = h.data;
    publish(ws, client, command);
  }
}

bool Hub::firstToObserve(uint64_t commit) {
  // One exchange per transaction per loop (the loop's own completions of it are skipped
  // before): the first loop to see the id takes the slot. Wrong only for a loop that runs
  // kCommitSlots transactions behind the others.
  return commitsObserved_[commit % kCommitSlots].exchange(commit, std::memory_order_relaxed) !=
         commit;
}

void Hub::published(const PublishResult& result) {
  // Each transaction once, though its publications complete one by one (in order on a loop).
  LoopPart& part = here();
  if (result.commit.id && result.commit.id != part.lastCommitObserved) {
    part.lastCommitObserved = result.commit.id;
    if (firstToObserve(result.commit.id)) part.metrics.storeCommit.observe(result.commit.seconds);
  }
  if (!result.ok) {
    // Nothing of its batch was stored, so nothing was delivered.
    ++part.stats.unavailable;
    DUPLEX_LOG(Warn, "hub: publication not stored: %s", result.error.c_str());
  } else if (result.appended.duplicate) {
    ++part.stats.duplicates;
  } else {
    ++part.stats.published;
  }
}

}  // namespace duplex::hub
