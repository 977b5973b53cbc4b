#include "hub/redis_engine.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <random>
#include <stdexcept>

#include "hub/hub_protocol_error.h"
#include "hub/hub_protocol_writer.h"
#include "hub/redis_engine_attachment.h"
#include "hub/redis_keys.h"
#include "hub/redis_scripts.h"
#include "hub/redis_shards.h"
#include "net/log.h"

namespace duplex::hub {
namespace {

std::string randomHex(size_t digits) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digits);
  for (size_t i = 0; i < digits; ++i) out += kHex[random() & 15];
  return out;
}

// How long a subscribe waits for this node's SUBSCRIBE to its channel to come into effect (a
// pub/sub link that is down or being remade) before it answers unavailable, which clients retry.
constexpr int64_t kConfirmWaitMs = 2'000;

int64_t steadyMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

bool failed(const redis::Result& result) {
  return !result.ok || result.reply.isError();
}

}  // namespace

RedisEngine::RedisEngine(RedisEngineOptions options)
    : options_(std::move(options)), nodeId_(randomHex(12)) {
  if (options_.shards.empty()) throw std::invalid_argument("RedisEngine: no Redis shard given");
}

RedisEngine::~RedisEngine() {
  if (thread_.joinable()) {
    engineLoop_.stopFromAnyThread();
    thread_.join();
  }
  // Connections may outlive the engine (an App destroyed after it, as Topics allows): they must
  // not tell it about their end.
  for (auto& part : loops_) {
    for (auto& [ws, attachment] : part->attachments) ws->removeObserver(attachment.get());
  }
}

void RedisEngine::addLoop(net::Loop& loop, pubsub::Topics& topics) {
  auto part = std::make_unique<LoopPart>();
  part->loop = &loop;
  part->topics = &topics;
  loops_.push_back(std::move(part));
  crossLoop_.addLoop(loop, topics);
}

RedisEngine::LoopPart& RedisEngine::partOf(net::Loop& loop) {
  for (auto& part : loops_) {
    if (part->loop == &loop) return *part;
  }
  throw std::logic_error("RedisEngine: a loop that was not added (addLoop)");
}

// ---- Crossing threads: one post per loop per iteration, each way.

void RedisEngine::toEngine(LoopPart& part, Task task) {
  part.toEngine.push_back(std::move(task));
  if (part.toEngineDeferred) return;
  part.toEngineDeferred = true;
  part.loop->defer([this, &part] {
    part.toEngineDeferred = false;
    auto batch = std::make_shared<std::vector<Task>>(std::move(part.toEngine));
    part.toEngine.clear();
    engineLoop_.post([batch] {
      for (Task& each : *batch) each();
    });
  });
}

void RedisEngine::toLoop(LoopPart& part, Task task) {
  part.fromEngine.push_back(std::move(task));
  if (flushDeferred_) return;
  flushDeferred_ = true;
  engineLoop_.defer([this] { flushOutboxes(); });
}

void RedisEngine::toLoop(net::Loop& loop, Task task) {
  toLoop(partOf(loop), std::move(task));
}

void RedisEngine::flushOutboxes() {
  flushDeferred_ = false;
  for (auto& part : loops_) {
    if (part->fromEngine.empty()) continue;
    auto batch = std::make_shared<std::vector<Task>>(std::move(part->fromEngine));
    part->fromEngine.clear();
    part->loop->post([batch] {
      for (Task& task : *batch) task();
    });
  }
}

// ---- Starting, and the engine's own thread.

std::optional<std::string> RedisEngine::start(uint32_t timeoutMs) {
  std::promise<void> ready;
  auto started = ready.get_future();
  thread_ = std::thread([this, &ready] { runEngine(ready); });
  started.wait();
  // Each shard's command connection either comes up (AUTH, SELECT and a PING answered) or goes
  // down first with the reason (refused, wrong password, bad TLS): startupReport().
  std::unique_lock lock(startup_.mutex);
  const bool answered = startup_.changed.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] {
    return startup_.error || (startup_.up == options_.shards.size() && startup_.controlUp);
  });
  if (startup_.error) return startup_.error;
  if (!answered) return "redis: no answer within " + std::to_string(timeoutMs) + " ms";
  return std::nullopt;
}

void RedisEngine::startupReport(Shard& shard, std::optional<std::string> error) {
  if (std::exchange(shard.reported, true)) return;
  std::lock_guard lock(startup_.mutex);
  if (error) {
    if (!startup_.error) startup_.error = std::move(error);
  } else {
    ++startup_.up;
  }
  startup_.changed.notify_all();
}

void RedisEngine::runEngine(std::promise<void>& ready) {
  // Signals are the loops' (an App reads them through a signalfd, which needs every thread to
  // block them); this thread may start before the App blocked them.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  for (const redis::Endpoint& endpoint : options_.shards) {
    Shard shard;
    shard.endpoint = endpoint;
    shards_.push_back(std::move(shard));
  }
  for (Shard& shard : shards_) {
    shard.connection =
        std::make_unique<redis::Connection>(engineLoop_, shard.endpoint, options_.client);
    shard.connection->onUp([this, &shard] {
      onConnectionUp(shard);
      startupReport(shard, std::nullopt);
    });
    shard.connection->onDown(
        [this, &shard](std::string_view why) { startupReport(shard, std::string(why)); });
    shard.subscriber =
        std::make_unique<redis::Subscriber>(engineLoop_, shard.endpoint, options_.client);
    shard.subscriber->onMessage([this, &shard](std::string_view channel, std::string_view payload) {
      onMessage(shard, channel, payload);
    });
    shard.subscriber->onUp([this, &shard] { onSubscriberUp(shard); });
    shard.subscriber->onDown([this, &shard](std::string_view why) {
      // Said once per loss (a shard never reached is start()'s one line, or /readyz's).
      if (std::exchange(shard.subscriberUp, false)) {
        DUPLEX_LOG(Warn, "redis engine: %s: pub/sub connection lost: %.*s",
                   shard.endpoint.text().c_str(), static_cast<int>(why.size()), why.data());
      }
      // Its SUBSCRIBEs are no longer in effect: subscribes wait for the link (onSubscriberUp),
      // or answer unavailable after kConfirmWaitMs.
      for (auto& [name, channel] : channels_) {
        if (&shards_[channel->shard] == &shard) channel->confirmed = false;
      }
    });
  }
  // Before the first connect: the first shard's Subscriber comes up once it is in effect.
  shards_.front().subscriber->subscribe(std::string(redis_keys::control()));
  engineLoop_.setInterval(100, [this] { housekeeping(); });
  const auto refresh = static_cast<uint64_t>(std::max<int64_t>(options_.presenceTtlMs / 3, 50));
  engineLoop_.setInterval(refresh, [this] { refreshPresence(); });
  ready.set_value();
  engineLoop_.run();
  channels_.clear();
  shards_.clear();  // the connections belong to this thread's loop
}

void RedisEngine::onConnectionUp(Shard& shard) {
  // Loaded once per connection, before anything else it sends: EVALSHA then finds them, and
  // the NOSCRIPT fallback (which would reorder one command) stays for a flushed cache only.
  for (const RedisScript* script : {&publishScript(), &readScript(), &joinScript()}) {
    shard.connection->command({"SCRIPT", "LOAD", std::string(script->source)},
                              [](redis::Result&&) {});
  }
}

RedisEngine::Shard& RedisEngine::shardFor(std::string_view channel) {
  return shards_[shardOf(channel, shards_.size())];
}

std::string RedisEngine::newEpoch() {
  return randomHex(16);
}

// ---- Channels this node is subscribed to.

RedisEngine::Channel& RedisEngine::channel(const std::string& name) {
  auto it = channels_.find(name);
  if (it != channels_.end()) {
    it->second->idleSinceMs = -1;
    return *it->second;
  }
  auto created = std::make_unique<Channel>();
  Channel& c = *created;
  c.name = name;
  c.sharedName = std::make_shared<const std::string>(name);
  c.shard = shardOf(name, shards_.size());
  c.feed = std::make_unique<ChannelFeed>(ChannelFeed::Hooks{
      [this, &c](uint64_t offset, std::string_view data) { deliver(c, offset, data); },
      [this, &c](std::string_view why) { onGap(c.name, why); },
  });
  channels_.emplace(name, std::move(created));
  Shard& shard = shards_[c.shard];
  shard.subscriber->subscribe(redis_keys::pubsub(name));
  sendMarker(c, 0);
  return c;
}

void RedisEngine::sendMarker(Channel& c, int attempt) {
  // SUBSCRIBE leaves on the Subscriber's connection and this PUBLISH on the command connection:
  // Redis may see them in either order, so the marker is sent again until it comes back.
  // Those waiting for it answer unavailable after kConfirmWaitMs (housekeeping).
  Shard& shard = shards_[c.shard];
  if (c.confirmed) return;
  if (!shard.subscriber->isConnected()) return;  // onSubscriberUp confirms every channel
  shard.connection->command(
      {"PUBLISH", redis_keys::pubsub(c.name), redis_keys::encode('m', nodeId_, {}, 0, {})},
      [](redis::Result&&) {});
  engineLoop_.setTimeout(attempt < 4 ? 10 : 50, [this, name = c.name, attempt] {
    auto it = channels_.find(name);
    if (it != channels_.end() && !it->second->confirmed) sendMarker(*it->second, attempt + 1);
  });
}

void RedisEngine::whenConfirmed(Channel& c, Task task) {
  if (c.confirmed) return task();
  if (c.afterConfirmed.empty()) c.waitingSinceMs = steadyMs();
  c.afterConfirmed.push_back(std::move(task));
}

void RedisEngine::stopWaiting(Channel& c) {
  auto waiting = std::move(c.afterConfirmed);
  c.afterConfirmed.clear();
  for (auto& task : waiting) task();
}

void RedisEngine::confirm(Channel& c) {
  if (c.confirmed) return;
  c.confirmed = true;
  stopWaiting(c);
}

void RedisEngine::onSubscriberUp(Shard& shard) {
  // Every wanted channel is subscribed again: read what each missed while the link was down.
  shard.subscriberUp = true;
  if (&shard == &shards_.front() && !startup_.controlUp) {
    std::lock_guard lock(startup_.mutex);
    startup_.controlUp = true;
    startup_.changed.notify_all();
  }
  for (auto& [name, c] : channels_) {
    if (&shards_[c->shard] != &shard) continue;
    confirm(*c);
    c->feed->resync();
    maybeCatchUp(*c);
  }
}

void RedisEngine::onMessage(Shard&, std::string_view pubsubChannel, std::string_view payload) {
  if (pubsubChannel == redis_keys::control()) return onControl(payload);
  std::string_view name = redis_keys::channelOf(pubsubChannel);
  auto message = redis_keys::decode(payload);
  if (name.empty() || !message) return;
  auto it = channels_.find(std::string(name));
  if (it == channels_.end()) return;  // unsubscribed meanwhile
  Channel& c = *it->second;
  const bool mine = message->node == nodeId_;
  switch (message->kind) {
    case 'm':
      if (mine) confirm(c);
      return;
    case 'b':
      if (!mine) deliverRaw(c.sharedName, std::make_shared<const std::string>(message->body));
      return;
    case 'p':
      if (message->offset == 0) {
        // A channel without history: nothing to order; this node delivered its own already.
        if (mine) return;
        auto push = std::make_shared<std::string>();
        writePubPush(*push, c.name, 0, message->body);
        deliverRaw(c.sharedName, std::move(push));
        return;
      }
      c.feed->live(message->epoch, message->offset, message->body);
      maybeCatchUp(c);
      return;
    default:
      return;
  }
}

void RedisEngine::deliver(Channel& c, uint64_t offset, std::string_view data) {
  auto push = std::make_shared<std::string>();
  writePubPush(*push, c.name, offset, data);
  deliverRaw(c.sharedName, std::move(push));
}

void RedisEngine::deliverRaw(const std::string& channel,
                             std::shared_ptr<const std::string> message) {
  auto it = channels_.find(channel);
  deliverRaw(
      it != channels_.end() ? it->second->sharedName : std::make_shared<const std::string>(channel),
      std::move(message));
}

void RedisEngine::deliverRaw(const std::shared_ptr<const std::string>& name,
                             std::shared_ptr<const std::string> message) {
  // Written once; each loop frames it once for its own subscribers.
  for (auto& part : loops_) {
    toLoop(*part, [topics = part->topics, name, message] { topics->publish(*name, *message); });
  }
}

void RedisEngine::onGap(const std::string& channel, std::string_view why) {
  // This node's subscribers missed publications it cannot give them: they reconnect and
  // resubscribe with `since`, which answers recovered: false (docs/protocol.md, 4009).
  gaps_.fetch_add(1);
  DUPLEX_LOG(Warn, "redis engine: %s: %.*s; closing its subscribers here with 4009",
             channel.c_str(), static_cast<int>(why.size()), why.data());
  for (auto& part : loops_) {
    toLoop(*part, [part = part.get(), channel] {
      auto it = part->byChannel.find(channel);
      if (it == part->byChannel.end()) return;
      std::vector<WebSocket*> subscribers(it->second.begin(), it->second.end());
      std::string push;
      writeDisconnectPush(push, DisconnectCode::MissedPublications,
                          "missed publications: reconnect and recover");
      for (WebSocket* ws : subscribers) {
        if (!ws->isOpen()) continue;
        ws->send(push);
        ws->close(static_cast<uint16_t>(DisconnectCode::MissedPublications), "missed publications");
      }
    });
  }
}

void RedisEngine::maybeCatchUp(Channel& c) {
  if (c.catchUpScheduled || !c.feed->needsCatchUp()) return;
  c.catchUpScheduled = true;
  // A publication missing now is usually on its way over pub/sub: give it a moment.
  engineLoop_.setTimeout(options_.catchUpDelayMs, [this, name = c.name] {
    auto it = channels_.find(name);
    if (it == channels_.end()) return;
    it->second->catchUpScheduled = false;
    if (it->second->feed->needsCatchUp()) catchUp(*it->second);
  });
}

void RedisEngine::catchUp(Channel& c) {
  Shard& shard = shards_[c.shard];
  if (!shard.connection->isConnected()) return;  // housekeeping tries again
  c.feed->catchUpIssued();
  std::vector<std::string> args{
      "s", "0", "", "1000", std::to_string(c.feed->delivered()), c.feed->epoch(), "0"};
  readScript().run(
      *shard.connection, {redis_keys::meta(c.name), redis_keys::stream(c.name)}, std::move(args),
      [this, name = c.name](redis::Result&& result) {
        auto it = channels_.find(name);
        if (it == channels_.end()) return;
        Channel& again = *it->second;
        const redis::Reply& r = result.reply;
        if (failed(result) || r.type != redis::Reply::Type::Array || r.elements.size() != 4) {
          again.feed->catchUpFailed();
          return;
        }
        std::vector<ChannelFeed::Entry> entries;
        const auto& list = r.elements[3].elements;
        for (size_t i = 0; i + 1 < list.size(); i += 2) {
          entries.push_back({static_cast<uint64_t>(list[i].integer), list[i + 1].string});
        }
        again.feed->caughtUp(r.elements[0].string, static_cast<uint64_t>(r.elements[1].integer),
                             r.elements[2].integer == 1, std::move(entries));
        maybeCatchUp(again);
      });
}

void RedisEngine::attachedOnEngine(const std::string& name, int delta) {
  Channel& c = channel(name);
  if (delta < 0 && c.attached == 0) return;
  c.attached += delta;
}

void RedisEngine::housekeeping() {
  const int64_t now = steadyMs();
  for (auto it = channels_.begin(); it != channels_.end();) {
    Channel& c = *it->second;
    maybeCatchUp(c);
    if (!c.afterConfirmed.empty() && now - c.waitingSinceMs >= kConfirmWaitMs) stopWaiting(c);
    const bool idle =
        c.attached == 0 && c.afterConfirmed.empty() && c.feed->idle() && !c.catchUpScheduled;
    if (!idle) {
      c.idleSinceMs = -1;
    } else if (c.idleSinceMs < 0) {
      c.idleSinceMs = now;
    } else if (now - c.idleSinceMs >= static_cast<int64_t>(options_.unsubscribeAfterMs)) {
      shards_[c.shard].subscriber->unsubscribe(redis_keys::pubsub(c.name));
      it = channels_.erase(it);
      continue;
    }
    ++it;
  }
}

}  // namespace duplex::hub
