#pragma once
// One event loop per thread: waiting for I/O (epoll or io_uring, see io_backend.h), timers,
// cross-thread tasks, signals, and the end-of-iteration flush that turns everything sent to a
// socket during one iteration into one send ("corking").
// Several loops may run on several threads; nothing here is global.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "net/io_backend.h"
#include "net/out_queue.h"
#include "net/pollable.h"

namespace duplex::net {

class EpollBackend;
class Listener;
class Socket;
class UringBackend;

class Loop {
 public:
  // Reads land in one buffer shared by every socket of the loop (uWebSockets does the same):
  // an idle connection then costs no receive buffer of its own.
  static constexpr size_t kReadBufferSize = 512 * 1024;

  // IoBackend::Default: DUPLEX_IO_BACKEND, else epoll. io_uring falls back to epoll (logged
  // once) when the kernel refuses it; backend() says which one runs.
  Loop() : Loop(IoBackend::Default) {}
  explicit Loop(IoBackend backend);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Runs until stop() is called (from a callback or through post()).
  void run();
  void stop() { stopping_ = true; }

  IoBackend backend() const { return uring_ ? IoBackend::IoUring : IoBackend::Epoll; }

  // Driving the loop from another event loop (the Python package runs it inside asyncio's):
  // fd() (the epoll set, or the io_uring's completion ring) is readable whenever there are
  // events to handle. runOnce does one
  // iteration: waits at most `timeoutMs` for events (0: not at all), handles them, the timers,
  // tasks and deferred work that are due, then flushes. nextTimeoutMs() says how soon the next
  // iteration is needed (-1: only when fd() is readable). flush() ends an iteration's worth of
  // work done from outside runOnce (sends from the other loop's callbacks): deferred tasks, the
  // corked writes, the closed sockets.
  int fd() const { return fd_; }
  void runOnce(int timeoutMs);
  int nextTimeoutMs() const;
  void flush();

  // Readiness of a descriptor that is not a Socket or Listener (an eventfd, a signalfd), in
  // epoll's terms (EPOLLIN, EPOLLOUT), level-triggered on both backends.
  void add(int fd, uint32_t events, Pollable* target);
  void modify(int fd, uint32_t events, Pollable* target);
  void remove(int fd);

  // Timers: for rare, loop-wide events (shutdown deadlines, the timeout sweep, app timers).
  // Per-connection timeouts use Socket deadlines instead, which cost no timer each.
  using TimerId = uint64_t;
  TimerId setTimeout(uint64_t delayMs, std::function<void()> callback);
  TimerId setInterval(uint64_t periodMs, std::function<void()> callback);
  void cancelTimer(TimerId id);

  // Runs `task` at the end of this iteration, after every event and timer and before the
  // flush: the place for work that batches what the iteration gathered (group commit).
  void defer(std::function<void()> task);

  // Thread-safe, from any thread (a loop's or not): runs `task` on this loop's thread soon, in
  // the order posted (wakes the loop through an eventfd: one wake-up per call, so batch what
  // goes to a loop often, as pubsub::Topics and App's round-robin accept do). A task posted to
  // a loop that never runs again is destroyed with the loop, unrun.
  void post(std::function<void()> task);
  // How many times post() was called on this loop (each one a wake-up): for tests that hold
  // cross-thread traffic to one wake-up per batch. Thread-safe.
  uint64_t postCount() const { return postCount_.load(std::memory_order_relaxed); }
  // Thread-safe: ends run() at the next iteration (stop() itself is for the loop's own thread).
  void stopFromAnyThread() {
    post([this] { stop(); });
  }
  // The loop whose run() is on this thread's stack, or null: how code shared by several loops
  // (pubsub::Topics, an App with AppOptions::threads > 1) finds its own.
  static Loop* current() { return current_; }

  // Runs `handler` on this loop when the process receives `signal` (through a signalfd; the
  // signal is blocked for the calling thread, so install these before starting other threads).
  void onSignal(int signal, std::function<void()> handler);

  // Milliseconds on the monotonic clock, read once per iteration.
  uint64_t nowMs() const { return nowMs_; }
  // Whole seconds since the loop started: the unit of socket deadlines.
  uint32_t nowTick() const { return static_cast<uint32_t>((nowMs_ - startMs_) / 1000) + 1; }

  // Corking (on by default): everything sent to a socket during an iteration leaves in one
  // syscall at its end. Off, every frame gets its own send as soon as the next one is queued
  // (and the last at the end of the iteration), as a server without corking would do. A
  // benchmark/diagnostic knob (docs/performance.md measures what corking buys); never faster.
  void setCorking(bool on) { corking_ = on; }
  bool corking() const { return corking_; }

  uint8_t* readBuffer() { return readBuffer_.get(); }
  BufferPool& buffers() { return buffers_; }

  // Socket bookkeeping (used by Socket).
  void attach(Socket* socket);
  // Starts receiving on a socket, or accepting on a listener (one multishot request each with
  // io_uring; EPOLLIN otherwise). Loop::modify and Loop::remove work on both afterwards.
  void addSocket(Socket* socket);
  void addListener(int fd, Listener* listener);
  // With io_uring, sends are completions: the socket's sends go through here (null: epoll).
  UringBackend* uring() const { return uring_.get(); }
  // A send of this socket is in flight (io_uring only): its completion finishes the flush.
  bool sendInFlight(int fd) const;
  void detach(Socket* socket);  // closed: unlinked now, deleted at the end of the iteration
  void markDirty(Socket* socket);
  OutQueue* acquireQueue();
  void releaseQueue(OutQueue* queue);
  size_t socketCount() const { return socketCount_; }
  // Deletes the sockets closed so far now instead of at the end of the iteration: for owners
  // (an App) that go away while the loop lives on and must not be called back afterwards.
  void destroyClosed();
  // A snapshot of the live sockets (for shutdown; not for hot paths).
  std::vector<Socket*> sockets() const;

 private:
  struct Timer {
    uint64_t due;
    uint64_t id;
    uint64_t period;  // 0 for one-shot
  };
  class Waker;
  class SignalWatcher;

  void iterate(int timeoutMs);
  void flushIteration();
  void submit();
  void updateClock();
  void runTimers();
  void runPosted();
  void runDeferred();
  void flushDirty();
  void sweepDeadlines();

  std::unique_ptr<EpollBackend> epoll_;  // exactly one of these two
  std::unique_ptr<UringBackend> uring_;
  int fd_ = -1;
  bool stopping_ = false;
  bool corking_ = true;
  uint64_t nowMs_ = 0;
  uint64_t startMs_ = 0;
  std::unique_ptr<uint8_t[]> readBuffer_;
  BufferPool buffers_;
  std::vector<OutQueue*> spareQueues_;

  // Intrusive list of live sockets (for the deadline sweep and shutdown), the dirty list and
  // the sockets waiting for deletion.
  Socket* sockets_ = nullptr;
  size_t socketCount_ = 0;
  Socket* dirty_ = nullptr;
  std::vector<Socket*> closed_;
  std::vector<std::function<void()>> deferred_;

  std::vector<Timer> timerHeap_;                                        // min-heap on due
  std::unordered_map<uint64_t, std::function<void()>> timerCallbacks_;  // cancelled: erased
  uint64_t nextTimerId_ = 1;
  TimerId sweepTimer_ = 0;

  std::unique_ptr<Waker> waker_;
  std::mutex postedMutex_;
  std::vector<std::function<void()>> posted_;
  std::atomic<bool> hasPosted_{false};
  std::atomic<uint64_t> postCount_{0};  // lets an iteration skip the mutex when nothing came
  std::unique_ptr<SignalWatcher> signals_;
  // constinit: other translation units read it directly, without the TLS init wrapper (GCC 12
  // with -fsanitize=undefined otherwise calls a null wrapper).
  static constinit thread_local Loop* current_;
};

}  // namespace duplex::net
