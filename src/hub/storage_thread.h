#pragma once
// The thread that owns a ChannelStore: SQLite work leaves the loop threads, so a slow disk or a
// long fsync never stalls a connection's loop.
//
// Loops queue work from any thread; the storage thread takes everything queued so far and runs
// it in the order it was queued, except that consecutive appends (from one loop or several)
// are stored together in one transaction: group commit. While one batch commits the next one
// gathers, so the busier the hub, the more publications share a commit.
//
// Results go back to the loops through an Outbox: whatever one batch sends to a loop leaves in
// one Loop::post (one cross-thread wake-up per loop per batch), and each loop runs its tasks in
// the order the storage thread produced them, which is the order of the store's changes.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "hub/channel_store.h"
#include "hub/engine.h"  // PublishRequest
#include "net/loop.h"

namespace duplex::hub {

struct StorageThreadOptions {
  // Test hook: every commit of appends first sleeps this long, as a slow disk would. Lets
  // tests show that the loops keep answering while a publish waits for its commit.
  uint32_t commitDelayMs = 0;
};

class StorageThread {
 public:
  // What one batch sends back: tasks per loop, posted together when the batch is done.
  class Outbox {
   public:
    void post(net::Loop& loop, std::function<void()> task);

   private:
    friend class StorageThread;
    void send();
    std::vector<std::pair<net::Loop*, std::vector<std::function<void()>>>> perLoop_;
  };

  // Runs on the storage thread with the store to itself.
  using Job = std::function<void(ChannelStore&, Outbox&)>;
  // An append's continuation, on the storage thread: the request and what the store answered
  // (on an error, nothing of its batch was stored).
  using AppendThen =
      std::function<void(const PublishRequest&, const StoreResult<Appended>&, Outbox&)>;

  // From now on `store` is used only by the storage thread.
  explicit StorageThread(ChannelStore& store, StorageThreadOptions options = {});
  // Runs what is still queued, then stops the thread.
  ~StorageThread();
  StorageThread(const StorageThread&) = delete;
  StorageThread& operator=(const StorageThread&) = delete;

  // Queue work from any thread. With wake = false the thread is not woken for it: the caller
  // queues a loop iteration's work and calls wake() once at its end.
  void append(PublishRequest request, AppendThen then, bool wake = true);
  void run(Job job, bool wake = true);
  void wake();

  // Transactions of appends committed so far (any thread).
  uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
  // The transaction now completing, for an AppendThen (storage thread only).
  const CommitTiming& currentCommit() const { return currentCommit_; }

 private:
  struct Item {
    PublishRequest request;  // appends
    AppendThen then;         // set for appends
    Job job;                 // set for other work
  };

  void enqueue(Item item, bool wake);
  void main();
  void process(std::vector<Item>& items);
  void commit(std::vector<Item>& items, size_t begin, size_t end, Outbox& outbox);

  ChannelStore& store_;
  StorageThreadOptions options_;
  std::atomic<uint64_t> commits_{0};
  std::vector<NewPublication> batch_;  // storage thread only: reused across commits
  std::vector<Appended> results_;
  CommitTiming currentCommit_;  // storage thread only

  std::mutex mutex_;
  std::condition_variable wakeUp_;
  std::vector<Item> queue_;  // guarded by mutex_
  bool stopping_ = false;    // guarded by mutex_
  std::thread thread_;       // last: started once everything above exists, signals blocked
};

}  // namespace duplex::hub
