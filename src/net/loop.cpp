#include "net/loop.h"

#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "net/backend_epoll.h"
#include "net/backend_uring.h"
#include "net/listener.h"
#include "net/log.h"
#include "net/socket.h"

namespace duplex::net {
namespace {

uint64_t monotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

[[noreturn]] void throwErrno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Heap order: earliest due first, and timers due at the same time in the order they were set.
bool laterDue(const auto& a, const auto& b) {
  return a.due != b.due ? a.due > b.due : a.id > b.id;
}

}  // namespace

// The eventfd that post() writes to so a sleeping wait (epoll_wait, io_uring_enter) returns.
class Loop::Waker final : public Pollable {
 public:
  explicit Waker(Loop& loop) : loop_(loop), fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throwErrno("eventfd");
    loop_.add(fd_, EPOLLIN, this);
  }
  ~Waker() { close(fd_); }
  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fd_, &one, sizeof one);
  }
  void onEvents(uint32_t) override {
    uint64_t count;
    [[maybe_unused]] ssize_t n = ::read(fd_, &count, sizeof count);
  }

 private:
  Loop& loop_;
  int fd_;
};

class Loop::SignalWatcher final : public Pollable {
 public:
  explicit SignalWatcher(Loop& loop) : loop_(loop) { sigemptyset(&mask_); }
  ~SignalWatcher() {
    if (fd_ >= 0) close(fd_);
  }
  void watch(int signal, std::function<void()> handler) {
    sigaddset(&mask_, signal);
    pthread_sigmask(SIG_BLOCK, &mask_, nullptr);
    int fd = signalfd(fd_, &mask_, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) throwErrno("signalfd");
    if (fd_ < 0) loop_.add(fd, EPOLLIN, this);
    fd_ = fd;
    handlers_.emplace_back(signal, std::move(handler));
  }
  void onEvents(uint32_t) override {
    signalfd_siginfo info;
    while (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      for (auto& [signal, handler] : handlers_) {
        if (static_cast<uint32_t>(signal) == info.ssi_signo) handler();
      }
    }
  }

 private:
  Loop& loop_;
  int fd_ = -1;
  sigset_t mask_;
  std::vector<std::pair<int, std::function<void()>>> handlers_;
};

Loop::Loop(IoBackend backend) {
  if (resolveBackend(backend) == IoBackend::IoUring) {
    std::string why;
    uring_ = UringBackend::create(*this, why);
    if (!uring_) {
      // Once per process: every loop (and every test) would otherwise say it again.
      static std::atomic<bool> logged{false};
      if (!logged.exchange(true))
        DUPLEX_LOG(Warn, "io_uring unavailable (%s): using epoll", why.c_str());
    }
  }
  if (uring_) {
    fd_ = uring_->fd();
  } else {
    epoll_ = std::make_unique<EpollBackend>();
    fd_ = epoll_->fd();
    readBuffer_.reset(new uint8_t[kReadBufferSize]);
  }
  nowMs_ = startMs_ = monotonicMs();
  waker_ = std::make_unique<Waker>(*this);
  // One sweep a second checks every socket's deadline: per-connection timeouts then cost four
  // bytes each instead of a timer object each (uWebSockets sweeps the same way).
  sweepTimer_ = setInterval(1000, [this] { sweepDeadlines(); });
}

Loop::~Loop() {
  // Sockets still open when the loop dies are closed without ceremony.
  while (sockets_) sockets_->closeNow();
  destroyClosed();
  signals_.reset();
  waker_.reset();
  // The ring goes before the queues: sends still in flight hold some (and their chunks).
  uring_.reset();
  for (OutQueue* queue : spareQueues_) delete queue;
  spareQueues_.clear();
}

// With io_uring, a watch changed outside an iteration of this loop (a socket made before the
// loop runs, or while another event loop drives it through fd()) is submitted at once: whoever
// polls fd() must see its events. Inside an iteration it leaves with the iteration's wait.
void Loop::add(int fd, uint32_t events, Pollable* target) {
  if (!uring_) return epoll_->add(fd, events, target);
  uring_->add(fd, events, target);
  if (current_ != this) uring_->submit();
}

void Loop::modify(int fd, uint32_t events, Pollable* target) {
  if (!uring_) return epoll_->modify(fd, events, target);
  uring_->modify(fd, events, target);
  if (current_ != this) uring_->submit();
}

void Loop::remove(int fd) {
  if (!uring_) return epoll_->remove(fd);
  uring_->remove(fd);
  if (current_ != this) uring_->submit();
}

void Loop::addSocket(Socket* socket) {
  if (!uring_) return epoll_->add(socket->fd(), EPOLLIN, socket);
  uring_->addSocket(socket);
  if (current_ != this) uring_->submit();
}

void Loop::addListener(int fd, Listener* listener) {
  if (!uring_) return epoll_->add(fd, EPOLLIN, listener);
  uring_->addListener(fd, listener);
  if (current_ != this) uring_->submit();
}

bool Loop::sendInFlight(int fd) const {
  return uring_ && uring_->sending(fd);
}

Loop::TimerId Loop::setTimeout(uint64_t delayMs, std::function<void()> callback) {
  TimerId id = nextTimerId_++;
  timerCallbacks_.emplace(id, std::move(callback));
  timerHeap_.push_back({monotonicMs() + delayMs, id, 0});
  std::push_heap(timerHeap_.begin(), timerHeap_.end(), laterDue<Timer, Timer>);
  return id;
}

Loop::TimerId Loop::setInterval(uint64_t periodMs, std::function<void()> callback) {
  TimerId id = setTimeout(periodMs, std::move(callback));
  for (Timer& t : timerHeap_) {
    if (t.id == id) t.period = periodMs;
  }
  return id;
}

void Loop::cancelTimer(TimerId id) {
  timerCallbacks_.erase(id);
}

void Loop::post(std::function<void()> task) {
  {
    std::lock_guard lock(postedMutex_);
    posted_.push_back(std::move(task));
    hasPosted_.store(true, std::memory_order_release);
  }
  postCount_.fetch_add(1, std::memory_order_relaxed);
  waker_->wake();
}

void Loop::onSignal(int signal, std::function<void()> handler) {
  if (!signals_) signals_ = std::make_unique<SignalWatcher>(*this);
  signals_->watch(signal, std::move(handler));
}

constinit thread_local Loop* Loop::current_ = nullptr;

namespace {

// Makes `loop` the current one for a scope: run(), and runOnce()/flush() when another event
// loop drives this one (the Python package's asyncio), so that code shared by several loops
// (pubsub::Topics, App::runOn) finds its own loop either way. Nests: a loop driven from a
// callback of another restores the outer one.
class CurrentScope {
 public:
  CurrentScope(Loop*& current, Loop* loop) : current_(current), outer_(current) { current_ = loop; }
  ~CurrentScope() { current_ = outer_; }
  CurrentScope(const CurrentScope&) = delete;
  CurrentScope& operator=(const CurrentScope&) = delete;

 private:
  Loop*& current_;
  Loop* outer_;
};

}  // namespace

void Loop::run() {
  stopping_ = false;
  CurrentScope scope(current_, this);
  // With io_uring, what an iteration prepared leaves in the next iteration's wait: one syscall.
  while (!stopping_) iterate(nextTimeoutMs());
  submit();
}

void Loop::runOnce(int timeoutMs) {
  CurrentScope scope(current_, this);
  iterate(timeoutMs);
  submit();  // whoever drives us waits on fd(), not in our wait
}

void Loop::iterate(int timeoutMs) {
  auto clock = [this] { updateClock(); };
  if (uring_)
    uring_->wait(timeoutMs, clock);
  else
    epoll_->wait(timeoutMs, clock);
  runTimers();
  runPosted();
  flushIteration();
}

void Loop::flush() {
  CurrentScope scope(current_, this);
  flushIteration();
  submit();
}

void Loop::flushIteration() {
  runDeferred();
  flushDirty();
  destroyClosed();
}

void Loop::submit() {
  if (uring_) uring_->submit();
}

void Loop::updateClock() {
  nowMs_ = monotonicMs();
}

int Loop::nextTimeoutMs() const {
  if (dirty_ || !closed_.empty() || !deferred_.empty()) return 0;
  if (uring_ && uring_->hasCompletions()) return 0;
  if (timerHeap_.empty()) return -1;
  uint64_t now = monotonicMs();
  uint64_t due = timerHeap_.front().due;
  return due <= now ? 0 : static_cast<int>(std::min<uint64_t>(due - now, 60000));
}

void Loop::runTimers() {
  while (!timerHeap_.empty() && timerHeap_.front().due <= nowMs_) {
    std::pop_heap(timerHeap_.begin(), timerHeap_.end(), laterDue<Timer, Timer>);
    Timer timer = timerHeap_.back();
    timerHeap_.pop_back();
    auto it = timerCallbacks_.find(timer.id);
    if (it == timerCallbacks_.end()) continue;  // cancelled
    if (timer.period) {
      timerHeap_.push_back({nowMs_ + timer.period, timer.id, timer.period});
      std::push_heap(timerHeap_.begin(), timerHeap_.end(), laterDue<Timer, Timer>);
      // Run a moved-out copy: the callback may cancel its own timer, which erases the entry,
      // and must not destroy the function that is running.
      auto callback = std::move(it->second);
      callback();
      auto again = timerCallbacks_.find(timer.id);
      if (again != timerCallbacks_.end()) again->second = std::move(callback);
    } else {
      auto callback = std::move(it->second);
      timerCallbacks_.erase(it);
      callback();
    }
  }
}

void Loop::runPosted() {
  if (!hasPosted_.load(std::memory_order_acquire)) return;
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(postedMutex_);
    hasPosted_.store(false, std::memory_order_relaxed);
    if (posted_.empty()) return;
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

void Loop::defer(std::function<void()> task) {
  deferred_.push_back(std::move(task));
}

void Loop::runDeferred() {
  // A deferred task may defer more; those run in this same pass.
  for (size_t i = 0; i < deferred_.size(); ++i) {
    auto task = std::move(deferred_[i]);
    task();
  }
  deferred_.clear();
}

void Loop::attach(Socket* socket) {
  socket->next_ = sockets_;
  if (sockets_) sockets_->prev_ = socket;
  sockets_ = socket;
  ++socketCount_;
}

void Loop::detach(Socket* socket) {
  if (socket->prev_)
    socket->prev_->next_ = socket->next_;
  else
    sockets_ = socket->next_;
  if (socket->next_) socket->next_->prev_ = socket->prev_;
  socket->prev_ = socket->next_ = nullptr;
  --socketCount_;
  closed_.push_back(socket);
}

std::vector<Socket*> Loop::sockets() const {
  std::vector<Socket*> all;
  for (Socket* s = sockets_; s; s = s->next_) all.push_back(s);
  return all;
}

void Loop::markDirty(Socket* socket) {
  if (socket->inDirtyList_) return;
  socket->inDirtyList_ = true;
  socket->nextDirty_ = dirty_;
  dirty_ = socket;
}

void Loop::flushDirty() {
  // A flush may queue more (a socket's onDrain sends): loop until nothing is dirty.
  while (dirty_) {
    Socket* list = dirty_;
    dirty_ = nullptr;
    while (list) {
      Socket* socket = list;
      list = socket->nextDirty_;
      socket->nextDirty_ = nullptr;
      socket->inDirtyList_ = false;
      if (!socket->isClosed()) socket->flush();
    }
  }
}

OutQueue* Loop::acquireQueue() {
  if (spareQueues_.empty()) return new OutQueue(buffers_);
  OutQueue* queue = spareQueues_.back();
  spareQueues_.pop_back();
  return queue;
}

void Loop::releaseQueue(OutQueue* queue) {
  // A closing socket's queue that io_uring is still sending: released when the send completes.
  if (uring_ && uring_->adoptQueue(queue)) return;
  queue->clear();
  if (spareQueues_.size() < 1024)
    spareQueues_.push_back(queue);
  else
    delete queue;
}

void Loop::sweepDeadlines() {
  uint32_t now = nowTick();
  // onTimeout may close sockets (which unlinks them): remember the next one first.
  for (Socket* s = sockets_; s;) {
    Socket* next = s->next_;
    if (!s->isClosed() && s->deadline_ && s->deadline_ <= now) {
      s->deadline_ = 0;
      s->deadlinePassed();
    }
    s = next;
  }
}

void Loop::destroyClosed() {
  while (!closed_.empty()) {
    std::vector<Socket*> batch;
    batch.swap(closed_);
    for (Socket* socket : batch) delete socket;
  }
}

}  // namespace duplex::net
