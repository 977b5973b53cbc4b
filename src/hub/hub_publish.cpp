// The Hub's publish path: access, the namespace's publish rate, the embedder's validator, then
// the group commit that stores a loop iteration's publishes together before they are broadcast
// and acknowledged.
#include <algorithm>
#include <chrono>
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
  auto info = options_.namespaces.lookup(command.channel);
  if (!info.ok()) return replyError(ws, command.id, info.error().code, info.error().message);
  if (auto denied = checkPublish(*info, principalOf(client), command.data.size())) {
    return replyError(ws, command.id, denied->code, denied->message);
  }
  // The rate before the validator: a flood of invalid publishes is slowed down too, and costs
  // no parsing once over the limit.
  if (auto limited = takePublishToken(client, *info)) {
    ++metrics_.publishesRateLimited;
    return replyError(ws, command.id, limited->code, limited->message);
  }
  if (auto refused = validate(*info, command.data)) {
    return replyError(ws, command.id, refused->code, refused->message);
  }
  const NamespaceOptions& ns = *info->options;
  if (ns.historySize == 0) {
    // Nothing to store: delivered now, acknowledged with offset 0.
    scratch_.clear();
    writePubPush(scratch_, command.channel, 0, command.data);
    topics_.publish(command.channel, scratch_);
    ++stats_.published;
    scratch_.clear();
    writePublishResult(scratch_, command.id, {0, {}});
    ++metrics_.acks;
    return reply(ws, scratch_);
  }
  pending_.push_back({&ws, command.id, std::string(command.channel), std::string(command.data),
                      std::string(command.key), limitsFor(ns)});
  if (!commitScheduled_) {
    commitScheduled_ = true;
    loop_.defer([life = lifeline_.handle()] {
      if (Hub* hub = life.get()) hub->commit();
    });
  }
}

void Hub::commit() {
  commitScheduled_ = false;
  if (pending_.empty()) return;
  std::vector<NewPublication> batch;
  batch.reserve(pending_.size());
  int64_t now = options_.nowMs();
  for (const Pending& p : pending_) batch.push_back({p.channel, p.data, p.key, now, p.limits});
  std::vector<Appended> results;
  const auto started = std::chrono::steady_clock::now();
  auto stored = store_.append(batch, results);
  metrics_.storeCommit.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  std::vector<Pending> done;
  done.swap(pending_);
  if (!stored.ok()) {
    // Nothing of the batch was stored, so nothing is broadcast or acknowledged.
    DUPLEX_LOG(Warn, "hub: publish batch not stored: %s", stored.error().message.c_str());
    for (const Pending& p : done) {
      ++stats_.unavailable;
      if (p.publisher) {
        replyError(*p.publisher, p.id, ErrorCode::Unavailable,
                   "the publication could not be stored; retry with the same key");
      }
    }
    return;
  }
  std::string push, ack;
  for (size_t i = 0; i < done.size(); ++i) {
    const Pending& p = done[i];
    const Appended& a = results[i];
    if (a.duplicate) {
      ++stats_.duplicates;
    } else {
      push.clear();
      writePubPush(push, p.channel, a.offset, p.data);
      topics_.publish(p.channel, push);
      ++stats_.published;
    }
    if (p.publisher) {
      ack.clear();
      writePublishResult(ack, p.id, {a.offset, a.epoch.view()});
      ++metrics_.acks;
      reply(*p.publisher, ack);
    }
  }
}

}  // namespace duplex::hub
