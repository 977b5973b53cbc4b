#pragma once
// The engine of one process (engine.h): history in a ChannelStore owned by a StorageThread
// (SQLite off the loop threads, group commit across loops), fan-out through each loop's
// pubsub::Topics, presence in memory. Serves any number of loops: each registers itself and
// its Topics with addLoop() before it runs, and a stored publication is handed to the loops
// that have subscribers on its channel, in the Outbox of its batch (one wake-up per such loop
// per batch; a loop without subscribers on the channel is not woken). Pushes that store
// nothing (presence, channels without history) go from loop to loop directly, one post per
// iteration to each loop whose Topics has subscribers on one of them (pubsub::CrossLoopBatches).
//
// Which loops have subscribers on a channel (the channel's loops) is known to the storage
// thread, which alone reads and writes it: a loop claims a channel there before its first
// subscriber can see a publication, and releases it once it has none, each through the
// storage queue, so a claim and a release take their place among the publications as they
// are stored. A read claims the channel for its loop in the same job that reads (the
// subscriber attached in the read's completion misses nothing stored after the read); an
// attach() without a read claims it with a job of its own. No lock on the message path.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hub/engine.h"
#include "hub/local_disconnect.h"
#include "hub/storage_thread.h"
#include "net/string_map.h"
#include "pubsub/cross_loop_batches.h"
#include "pubsub/topics.h"

namespace duplex::hub {

struct InProcessEngineOptions {
  StorageThreadOptions storage;
  // Trimming steps (ChannelStore::trimStep, each one short transaction) per sweep().
  uint32_t trimStepsPerSweep = 4;
};

class InProcessEngine final : public Engine {
 public:
  // `store` belongs to the engine's storage thread from now on; it must outlive the engine.
  explicit InProcessEngine(ChannelStore& store, InProcessEngineOptions options = {});
  ~InProcessEngine() override;

  // A loop whose connections use this engine, and the Topics that fan out on it. Call for
  // every loop before any of them runs.
  void addLoop(net::Loop& loop, pubsub::Topics& topics);

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

  // Readiness (/readyz): a read and a write of the store (ChannelStore::position and
  // checkWritable), queued on the storage thread like any publish. `done` runs on `from` with
  // nullopt when both worked, else SQLite's words for what failed ("write: database is locked").
  void checkStore(net::Loop& from, Done<std::optional<std::string>> done);

  // Transactions of publications committed (group commits), for tests and metrics.
  uint64_t commits() const { return storage_.commits(); }

 private:
  struct LoopPart {
    net::Loop* loop;
    pubsub::Topics* topics;
    uint32_t index;             // in loops_
    bool wakeDeferred = false;  // touched on this loop's thread only
    // The channels this loop has claimed on the storage thread, each with the number of its
    // reads not yet completed here (a subscriber may attach in any of them). This loop's
    // thread only.
    net::StringMap<uint32_t> claimed;
  };
  LoopPart& partOf(net::Loop& loop);
  LoopPart* findPart(const net::Loop& loop);
  // The channel's loops, kept by the storage thread: claim when the loop may have subscribers
  // from now on, release when it has none and no read that could attach one.
  void claim(LoopPart& part, std::string_view channel);
  void releaseIfUnused(LoopPart& part, std::string_view channel);
  void addChannelLoop(const std::string& channel, uint32_t index);     // storage thread only
  void removeChannelLoop(const std::string& channel, uint32_t index);  // ditto
  // Wakes the storage thread once at the end of the loop's iteration, for all it queued.
  void wakeAtEndOfIteration(LoopPart& part);
  // Hands a stored publication's push to the channel's loops (storage thread).
  void deliver(const PublishRequest& publication, uint64_t offset, StorageThread::Outbox& outbox);
  static ReadResult readNow(ChannelStore& store, const ReadRequest& request);

  InProcessEngineOptions options_;
  std::vector<std::unique_ptr<LoopPart>> loops_;  // fixed once the loops run
  // Pushes that store nothing (presence, channels without history), from loop to loop.
  pubsub::CrossLoopBatches crossLoop_;
  // Per channel, the indexes of the loops that claimed it (LoopPart::claimed): the loops its
  // publications are handed to. Storage thread only.
  net::StringMap<std::vector<uint32_t>> channelLoops_;
  std::mutex presenceMutex_;
  std::unordered_map<std::string, std::vector<PresenceMember>> presence_;
  LocalDisconnect localDisconnect_;
  std::atomic<bool> sweepQueued_{false};
  StorageThread storage_;  // last: its thread stops (running what is queued) before the rest goes
};

}  // namespace duplex::hub
