// Pipelining: 10,000 commands issued in one loop iteration leave together (the socket's
// corking), not one write each, and their callbacks run in issue order.
#include <dlfcn.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <string>

#include "redis_test_util.h"

// Counts sendmsg calls (the only call net::Socket writes with). The definition in the test
// binary takes precedence over libc's for the statically linked duplex_net; the real one is
// next in the lookup order.
namespace {
int gSendmsgCalls = 0;
}

extern "C" ssize_t sendmsg(int fd, const msghdr* message, int flags) {
  using Sendmsg = ssize_t (*)(int, const msghdr*, int);
  static Sendmsg real = reinterpret_cast<Sendmsg>(dlsym(RTLD_NEXT, "sendmsg"));
  ++gSendmsgCalls;
  return real(fd, message, flags);
}

namespace duplex::redis {
namespace {

using test::must;
using test::quickOptions;
using test::RedisServer;
using test::runUntil;

TEST(RedisPipeline, TenThousandCommandsInOneIterationLeaveTogetherAndAnswerInOrder) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.startError();
  net::Loop loop;
  Connection c(loop, test::endpointOf(server.url()), quickOptions());
  ASSERT_TRUE(test::waitUp(loop, c));

  constexpr int kCommands = 10000;
  std::vector<int64_t> replies;
  replies.reserve(kCommands);
  bool inOrder = true;
  int calls = 0;
  // All issued from one callback, that is within one loop iteration.
  loop.setTimeout(0, [&] {
    gSendmsgCalls = 0;
    for (int i = 0; i < kCommands; ++i) {
      c.command({"INCR", "pipelined"}, [&, i](Result&& r) {
        inOrder &= r.ok && r.reply.integer == i + 1;
        replies.push_back(r.reply.integer);
      });
    }
    calls = gSendmsgCalls;
  });
  ASSERT_TRUE(runUntil(loop, [&] { return replies.size() == kCommands; }));
  EXPECT_EQ(calls, 0) << "nothing is written while commands are being issued";
  EXPECT_TRUE(inOrder);
  // 230 KB: usually one sendmsg; the kernel may take it in a few pieces when Redis reads
  // slowly, but a write per command would be 10,000.
  EXPECT_LE(gSendmsgCalls, 40) << "sendmsg calls for " << kCommands << " commands";
  EXPECT_EQ(must(loop, c, {"GET", "pipelined"}).string, std::to_string(kCommands));
}

}  // namespace
}  // namespace duplex::redis
