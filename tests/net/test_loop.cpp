// Loop: timers (order, cancel, interval, cancel from inside a callback), post() from other
// threads, and signals through onSignal.
#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "net/loop.h"
#include "net_test_util.h"

namespace duplex::net {
namespace {

using test::monotonicMs;
using test::runUntil;

TEST(LoopTimers, FireInOrderOfDueTime) {
  Loop loop;
  std::string order;
  loop.setTimeout(30, [&] { order += 'c'; });
  loop.setTimeout(10, [&] { order += 'a'; });
  loop.setTimeout(20, [&] { order += 'b'; });
  loop.setTimeout(0, [&] { order += '0'; });
  ASSERT_TRUE(runUntil(loop, [&] { return order.size() == 4; }));
  EXPECT_EQ(order, "0abc");
}

TEST(LoopTimers, DoNotFireEarly) {
  Loop loop;
  uint64_t start = monotonicMs();
  uint64_t firedAfter = 0;
  loop.setTimeout(50, [&] { firedAfter = monotonicMs() - start; });
  ASSERT_TRUE(runUntil(loop, [&] { return firedAfter != 0; }));
  EXPECT_GE(firedAfter, 50u);
}

TEST(LoopTimers, SameDelayFiresInTheOrderSet) {
  // Timers set one after the other with the same delay are usually due in the same millisecond;
  // callers (connect()'s error reports, deferred app work) expect first set, first run.
  Loop loop;
  std::vector<int> order;
  for (int i = 0; i < 16; ++i) loop.setTimeout(5, [&order, i] { order.push_back(i); });
  ASSERT_TRUE(runUntil(loop, [&] { return order.size() == 16; }));
  std::vector<int> expected;
  for (int i = 0; i < 16; ++i) expected.push_back(i);
  EXPECT_EQ(order, expected);
}

TEST(LoopTimers, CancelledTimerNeverFires) {
  Loop loop;
  bool fired = false, later = false;
  Loop::TimerId id = loop.setTimeout(5, [&] { fired = true; });
  loop.cancelTimer(id);
  loop.setTimeout(30, [&] { later = true; });
  ASSERT_TRUE(runUntil(loop, [&] { return later; }));
  EXPECT_FALSE(fired);
  loop.cancelTimer(id);  // cancelling twice (or after the end) is harmless
}

TEST(LoopTimers, CallbackCancelsAnotherTimer) {
  Loop loop;
  bool victimFired = false, done = false;
  Loop::TimerId victim = loop.setTimeout(20, [&] { victimFired = true; });
  loop.setTimeout(5, [&] { loop.cancelTimer(victim); });
  loop.setTimeout(40, [&] { done = true; });
  ASSERT_TRUE(runUntil(loop, [&] { return done; }));
  EXPECT_FALSE(victimFired);
}

TEST(LoopTimers, IntervalRepeatsUntilCancelled) {
  Loop loop;
  int ticks = 0;
  Loop::TimerId interval = loop.setInterval(2, [&] { ++ticks; });
  ASSERT_TRUE(runUntil(loop, [&] { return ticks >= 5; }));
  loop.cancelTimer(interval);
  int atCancel = ticks;
  test::runFor(loop, 30);
  EXPECT_EQ(ticks, atCancel);
}

TEST(LoopTimers, CallbackSetsNewTimers) {
  Loop loop;
  std::vector<int> fired;
  loop.setTimeout(1, [&] {
    fired.push_back(1);
    // Enough new timers to make the callback table grow while this callback runs.
    for (int i = 0; i < 100; ++i) loop.setTimeout(1, [&fired] { fired.push_back(2); });
  });
  ASSERT_TRUE(runUntil(loop, [&] { return fired.size() == 101; }));
}

// Counts live copies of a callback's captured state: a callback destroyed while it is still
// running is a use-after-free waiting for the next capture it touches.
int gLiveGuards = 0;
struct LiveGuard {
  LiveGuard() { ++gLiveGuards; }
  LiveGuard(const LiveGuard&) { ++gLiveGuards; }
  LiveGuard(LiveGuard&&) noexcept { ++gLiveGuards; }
  ~LiveGuard() { --gLiveGuards; }
};
Loop* gLoop = nullptr;
Loop::TimerId gSelf = 0;
int gFired = 0;
int gLiveAfterCancel = -1;

TEST(LoopTimers, IntervalCancelsItselfFromItsOwnCallback) {
  Loop loop;
  gLoop = &loop;
  gFired = 0;
  gLiveGuards = 0;
  gSelf = loop.setInterval(2, [guard = LiveGuard()] {
    ++gFired;
    gLoop->cancelTimer(gSelf);
    // The callback is still running: its captures must still exist.
    gLiveAfterCancel = gLiveGuards;
  });
  ASSERT_EQ(gLiveGuards, 1);
  ASSERT_TRUE(runUntil(loop, [] { return gFired > 0; }));
  test::runFor(loop, 20);
  EXPECT_EQ(gFired, 1);
  EXPECT_EQ(gLiveAfterCancel, 1)
      << "Loop::runTimers destroyed the interval's callback while it was running";
  EXPECT_EQ(gLiveGuards, 0);  // and it is gone once cancelled
  gLoop = nullptr;
}

TEST(LoopTimers, TimeoutCancelsItselfFromItsOwnCallback) {
  Loop loop;
  int fired = 0;
  Loop::TimerId self = 0;
  self = loop.setTimeout(1, [&] {
    ++fired;
    loop.cancelTimer(self);  // already due and running: a no-op
  });
  ASSERT_TRUE(runUntil(loop, [&] { return fired > 0; }));
  test::runFor(loop, 10);
  EXPECT_EQ(fired, 1);
}

// The state letter of a thread of this process ('S' while it sleeps in epoll_wait).
char threadState(pid_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  return paren == std::string::npos || paren + 2 >= text.size() ? '?' : text[paren + 2];
}

TEST(LoopPost, FromAnotherThreadWakesASleepingLoop) {
  Loop loop;
  pid_t loopThread = static_cast<pid_t>(syscall(SYS_gettid));
  std::atomic<bool> sawSleep{false};
  std::atomic<uint64_t> postedAt{0};
  uint64_t ranAt = 0;
  // Nothing is due before the loop's one-second sweep: without the wake-up the task would wait.
  Loop::TimerId bound = loop.setTimeout(5000, [&] { loop.stop(); });
  std::thread poster([&] {
    // Post only once the loop thread is asleep in epoll_wait, so that only the wake-up can run
    // the task (bounded: after two seconds post anyway and let the latency check judge).
    for (uint64_t start = monotonicMs(); monotonicMs() - start < 2000;) {
      if (threadState(loopThread) == 'S') {
        sawSleep = true;
        break;
      }
      std::this_thread::yield();
    }
    postedAt = monotonicMs();
    loop.post([&] {
      ranAt = monotonicMs();
      loop.stop();
    });
  });
  loop.run();
  poster.join();
  loop.cancelTimer(bound);
  ASSERT_NE(ranAt, 0u) << "the posted task never ran";
  EXPECT_TRUE(sawSleep.load());
  EXPECT_LT(ranAt - postedAt.load(), 500u) << "woken by a timer, not by post()";
}

TEST(LoopPost, TasksFromManyThreadsAllRunInPerThreadOrder) {
  Loop loop;
  constexpr int kThreads = 4, kTasks = 500;
  std::vector<std::vector<int>> seen(kThreads);
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kTasks; ++i) {
        loop.post([&, t, i] {
          seen[static_cast<size_t>(t)].push_back(i);
          ++total;
        });
      }
    });
  }
  bool done = runUntil(loop, [&] { return total.load() == kThreads * kTasks; });
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(done);
  for (const auto& s : seen) {
    ASSERT_EQ(s.size(), static_cast<size_t>(kTasks));
    for (int i = 0; i < kTasks; ++i) EXPECT_EQ(s[static_cast<size_t>(i)], i);
  }
}

TEST(LoopPost, TaskPostedBeforeRunRunsOnTheFirstIteration) {
  Loop loop;
  bool ran = false;
  loop.post([&] { ran = true; });
  test::runOnce(loop);
  EXPECT_TRUE(ran);
}

TEST(LoopSignals, RaiseRunsTheHandlerOnTheLoop) {
  Loop loop;
  int usr1 = 0, usr2 = 0;
  loop.onSignal(SIGUSR1, [&] { ++usr1; });
  loop.onSignal(SIGUSR2, [&] { ++usr2; });
  // The signals are blocked for this thread now: raise() leaves them pending for the signalfd.
  ASSERT_EQ(raise(SIGUSR1), 0);
  ASSERT_TRUE(runUntil(loop, [&] { return usr1 == 1; }));
  EXPECT_EQ(usr2, 0);
  ASSERT_EQ(raise(SIGUSR2), 0);
  ASSERT_TRUE(runUntil(loop, [&] { return usr2 == 1; }));
  EXPECT_EQ(usr1, 1);
}

}  // namespace
}  // namespace duplex::net
