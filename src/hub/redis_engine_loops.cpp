// The Redis engine's calls as the hub's loops make them (redis_engine.h): attach and detach at
// once on the connection's loop (its Topics, and who is attached to what, for the engine), and
// everything else handed to the engine's thread in the loop's batch for this iteration.
#include "hub/redis_engine.h"
#include "hub/redis_engine_attachment.h"
#include "hub/redis_keys.h"

namespace duplex::hub {
namespace {

bool failed(const redis::Result& result) {
  return !result.ok || result.reply.isError();
}

std::string failureOf(const redis::Result& result) {
  if (!result.ok) return "redis: " + result.error;
  return "redis: " + result.reply.string;
}

}  // namespace

bool RedisEngine::attach(WebSocket& ws, std::string_view channel) {
  LoopPart& part = partOf(ws.loop());
  if (!part.topics->subscribe(ws, channel)) return false;
  auto& attachment = part.attachments[&ws];
  if (!attachment) {
    attachment = std::make_unique<Attachment>();
    attachment->engine = this;
    attachment->part = &part;
    ws.addObserver(attachment.get());
  }
  std::string name(channel);
  attachment->channels.push_back(name);
  part.byChannel[name].insert(&ws);
  toEngine(part, [this, name] { attachedOnEngine(name, +1); });
  return true;
}

void RedisEngine::detach(WebSocket& ws, std::string_view channel) {
  LoopPart& part = partOf(ws.loop());
  if (!part.topics->unsubscribe(ws, channel)) return;
  std::string name(channel);
  auto it = part.attachments.find(&ws);
  if (it != part.attachments.end()) {
    auto& channels = it->second->channels;
    std::erase(channels, name);
    if (channels.empty()) {
      ws.removeObserver(it->second.get());
      part.attachments.erase(it);
    }
  }
  auto subscribers = part.byChannel.find(name);
  if (subscribers != part.byChannel.end() &&
      (subscribers->second.erase(&ws), subscribers->second.empty())) {
    part.byChannel.erase(subscribers);
  }
  toEngine(part, [this, name] { attachedOnEngine(name, -1); });
}

void RedisEngine::broadcast(net::Loop& from, std::string_view channel, std::string_view message,
                            const WebSocket* except) {
  LoopPart& here = partOf(from);
  here.topics->publish(channel, message, Opcode::Text, except);
  crossLoop_.send(from, channel, message, Opcode::Text);
  // The other nodes (fire and forget: presence pushes are not stored).
  toEngine(here, [this, name = std::string(channel), body = std::string(message)] {
    shardFor(name).connection->command(
        {"PUBLISH", redis_keys::pubsub(name), redis_keys::encode('b', nodeId_, {}, 0, body)},
        [](redis::Result&&) {});
  });
}

void RedisEngine::publish(net::Loop& from, PublishRequest request, Done<PublishResult> done) {
  LoopPart& caller = partOf(from);
  toEngine(caller, [this, &caller, request = std::move(request), done = std::move(done)]() mutable {
    publishOnEngine(caller, std::move(request), std::move(done));
  });
}

void RedisEngine::read(net::Loop& from, ReadRequest request, Done<ReadResult> done) {
  LoopPart& caller = partOf(from);
  toEngine(caller, [this, &caller, request = std::move(request), done = std::move(done)]() mutable {
    readOnEngine(caller, std::move(request), std::move(done));
  });
}

void RedisEngine::listen(net::Loop& from, std::string_view channel, Done<bool> done) {
  LoopPart& caller = partOf(from);
  toEngine(caller, [this, &caller, name = std::string(channel), done = std::move(done)]() mutable {
    listenOnEngine(caller, name, std::move(done));
  });
}

void RedisEngine::sweep(int64_t) {
  // Nothing to do here: Redis trims streams as they grow (MAXLEN), keys expire by themselves,
  // and presence reads skip (and joins delete) expired members.
}

void RedisEngine::check(net::Loop& from, Done<std::optional<std::string>> done) {
  LoopPart& caller = partOf(from);
  toEngine(caller, [this, &caller, done = std::move(done)]() mutable {
    struct Gather {
      size_t left;
      std::optional<std::string> error;
      Done<std::optional<std::string>> done;
    };
    auto gather = std::make_shared<Gather>(Gather{shards_.size(), std::nullopt, std::move(done)});
    for (Shard& shard : shards_) {
      shard.connection->command({"PING"}, [this, &caller, &shard, gather](redis::Result&& result) {
        if (failed(result) && !gather->error) {
          gather->error = shard.endpoint.text() + ": " + failureOf(result);
        }
        if (--gather->left > 0) return;
        toLoop(caller, [gather] { gather->done(std::move(gather->error)); });
      });
    }
  });
}

}  // namespace duplex::hub
