// The storage thread: appends queued from several loops share one commit, each completion runs
// on the loop that asked, in the order of the store's changes, and reads queued between appends
// see exactly what was stored before them.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "hub/storage_thread.h"
#include "loop_test_util.h"
#include "temp_dir.h"
#include "test_channel_store_util.h"

namespace duplex::hub {
namespace {

PublishRequest request(std::string channel, std::string data) {
  return {std::move(channel), std::move(data), {}, test::keep(100), 1000};
}

struct Done {
  std::thread::id thread;
  uint64_t offset = 0;
  bool ok = false;
};

TEST(StorageThread, AppendsFromTwoLoopsShareOneCommitAndCompleteOnTheirOwnLoop) {
  test::TempDir dir;
  auto store = test::openStoreOrFail(dir.file("c.db"));
  ASSERT_TRUE(store);
  net::Loop mine, other;
  std::vector<Done> mineDone, otherDone;
  std::atomic<int> otherCount{0};
  std::thread otherThread([&] { other.run(); });
  const std::thread::id otherId = otherThread.get_id();
  {
    StorageThread storage(*store);
    auto then = [](net::Loop& loop, std::vector<Done>& into, std::atomic<int>* count) {
      return [&loop, &into, count](const PublishRequest&, const StoreResult<Appended>& stored,
                                   StorageThread::Outbox& outbox) {
        Done done{{}, stored.ok() ? stored->offset : 0, stored.ok()};
        outbox.post(loop, [&into, done, count]() mutable {
          done.thread = std::this_thread::get_id();
          into.push_back(done);
          if (count) ++*count;
        });
      };
    };
    // One loop iteration's worth from each loop, then one wake-up.
    for (int i = 0; i < 5; ++i) {
      storage.append(request("a", "1"), then(mine, mineDone, nullptr), false);
      storage.append(request("a", "2"), then(other, otherDone, &otherCount), false);
    }
    EXPECT_EQ(storage.commits(), 0u);
    storage.wake();
    ASSERT_TRUE(test::runUntilTrue(mine, [&] { return mineDone.size() == 5; }));
    while (otherCount.load() < 5) std::this_thread::yield();
    EXPECT_EQ(storage.commits(), 1u) << "ten appends queued together are one transaction";
  }
  other.post([&] { other.stop(); });
  otherThread.join();
  std::vector<uint64_t> offsets;
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_TRUE(mineDone[i].ok);
    EXPECT_EQ(mineDone[i].thread, std::this_thread::get_id());
    EXPECT_EQ(otherDone[i].thread, otherId);
    // Queued alternately: mine got the odd offsets, the other loop the even ones, in order.
    EXPECT_EQ(mineDone[i].offset, 2 * i + 1);
    EXPECT_EQ(otherDone[i].offset, 2 * i + 2);
  }
}

TEST(StorageThread, AReadSeesWhatWasQueuedBeforeItAndItsCompletionKeepsTheOrder) {
  test::TempDir dir;
  auto store = test::openStoreOrFail(dir.file("c.db"));
  ASSERT_TRUE(store);
  net::Loop loop;
  std::vector<std::string> order;
  {
    StorageThread storage(*store);
    auto appended = [&](const PublishRequest& r, const StoreResult<Appended>& stored,
                        StorageThread::Outbox& outbox) {
      std::string what = "pub " + r.data + " at " + std::to_string(stored->offset);
      outbox.post(loop, [&order, what] { order.push_back(what); });
    };
    storage.append(request("a", "x"), appended, false);
    storage.run(
        [&](ChannelStore& s, StorageThread::Outbox& outbox) {
          auto position = s.position("a");
          std::string what = "read top " + std::to_string(position->top);
          outbox.post(loop, [&order, what] { order.push_back(what); });
        },
        false);
    storage.append(request("a", "y"), appended, false);
    storage.wake();
    ASSERT_TRUE(test::runUntilTrue(loop, [&] { return order.size() == 3; }));
    // Two transactions: the read between the appends splits them.
    EXPECT_EQ(storage.commits(), 2u);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"pub x at 1", "read top 1", "pub y at 2"}));
}

TEST(StorageThread, StoppingRunsWhatIsStillQueued) {
  test::TempDir dir;
  auto store = test::openStoreOrFail(dir.file("c.db"));
  ASSERT_TRUE(store);
  bool ran = false;
  {
    StorageThread storage(*store);
    storage.run([&](ChannelStore&, StorageThread::Outbox&) { ran = true; }, false);
  }
  EXPECT_TRUE(ran);
}

TEST(StorageThread, AFailedCommitAnswersEveryPublicationOfItsBatch) {
  test::TempDir dir;
  ChannelStoreOptions options;
  options.maxFileBytes = 64 * 1024;  // a full "disk" for a 200 KiB publication
  auto store = test::openStoreOrFail(dir.file("c.db"), options);
  ASSERT_TRUE(store);
  net::Loop loop;
  std::vector<bool> results;
  {
    StorageThread storage(*store);
    auto then = [&](const PublishRequest&, const StoreResult<Appended>& stored,
                    StorageThread::Outbox& outbox) {
      outbox.post(loop, [&results, ok = stored.ok()] { results.push_back(ok); });
    };
    // The two must be one batch: the storage thread is kept busy with a job until both are
    // queued (it may start, or wake, at any moment, and would take the first one alone).
    std::promise<void> started, queued;
    std::shared_future<void> release = queued.get_future().share();
    storage.run(
        [&started, release](ChannelStore&, StorageThread::Outbox&) {
          started.set_value();
          release.wait();
        },
        true);
    started.get_future().wait();
    storage.append(request("a", "\"small\""), then, false);
    storage.append(request("a", "\"" + std::string(200 * 1024, 'x') + "\""), then, false);
    queued.set_value();
    storage.wake();
    ASSERT_TRUE(test::runUntilTrue(loop, [&] { return results.size() == 2; }));
  }
  EXPECT_EQ(results, (std::vector<bool>{false, false})) << "nothing of a failed batch is stored";
}

}  // namespace
}  // namespace duplex::hub
