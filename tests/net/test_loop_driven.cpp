// A Loop driven by another event loop (the Python package runs it inside asyncio's): fd() is
// readable exactly when runOnce(0) has something to handle, nextTimeoutMs() says when a timer
// needs it, flush() sends what was written outside an iteration in one go; and a Socket whose
// owner cannot keep up stops and resumes reading (setReading).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <span>
#include <string>

#include "net/loop.h"
#include "net/socket.h"
#include "net_test_util.h"

namespace duplex::net {
namespace {

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

class Collector final : public Socket {
 public:
  Collector(Loop& loop, int fd, std::string& into) : Socket(loop, fd), into_(into) {}

 protected:
  void onData(std::span<uint8_t> data) override {
    into_.append(reinterpret_cast<const char*>(data.data()), data.size());
  }
  void onEnd(int) override { closeNow(); }

 private:
  std::string& into_;
};

TEST(LoopDriven, FdIsReadableWhileEventsWaitAndRunOnceHandlesThem) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Loop loop;
  std::string received;
  new Collector(loop, fds[0], received);
  EXPECT_FALSE(readable(loop.fd()));
  ASSERT_EQ(::write(fds[1], "hello", 5), 5);
  EXPECT_TRUE(readable(loop.fd()));
  loop.runOnce(0);
  EXPECT_EQ(received, "hello");
  EXPECT_FALSE(readable(loop.fd()));
  ::close(fds[1]);
}

TEST(LoopDriven, NextTimeoutFollowsTheEarliestTimer) {
  Loop loop;
  int timeout = loop.nextTimeoutMs();  // the once-a-second deadline sweep
  EXPECT_GT(timeout, 900);
  EXPECT_LE(timeout, 1000);
  bool fired = false;
  loop.setTimeout(0, [&] { fired = true; });
  EXPECT_EQ(loop.nextTimeoutMs(), 0);
  loop.runOnce(0);
  EXPECT_TRUE(fired);
  EXPECT_GT(loop.nextTimeoutMs(), 0);
}

TEST(LoopDriven, FlushSendsWhatWasWrittenOutsideAnIterationInOneSendmsg) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  Loop loop;
  std::string unused;
  auto* socket = new Collector(loop, fds[0], unused);
  socket->write("one ");
  socket->write("two");
  EXPECT_EQ(loop.nextTimeoutMs(), 0);  // dirty: the driver must come back at once
  loop.flush();
  char buffer[64];
  ssize_t n = ::recv(fds[1], buffer, sizeof buffer, MSG_DONTWAIT);
  ASSERT_EQ(n, 7);  // one record: one sendmsg
  EXPECT_EQ(std::string(buffer, 7), "one two");
  EXPECT_LT(::recv(fds[1], buffer, sizeof buffer, MSG_DONTWAIT), 0);
  ::close(fds[1]);
}

TEST(SocketReading, PausedSocketLeavesBytesInTheKernelUntilResumed) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Loop loop;
  std::string received;
  auto* socket = new Collector(loop, fds[0], received);
  socket->setReading(false);
  EXPECT_FALSE(socket->isReading());
  ASSERT_EQ(::write(fds[1], "later", 5), 5);
  test::runFor(loop, 30);
  EXPECT_EQ(received, "");
  socket->write("still writes");  // writing (and EPOLLOUT interest) is not affected
  loop.runOnce(0);
  char buffer[32];
  EXPECT_EQ(::recv(fds[1], buffer, sizeof buffer, MSG_DONTWAIT), 12);
  socket->setReading(true);
  EXPECT_TRUE(test::runUntil(loop, [&] { return received == "later"; }));
  ::close(fds[1]);
}

}  // namespace
}  // namespace duplex::net
