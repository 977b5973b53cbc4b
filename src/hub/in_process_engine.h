#pragma once
// The engine of one process (engine.h): history in a ChannelStore owned by a StorageThread
// (SQLite off the loop threads, group commit across loops), fan-out through each loop's
// pubsub::Topics, presence in memory. Serves any number of loops: each registers itself and
// its Topics with addLoop() before it runs, and a stored publication is handed to every loop
// in the Outbox of its batch (one wake-up per loop per batch).
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "hub/engine.h"
#include "hub/local_disconnect.h"
#include "hub/storage_thread.h"
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
  // Pushes delivered without storing (presence, channels without history) that one loop sends
  // the others: gathered during the iteration, handed over at its end with one post per loop.
  struct Deliveries {
    struct Item {
      size_t channelSize;
      size_t messageSize;  // the message follows the channel in `bytes`
    };
    std::string bytes;
    std::vector<Item> items;
  };
  struct LoopPart {
    net::Loop* loop;
    pubsub::Topics* topics;
    bool wakeDeferred = false;             // touched on this loop's thread only
    std::shared_ptr<Deliveries> outgoing;  // this iteration's, for the other loops; ditto
  };
  LoopPart& partOf(net::Loop& loop);
  void handOver(LoopPart& from);
  // Wakes the storage thread once at the end of the loop's iteration, for all it queued.
  void wakeAtEndOfIteration(LoopPart& part);
  static ReadResult readNow(ChannelStore& store, const ReadRequest& request);

  InProcessEngineOptions options_;
  std::vector<std::unique_ptr<LoopPart>> loops_;  // fixed once the loops run
  std::mutex presenceMutex_;
  std::unordered_map<std::string, std::vector<PresenceMember>> presence_;
  LocalDisconnect localDisconnect_;
  std::atomic<bool> sweepQueued_{false};
  StorageThread storage_;  // last: its thread stops (running what is queued) before the rest goes
};

}  // namespace duplex::hub
