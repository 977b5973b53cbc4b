// net::Resolver's lookup threads: a process runs at most 8 lookups at once and queues the rest
// (a thousand connections to one name must not start a thousand threads), every lookup is
// answered in the end, a lookup still waiting its turn when its Resolver leaves is never made,
// and the threads block every signal (a SIGTERM meant for an App's signalfd must not kill the
// process through them).
#include "net/resolver.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/loop.h"
#include "net_test_util.h"

namespace duplex::net {
namespace {

// What the tests' lookups answer: 127.0.0.1 with the port asked.
Resolution loopbackAnswer(uint16_t port) {
  Resolution answer;
  ResolvedAddress address;
  literalAddress("127.0.0.1", port, address);
  answer.addresses.push_back(address);
  return answer;
}

// Lookups that wait until the test opens the gate, counting how many run at once. Shared with
// the lookups: a lookup thread may outlive the test's scope.
struct HeldLookups {
  std::mutex mutex;
  std::condition_variable opened;
  bool open = false;
  std::atomic<int> running{0};
  std::atomic<int> mostAtOnce{0};
  std::atomic<int> made{0};
  std::vector<std::string> hosts;  // in the order they were made

  void release() {
    {
      std::lock_guard lock(mutex);
      open = true;
    }
    opened.notify_all();
  }
};

Lookup heldLookup(std::shared_ptr<HeldLookups> held) {
  return [held](const std::string& host, uint16_t port) {
    ++held->made;
    int now = ++held->running;
    int most = held->mostAtOnce.load();
    while (now > most && !held->mostAtOnce.compare_exchange_weak(most, now)) {
    }
    std::unique_lock lock(held->mutex);
    held->hosts.push_back(host);
    held->opened.wait(lock, [&] { return held->open; });
    --held->running;
    return loopbackAnswer(port);
  };
}

constexpr int kMostLookupsAtOnce = 8;

// As many held lookups as the process runs at once: until `held` opens, every lookup thread is
// busy and any other lookup waits its turn.
std::vector<std::unique_ptr<Resolver>> occupyEveryLookupThread(Loop& loop,
                                                               std::shared_ptr<HeldLookups> held) {
  std::vector<std::unique_ptr<Resolver>> busy;
  for (int i = 0; i < kMostLookupsAtOnce; ++i) {
    busy.push_back(std::make_unique<Resolver>(loop, heldLookup(held)));
    busy.back()->resolve("busy", 80, [](Resolution&&) {});
  }
  return busy;
}

TEST(ResolverThreads, AtMostEightLookupsRunAtOnceAndEveryOneIsAnswered) {
  Loop loop;
  auto held = std::make_shared<HeldLookups>();
  std::vector<std::unique_ptr<Resolver>> resolvers;
  int answered = 0;
  for (int i = 0; i < 20; ++i) {
    resolvers.push_back(std::make_unique<Resolver>(loop, heldLookup(held)));
    resolvers.back()->resolve("host" + std::to_string(i), 80, [&](Resolution&& resolution) {
      EXPECT_EQ(resolution.addresses.size(), 1u);
      ++answered;
    });
  }
  ASSERT_TRUE(test::runUntil(loop, [&] { return held->running == kMostLookupsAtOnce; }));
  // A ninth would have started by now if there were a thread per lookup (the old way).
  test::runFor(loop, 100);
  EXPECT_EQ(held->running, kMostLookupsAtOnce);
  EXPECT_EQ(held->made, kMostLookupsAtOnce);
  held->release();
  ASSERT_TRUE(test::runUntil(loop, [&] { return answered == 20; }));
  EXPECT_EQ(held->mostAtOnce, kMostLookupsAtOnce);
  EXPECT_EQ(held->made, 20);
}

TEST(ResolverThreads, ALookupWaitingItsTurnWhenItsResolverLeavesIsNeverMade) {
  Loop loop;
  auto held = std::make_shared<HeldLookups>();
  std::vector<std::unique_ptr<Resolver>> busy = occupyEveryLookupThread(loop, held);
  ASSERT_TRUE(test::runUntil(loop, [&] { return held->running == kMostLookupsAtOnce; }));
  bool goneAnswered = false;
  {
    Resolver gone(loop, heldLookup(held));
    gone.resolve("gone", 80, [&](Resolution&&) { goneAnswered = true; });
  }
  Resolver after(loop, heldLookup(held));
  bool afterAnswered = false;
  after.resolve("after", 80, [&](Resolution&&) { afterAnswered = true; });
  held->release();
  ASSERT_TRUE(test::runUntil(loop, [&] { return afterAnswered; }));
  test::runFor(loop, 20);
  EXPECT_FALSE(goneAnswered);
  std::lock_guard lock(held->mutex);
  EXPECT_EQ(std::count(held->hosts.begin(), held->hosts.end(), "gone"), 0);
  EXPECT_EQ(std::count(held->hosts.begin(), held->hosts.end(), "after"), 1);
}

TEST(ResolverThreads, LookupThreadsBlockEverySignal) {
  // The creating thread does not block SIGTERM; its lookup thread must all the same.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ASSERT_EQ(pthread_sigmask(SIG_UNBLOCK, &term, nullptr), 0);
  Loop loop;
  auto blocked = std::make_shared<std::atomic<int>>(-1);
  Resolver resolver(loop, [blocked](const std::string&, uint16_t port) {
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    *blocked =
        sigismember(&mask, SIGTERM) && sigismember(&mask, SIGINT) && sigismember(&mask, SIGHUP);
    return loopbackAnswer(port);
  });
  bool answered = false;
  resolver.resolve("name", 80, [&](Resolution&&) { answered = true; });
  ASSERT_TRUE(test::runUntil(loop, [&] { return answered; }));
  EXPECT_EQ(*blocked, 1);
}

TEST(ResolverThreads, AForkedChildLooksNamesUpOnThreadsOfItsOwn) {
  // The parent's lookup threads: all eight busy when it forks, which the child's pool must not
  // count as its own (it would queue the child's lookup behind threads it does not have).
  Loop loop;
  auto held = std::make_shared<HeldLookups>();
  std::vector<std::unique_ptr<Resolver>> busy = occupyEveryLookupThread(loop, held);
  ASSERT_TRUE(test::runUntil(loop, [&] { return held->running == kMostLookupsAtOnce; }));
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Loop childLoop;
    Resolver resolver(childLoop,
                      [](const std::string&, uint16_t port) { return loopbackAnswer(port); });
    bool answered = false;
    resolver.resolve("name", 80, [&](Resolution&& r) { answered = r.addresses.size() == 1; });
    _exit(test::runUntil(
              childLoop, [&] { return answered; }, 5000)
              ? 0
              : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  held->release();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child's lookup never came";
}

}  // namespace
}  // namespace duplex::net
