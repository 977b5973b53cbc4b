#include "hub/storage_thread.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>

namespace duplex::hub {

void StorageThread::Outbox::post(net::Loop& loop, std::function<void()> task) {
  for (auto& [target, tasks] : perLoop_) {
    if (target == &loop) {
      tasks.push_back(std::move(task));
      return;
    }
  }
  perLoop_.emplace_back(&loop, std::vector<std::function<void()>>{})
      .second.push_back(std::move(task));
}

void StorageThread::Outbox::send() {
  for (auto& [loop, tasks] : perLoop_) {
    loop->post([tasks = std::move(tasks)]() mutable {
      for (auto& task : tasks) task();
    });
  }
  perLoop_.clear();
}

StorageThread::StorageThread(ChannelStore& store, StorageThreadOptions options)
    : store_(store), options_(options) {
  // Started with every signal blocked, which it inherits: SIGTERM and friends must reach the
  // loop that waits for them (Loop::onSignal blocks them only for its own thread), never this
  // thread, whose default action would end the process.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  thread_ = std::thread([this] { main(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

StorageThread::~StorageThread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wakeUp_.notify_one();
  thread_.join();
}

void StorageThread::append(PublishRequest request, AppendThen then, bool wake) {
  enqueue({std::move(request), std::move(then), {}}, wake);
}

void StorageThread::run(Job job, bool wake) {
  enqueue({{}, {}, std::move(job)}, wake);
}

void StorageThread::enqueue(Item item, bool wake) {
  std::lock_guard lock(mutex_);
  queue_.push_back(std::move(item));
  // Notified under the lock: cheap when nobody waits, and never lost.
  if (wake) wakeUp_.notify_one();
}

void StorageThread::wake() {
  std::lock_guard lock(mutex_);
  if (!queue_.empty()) wakeUp_.notify_one();
}

void StorageThread::main() {
  std::vector<Item> items;
  std::unique_lock lock(mutex_);
  for (;;) {
    // Work queued without a wake-up is still found: a stop, or the next wake(), takes it.
    wakeUp_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return;  // stopping, and nothing left to do
    items.swap(queue_);
    lock.unlock();
    process(items);
    items.clear();
    lock.lock();
  }
}

void StorageThread::process(std::vector<Item>& items) {
  Outbox outbox;
  size_t i = 0;
  while (i < items.size()) {
    if (!items[i].then) {
      items[i].job(store_, outbox);
      ++i;
      continue;
    }
    size_t end = i;
    while (end < items.size() && items[end].then) ++end;
    commit(items, i, end, outbox);
    i = end;
  }
  outbox.send();
}

void StorageThread::commit(std::vector<Item>& items, size_t begin, size_t end, Outbox& outbox) {
  batch_.clear();
  for (size_t i = begin; i < end; ++i) {
    const PublishRequest& r = items[i].request;
    batch_.push_back({r.channel, r.data, r.key, r.nowMs, r.limits});
  }
  const auto started = std::chrono::steady_clock::now();
  if (options_.commitDelayMs) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.commitDelayMs));
  }
  auto stored = store_.append(batch_, results_);
  currentCommit_.id += 1;
  currentCommit_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (stored.ok()) commits_.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = begin; i < end; ++i) {
    Item& item = items[i];
    if (stored.ok()) {
      item.then(item.request, StoreResult<Appended>(results_[i - begin]), outbox);
    } else {
      item.then(item.request, StoreResult<Appended>(stored.error()), outbox);
    }
  }
}

}  // namespace duplex::hub
