#include "net/resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "net/loop.h"

namespace duplex::net {

bool literalAddress(std::string_view host, uint16_t port, ResolvedAddress& out) {
  std::string name(host);
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']')
    name = name.substr(1, name.size() - 2);
  out = {};
  auto* in = reinterpret_cast<sockaddr_in*>(&out.address);
  if (inet_pton(AF_INET, name.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    out.length = sizeof(sockaddr_in);
    return true;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.address);
  if (inet_pton(AF_INET6, name.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    out.length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

Resolution resolveBlocking(std::string_view host, uint16_t port) {
  Resolution resolution;
  ResolvedAddress literal;
  if (literalAddress(host, port, literal)) {
    resolution.addresses.push_back(literal);
    return resolution;
  }
  std::string name(host);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  int rc = getaddrinfo(name.c_str(), nullptr, &hints, &result);
  if (rc != 0 || !result) {
    resolution.error =
        "cannot resolve " + name + ": " + (rc != 0 ? gai_strerror(rc) : "no address");
    return resolution;
  }
  for (const addrinfo* info = result; info; info = info->ai_next) {
    if (info->ai_family != AF_INET && info->ai_family != AF_INET6) continue;
    ResolvedAddress address;
    std::memcpy(&address.address, info->ai_addr, info->ai_addrlen);
    address.length = info->ai_addrlen;
    if (info->ai_family == AF_INET)
      reinterpret_cast<sockaddr_in*>(&address.address)->sin_port = htons(port);
    else
      reinterpret_cast<sockaddr_in6*>(&address.address)->sin6_port = htons(port);
    resolution.addresses.push_back(address);
  }
  freeaddrinfo(result);
  if (resolution.addresses.empty()) resolution.error = "cannot resolve " + name + ": no address";
  return resolution;
}

namespace {

// The threads that run every Resolver's lookups in a process: at most kMaxLookupThreads at
// once (asyncio's default executor, which python-websockets resolves on, is bounded the same
// way), started when there is work and none idle, ending after kIdleLifetime without any. A
// thousand connections to one name thus start a handful of threads, not a thousand.
class LookupThreads {
 public:
  static constexpr size_t kMaxLookupThreads = 8;
  static constexpr auto kIdleLifetime = std::chrono::seconds(10);

  // Never destroyed: at exit a thread may still be inside getaddrinfo, or waiting for work on
  // this object's condition variable.
  static LookupThreads& instance() {
    static std::once_flag created;
    std::call_once(created, [] {
      current_ = new LookupThreads;
      pthread_atfork(nullptr, nullptr, [] { current_ = new LookupThreads; });
    });
    return *current_;
  }

  // Runs `job` on a lookup thread, now or once one is free. Throws std::system_error when no
  // thread can be started and none is running to take the job later.
  void run(std::function<void()> job) {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
    if (idle_ >= jobs_.size() || running_ >= kMaxLookupThreads) {
      workToDo_.notify_one();
      return;
    }
    try {
      startThread();
    } catch (const std::system_error&) {
      if (running_ > 0) return;  // one of those takes it
      jobs_.pop_back();
      throw;
    }
  }

 private:
  // With every signal blocked from its first instruction on: a signal meant for a loop's
  // signalfd (App's SIGTERM) must never be delivered to, and by default kill, this thread.
  void startThread() {
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    try {
      std::thread([this] { work(); }).detach();
    } catch (...) {
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
      throw;
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    ++running_;
  }

  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ++idle_;
      bool hasWork = workToDo_.wait_for(lock, kIdleLifetime, [this] { return !jobs_.empty(); });
      --idle_;
      if (!hasWork) {
        --running_;
        return;
      }
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      job = nullptr;  // what it captured goes now, not when the next job comes
      lock.lock();
    }
  }

  // A child of fork() has none of the parent's threads, though this object counts them (and
  // its mutex may be held by one): the child starts on a pool of its own, the parent's left
  // as it was (a Python program that forks its workers after a lookup, say).
  static inline LookupThreads* current_ = nullptr;

  std::mutex mutex_;
  std::condition_variable workToDo_;
  std::deque<std::function<void()>> jobs_;
  size_t running_ = 0;  // threads started and not ended
  size_t idle_ = 0;     // of those, waiting for work
};

}  // namespace

// What a lookup's job and its Resolver share. `loop` is null once the Resolver is gone; the
// thread posts only under the mutex, so it never posts to a loop whose owner has left. `done`
// is touched on the loop's thread only.
struct Resolver::Shared {
  std::mutex mutex;
  Loop* loop;
  Done done;
};

Resolver::Resolver(Loop& loop, Lookup lookup)
    : loop_(&loop), lookup_(lookup ? std::move(lookup) : Lookup(resolveBlocking)) {}

Resolver::~Resolver() {
  if (!inFlight_) return;
  std::lock_guard lock(inFlight_->mutex);
  inFlight_->loop = nullptr;
}

bool Resolver::busy() const {
  return inFlight_ != nullptr;
}

void Resolver::resolve(std::string host, uint16_t port, Done done) {
  if (inFlight_) {
    inFlight_->done = std::move(done);
    return;
  }
  auto shared = std::make_shared<Shared>();
  shared->loop = loop_;
  shared->done = std::move(done);
  inFlight_ = shared;
  // The answer comes back through the loop, as a task that finds this lookup still the
  // Resolver's (through `shared`: the Resolver itself may be gone by then).
  auto deliver = [this, shared](Resolution&& resolution) {
    {
      std::lock_guard lock(shared->mutex);
      if (!shared->loop) return;  // the Resolver is gone
    }
    inFlight_.reset();
    Done answer = std::move(shared->done);
    answer(std::move(resolution));
  };
  try {
    LookupThreads::instance().run([shared, deliver, lookup = lookup_, host, port]() mutable {
      {
        std::lock_guard lock(shared->mutex);
        if (!shared->loop) return;  // the Resolver left while this waited its turn
      }
      Resolution resolution = lookup(host, port);
      std::lock_guard lock(shared->mutex);
      if (!shared->loop) return;
      shared->loop->post(
          [deliver = std::move(deliver), resolution = std::move(resolution)]() mutable {
            deliver(std::move(resolution));
          });
    });
  } catch (const std::system_error& e) {
    // No thread to be had (a process at its limit): an answer all the same, at the next
    // iteration, and the owner's usual retry.
    loop_->post([deliver, why = std::string(e.what()), host]() mutable {
      deliver({{}, "cannot resolve " + host + ": no thread to resolve it on (" + why + ")"});
    });
  }
}

}  // namespace duplex::net
