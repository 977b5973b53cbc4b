#pragma once
// An App with several loops, run by App::run() on a thread of its own as a server process
// would be, and clients on the test's own loop. Server handlers then run on the App's loop
// threads: whatever they record is atomic or taken under a lock.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "net/loop.h"
#include "net_test_util.h"
#include "server/app.h"

namespace duplex::test {

inline AppOptions multiLoopOptions(uint32_t threads = 4) {
  AppOptions o;
  o.threads = threads;
  o.handleSignals = false;
  o.handshakeTimeoutSeconds = 10;
  o.shutdownTimeoutSeconds = 5;
  return o;
}

class ServerThread {
 public:
  explicit ServerThread(App& app) : app_(app) {}
  ~ServerThread() { stop(); }
  void start() {
    thread_ = std::thread([this] {
      app_.run();
      returned_ = true;
    });
  }
  // shutdown() from this (non-loop) thread, then waits for run() to return; how long it took.
  uint64_t stop() {
    if (!thread_.joinable()) return 0;
    uint64_t start = monotonicMs();
    app_.shutdown();
    thread_.join();
    return monotonicMs() - start;
  }
  // The same while the clients' loop keeps running, so that they answer the close handshake.
  uint64_t stop(net::Loop& clients) {
    uint64_t start = monotonicMs();
    app_.shutdown();
    EXPECT_TRUE(runUntil(
        clients, [this] { return returned(); }, 10000));
    stop();
    return monotonicMs() - start;
  }
  bool returned() const { return returned_; }

 private:
  App& app_;
  std::thread thread_;
  std::atomic<bool> returned_{false};
};

// The loop index of `loop` in `app`, or -1.
inline int loopIndex(App& app, const net::Loop& loop) {
  for (size_t i = 0; i < app.loopCount(); ++i) {
    if (&app.loop(i) == &loop) return static_cast<int>(i);
  }
  return -1;
}

// True when the handler runs on the thread of the loop its connection lives on.
inline bool onOwnLoop(const WebSocket& ws) {
  return net::Loop::current() == &ws.loop();
}

}  // namespace duplex::test
