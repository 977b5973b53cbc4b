#pragma once
// The engine that spans nodes (engine.h): any number of duplexd processes share channels
// through Redis, or through several Redis instances (shards; a channel lives on one, chosen by
// redis_shards.h). docs/scaling.md explains the keys, the scripts and what happens on failure.
//
// Threads. The engine runs its own net::Loop on its own thread, which holds every Redis
// connection (per shard: one pipelined Connection for commands and one Subscriber). Calls made
// on the loops (the hub's) are gathered per loop and iteration and posted to the engine's loop
// in one task; what the engine has for a loop (pushes, completions) leaves the same way, in the
// order the engine produced it, which is the order engine.h requires (redis_feed.h says how).
//
// Fan-out. This node SUBSCRIBEs once to each channel that has subscribers here (or a read in
// flight), and UNSUBSCRIBEs a while after the last one left. A publication is written into a
// `pub` push once and handed to every loop's Topics, which frames it once for its subscribers.
//
// Control: every node subscribes to duplex:control on the first shard, where a node publishes
// what all must do; a user disconnect from any node's server API reaches every node's loops.
//
// Presence: a hash per channel in Redis, member -> expiry; this node rewrites the expiries of
// its own members every presenceTtlMs / 3, so the members of a node that died vanish within
// presenceTtlMs (no leave push is sent for them).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "hub/engine.h"
#include "hub/local_disconnect.h"
#include "hub/redis_feed.h"
#include "pubsub/cross_loop_batches.h"
#include "pubsub/topics.h"
#include "redis/redis.h"

namespace duplex::hub {

struct RedisEngineOptions {
  std::vector<redis::Endpoint> shards;  // at least one; every node lists the same, in order
  redis::Options client;
  int64_t presenceTtlMs = 30'000;
  // How long the node stays subscribed to a channel after its last local subscriber left.
  uint32_t unsubscribeAfterMs = 5'000;
  // How long a missing publication may be on its way over pub/sub before the stream is read.
  uint32_t catchUpDelayMs = 20;
};

class RedisEngine final : public Engine {
 public:
  explicit RedisEngine(RedisEngineOptions options);
  // Stops the engine's thread; completions not yet posted are dropped (the hubs are gone).
  ~RedisEngine() override;

  // A loop whose connections use this engine, and the Topics that fan out on it. Call for every
  // loop before start().
  void addLoop(net::Loop& loop, pubsub::Topics& topics);
  // Starts the engine's thread and waits (on the calling thread, which is no loop's) until every
  // shard answered a PING: nullopt, or one line saying which shard failed and why.
  std::optional<std::string> start(uint32_t timeoutMs = 5000);
  // PINGs every shard; `done` on `from` gets nullopt or why not (duplexd's /readyz).
  void check(net::Loop& from, Done<std::optional<std::string>> done);

  bool attach(WebSocket& ws, std::string_view channel) override;
  void detach(WebSocket& ws, std::string_view channel) override;
  void broadcast(net::Loop& from, std::string_view channel, std::string_view message,
                 const WebSocket* except) override;
  void publish(net::Loop& from, PublishRequest request, Done<PublishResult> done) override;
  void read(net::Loop& from, ReadRequest request, Done<ReadResult> done) override;
  void listen(net::Loop& from, std::string_view channel, Done<bool> done) override;
  void join(net::Loop& from, std::string_view channel, PresenceMember member, size_t max,
            Done<JoinResult> done) override;
  void leave(std::string_view channel, std::string_view client) override;
  void presence(net::Loop& from, std::string_view channel,
                Done<std::vector<PresenceMember>> done) override;
  void disconnectUser(net::Loop& from, std::string user, Done<DisconnectResult> done) override;
  void setUserDisconnector(UserDisconnector disconnector) override;
  void sweep(int64_t nowMs) override;

  const std::string& nodeId() const { return nodeId_; }
  // Publications this node's feeds could not deliver (trimmed while it was cut off), for tests.
  uint64_t gaps() const { return gaps_.load(); }

 private:
  using Task = std::function<void()>;
  struct Attachment;
  struct LoopPart {
    net::Loop* loop;
    pubsub::Topics* topics;
    // Loop thread only: tasks for the engine, posted together at the end of the iteration.
    std::vector<Task> toEngine;
    bool toEngineDeferred = false;
    // Loop thread only: who is attached to what (to close them on a gap, and to know when a
    // connection that ends leaves its channels).
    std::unordered_map<WebSocket*, std::unique_ptr<Attachment>> attachments;
    std::unordered_map<std::string, std::unordered_set<WebSocket*>> byChannel;
    // Engine thread only: tasks for this loop, posted together at the end of the iteration.
    std::vector<Task> fromEngine;
  };
  struct Shard {
    redis::Endpoint endpoint;
    std::unique_ptr<redis::Connection> connection;
    std::unique_ptr<redis::Subscriber> subscriber;
    bool subscriberUp = false;
    bool reported = false;  // to start(): up or down, once
  };
  // A channel this node is subscribed to (engine thread).
  struct Channel {
    std::string name;
    std::shared_ptr<const std::string> sharedName;  // what the loops' tasks hold
    size_t shard = 0;
    std::unique_ptr<ChannelFeed> feed;
    size_t attached = 0;               // local subscribers over every loop
    bool confirmed = false;            // our SUBSCRIBE is in effect (the marker came back)
    std::vector<Task> afterConfirmed;  // reads and listens waiting for that
    int64_t waitingSinceMs = -1;       // when the first of them began to wait
    int64_t idleSinceMs = -1;          // when `attached` fell to 0 with nothing in flight
    bool catchUpScheduled = false;
  };

  LoopPart& partOf(net::Loop& loop);
  // From a loop thread: runs `task` on the engine's thread (batched per iteration).
  void toEngine(LoopPart& part, Task task);
  // From the engine thread: runs `task` on the loop (batched per engine iteration).
  void toLoop(net::Loop& loop, Task task);
  void toLoop(LoopPart& part, Task task);
  void flushOutboxes();
  void startupReport(Shard& shard, std::optional<std::string> error);

  // Engine thread.
  void runEngine(std::promise<void>& ready);
  Shard& shardFor(std::string_view channel);
  Channel& channel(const std::string& name);
  void onConnectionUp(Shard& shard);
  void sendMarker(Channel& channel, int attempt);
  void confirm(Channel& channel);
  // Runs `task` once the channel's SUBSCRIBE is in effect, or after kConfirmWaitMs without it
  // (housekeeping); the task then finds the channel unconfirmed and answers unavailable.
  void whenConfirmed(Channel& channel, Task task);
  void stopWaiting(Channel& channel);  // runs the tasks waiting for the confirmation
  void onMessage(Shard& shard, std::string_view pubsubChannel, std::string_view payload);
  void onControl(std::string_view payload);  // redis_control.cpp
  void onSubscriberUp(Shard& shard);
  void deliver(Channel& channel, uint64_t offset, std::string_view data);
  void deliverRaw(const std::string& channel, std::shared_ptr<const std::string> message);
  void deliverRaw(const std::shared_ptr<const std::string>& name,
                  std::shared_ptr<const std::string> message);
  void onGap(const std::string& channel, std::string_view why);
  void maybeCatchUp(Channel& channel);
  void catchUp(Channel& channel);
  void publishOnEngine(LoopPart& caller, PublishRequest request, Done<PublishResult> done);
  void readOnEngine(LoopPart& caller, ReadRequest request, Done<ReadResult> done);
  void listenOnEngine(LoopPart& caller, const std::string& name, Done<bool> done);
  void attachedOnEngine(const std::string& channel, int delta);
  void housekeeping();
  void refreshPresence();
  std::string newEpoch();
  std::string memberValue(std::string_view user) const;  // "expiryMs user"

  RedisEngineOptions options_;
  std::string nodeId_;
  std::vector<std::unique_ptr<LoopPart>> loops_;  // fixed once started
  // Presence pushes from loop to loop (the other nodes get them through Redis).
  pubsub::CrossLoopBatches crossLoop_;
  net::Loop engineLoop_;
  std::thread thread_;
  std::atomic<uint64_t> gaps_{0};
  LocalDisconnect localDisconnect_;
  struct {
    std::mutex mutex;
    std::condition_variable changed;
    size_t up = 0;
    bool controlUp = false;  // the first shard's Subscriber has subscribed to duplex:control
    std::optional<std::string> error;
  } startup_;

  // Engine thread only.
  std::vector<Shard> shards_;
  std::unordered_map<std::string, std::unique_ptr<Channel>> channels_;
  // Local presence members to refresh: channel -> client -> user.
  std::unordered_map<std::string, std::unordered_map<std::string, std::string>> members_;
  bool flushDeferred_ = false;
  uint64_t commitCount_ = 0;
};

}  // namespace duplex::hub
