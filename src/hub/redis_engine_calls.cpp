// The Redis engine's publish and read, on the engine's thread (redis_engine.h): one script
// each, and the channel's feed (redis_feed.h) to put their completions in order.
#include <chrono>

#include "hub/hub_protocol_writer.h"
#include "hub/publication_list.h"
#include "hub/redis_engine.h"
#include "hub/redis_keys.h"
#include "hub/redis_scripts.h"

namespace duplex::hub {
namespace {

bool failed(const redis::Result& result) {
  return !result.ok || result.reply.isError();
}

std::string failureOf(const redis::Result& result) {
  if (!result.ok) return "redis: " + result.error;
  return "redis: " + result.reply.string;
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void RedisEngine::publishOnEngine(LoopPart& caller, PublishRequest request,
                                  Done<PublishResult> done) {
  Shard& shard = shardFor(request.channel);
  auto answer = [this, &caller](Done<PublishResult>& to, PublishResult result) {
    toLoop(caller,
           [to = std::move(to), result = std::move(result)]() mutable { to(std::move(result)); });
  };
  if (request.limits.historySize == 0) {
    // Nothing stored: published to the nodes (this one skips its own message), delivered here
    // once Redis took it, then acknowledged with offset 0.
    // Built before the callback below takes `request` (arguments are evaluated in any order).
    std::vector<std::string> command{"PUBLISH", redis_keys::pubsub(request.channel),
                                     redis_keys::encode('p', nodeId_, {}, 0, request.data)};
    shard.connection->command(std::move(command),
                              [this, answer, request = std::move(request),
                               done = std::move(done)](redis::Result&& reply) mutable {
                                PublishResult result;
                                if (failed(reply)) {
                                  result.error = failureOf(reply);
                                  return answer(done, std::move(result));
                                }
                                auto push = std::make_shared<std::string>();
                                writePubPush(*push, request.channel, 0, request.data);
                                deliverRaw(request.channel, std::move(push));
                                result.ok = true;
                                answer(done, std::move(result));
                              });
    return;
  }
  std::vector<std::string> keys{redis_keys::meta(request.channel),
                                redis_keys::stream(request.channel)};
  if (!request.key.empty() && request.limits.idempotencyWindowMs > 0) {
    keys.push_back(redis_keys::idempotency(request.channel, request.key));
  }
  std::vector<std::string> args{request.data,
                                std::to_string(request.limits.historySize),
                                std::to_string(request.limits.historyTtlMs),
                                std::to_string(request.limits.idempotencyWindowMs),
                                std::to_string(request.nowMs),
                                newEpoch(),
                                redis_keys::pubsub(request.channel),
                                nodeId_};
  const auto sent = std::chrono::steady_clock::now();
  publishScript().run(
      *shard.connection, std::move(keys), std::move(args),
      [this, answer, sent, channel = std::move(request.channel), data = std::move(request.data),
       done = std::move(done)](redis::Result&& reply) mutable {
        PublishResult result;
        // Each publication is its own transaction in Redis: timed from send to answer.
        result.commit = {++commitCount_, secondsSince(sent)};
        const redis::Reply& r = reply.reply;
        if (failed(reply) || r.type != redis::Reply::Type::Array || r.elements.size() != 3) {
          result.error = failed(reply) ? failureOf(reply) : "redis: unexpected publish answer";
          return answer(done, std::move(result));
        }
        result.ok = true;
        result.appended.duplicate = r.elements[0].integer == 1;
        result.appended.offset = static_cast<uint64_t>(r.elements[1].integer);
        result.appended.epoch = Epoch::fromText(r.elements[2].string);
        auto it = channels_.find(channel);
        if (result.appended.duplicate || it == channels_.end()) {
          // Nobody here to deliver to (other nodes get it over pub/sub), or nothing new.
          return answer(done, std::move(result));
        }
        Channel& c = *it->second;
        // An ack means delivered here: it waits until the feed handed this offset over.
        c.feed->stored(r.elements[2].string, result.appended.offset, std::move(data),
                       [answer, done = std::move(done), result](bool) mutable {
                         answer(done, std::move(result));
                       });
        maybeCatchUp(c);
      });
}

void RedisEngine::listenOnEngine(LoopPart& caller, const std::string& name, Done<bool> done) {
  // Live publications reach this node over pub/sub only: none made before its SUBSCRIBE is in
  // effect can come later, so the subscriber is attached (and answered) after that.
  auto answer = [this, &caller, name, done = std::move(done)]() mutable {
    auto it = channels_.find(name);
    const bool live = it != channels_.end() && it->second->confirmed;
    toLoop(caller, [done = std::move(done), live]() mutable { done(bool{live}); });
  };
  whenConfirmed(channel(name), std::move(answer));
}

void RedisEngine::readOnEngine(LoopPart& caller, ReadRequest request, Done<ReadResult> done) {
  Channel& subscribed = channel(request.channel);
  auto fail = [this, &caller](Done<ReadResult>& to, std::string error) {
    ReadResult result;
    result.error = std::move(error);
    toLoop(caller,
           [to = std::move(to), result = std::move(result)]() mutable { to(std::move(result)); });
  };
  // Sent once this node's SUBSCRIBE to the channel is in effect, so every publication after
  // what the read sees reaches this node over pub/sub (or, if lost, from the stream).
  auto issue = [this, &caller, fail, name = subscribed.name, request = std::move(request),
                done = std::move(done)]() mutable {
    auto it = channels_.find(name);
    if (it == channels_.end() || !it->second->confirmed) {
      return fail(done, "redis: this node could not subscribe to the channel");
    }
    Channel& target = *it->second;
    Shard& shard = shards_[target.shard];
    const char* mode = request.mode == ReadRequest::Mode::Position ? "p"
                       : request.mode == ReadRequest::Mode::Latest ? "l"
                                                                   : "s";
    const int64_t cutoff =
        request.limits.historyTtlMs > 0 ? request.nowMs - request.limits.historyTtlMs : 0;
    std::vector<std::string> args{mode,
                                  request.limits.historySize >= 1 ? "1" : "0",
                                  newEpoch(),
                                  std::to_string(request.limit),
                                  std::to_string(request.afterOffset),
                                  request.epoch,
                                  std::to_string(cutoff)};
    target.feed->readIssued();
    readScript().run(
        *shard.connection, {redis_keys::meta(name), redis_keys::stream(name)}, std::move(args),
        [this, &caller, fail, name, request = std::move(request),
         done = std::move(done)](redis::Result&& reply) mutable {
          auto found = channels_.find(name);
          Channel* c = found == channels_.end() ? nullptr : found->second.get();
          const redis::Reply& r = reply.reply;
          if (failed(reply) || r.type != redis::Reply::Type::Array || r.elements.size() != 4) {
            if (c) c->feed->readFailed();
            return fail(done, failed(reply) ? failureOf(reply) : "redis: unexpected read answer");
          }
          ReadResult result;
          result.ok = true;
          const std::string& epoch = r.elements[0].string;
          result.position = {Epoch::fromText(epoch), static_cast<uint64_t>(r.elements[1].integer)};
          const bool since = request.mode == ReadRequest::Mode::Since;
          if (request.mode != ReadRequest::Mode::Position) {
            result.recovery =
                r.elements[2].integer == 1 ? Recovery::Recovered : Recovery::NotRecoverable;
            std::string list = "[";
            PublicationList publications(
                list, request.maxBytes,
                since ? PublicationList::Keep::Oldest : PublicationList::Keep::Newest);
            const auto& items = r.elements[3].elements;
            uint64_t last = 0;
            for (size_t i = 0; i + 1 < items.size(); i += 2) {
              last = static_cast<uint64_t>(items[i].integer);
              publications.add(last, items[i + 1].string);
            }
            publications.finish();
            result.overflowed = publications.overflowed();
            result.limited = since && result.recovery == Recovery::Recovered &&
                             items.size() / 2 == request.limit && last < result.position.top;
            result.publications.assign(list, 1);
          }
          if (!c) {  // the engine is stopping
            return toLoop(caller, [done = std::move(done), result = std::move(result)]() mutable {
              done(std::move(result));
            });
          }
          // Handed to the loop once every offset up to the read's top was delivered here.
          c->feed->readAnswered(
              epoch, result.position.top,
              [this, &caller, done = std::move(done),
               result = std::move(result)](bool inOrder) mutable {
                if (!inOrder) {
                  result = ReadResult{};
                  result.error = "redis: publications before it were lost";
                }
                toLoop(caller, [done = std::move(done), result = std::move(result)]() mutable {
                  done(std::move(result));
                });
              });
          maybeCatchUp(*c);
        });
  };
  whenConfirmed(subscribed, std::move(issue));
}

}  // namespace duplex::hub
