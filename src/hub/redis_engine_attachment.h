#pragma once
// Internal to the Redis engine (redis_engine.cpp, redis_engine_loops.cpp).
#include <string>
#include <vector>

#include "hub/redis_engine.h"

namespace duplex::hub {

// What a loop keeps of a connection attached to channels: told when it ends, so the engine
// learns that its channels lost a subscriber (the Hub does not detach a closing connection).
struct RedisEngine::Attachment final : ConnectionObserver {
  RedisEngine* engine;
  LoopPart* part;
  std::vector<std::string> channels;

  void connectionClosed(WebSocket& ws) override {
    for (const std::string& channel : channels) {
      auto it = part->byChannel.find(channel);
      if (it != part->byChannel.end() && (it->second.erase(&ws), it->second.empty())) {
        part->byChannel.erase(it);
      }
      engine->toEngine(*part,
                       [engine = engine, channel] { engine->attachedOnEngine(channel, -1); });
    }
    part->attachments.erase(&ws);  // deletes this (WebSocket took the next link first)
  }
};

}  // namespace duplex::hub
