// Listener: port 0, address(), accepted sockets' options, close(), and the EMFILE backoff.
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "net/listener.h"
#include "net/loop.h"
#include "net_test_util.h"

// Counts accept4 calls: the one observable sign of a listener spinning on a connection it cannot
// accept. The definition in the test binary takes precedence over libc's (and ASan's) for the
// statically linked duplex_net; the real one is the next in the lookup order.
namespace {
int gAcceptCalls = 0;
}

extern "C" int accept4(int fd, sockaddr* address, socklen_t* length, int flags) {
  using Accept4 = int (*)(int, sockaddr*, socklen_t*, int);
  static Accept4 real = reinterpret_cast<Accept4>(dlsym(RTLD_NEXT, "accept4"));
  ++gAcceptCalls;
  return real(fd, address, length, flags);
}

namespace duplex::net {
namespace {

using test::runUntil;

TEST(Listener, PortZeroPicksAFreePortAndAddressNamesIt) {
  Loop loop;
  Listener listener(loop, "127.0.0.1", 0, [](int fd) { ::close(fd); });
  EXPECT_NE(listener.port(), 0);
  EXPECT_EQ(listener.address(), "127.0.0.1:" + std::to_string(listener.port()));
}

TEST(Listener, Ipv6LiteralInBracketsOrNot) {
  Loop loop;
  for (const char* host : {"::1", "[::1]"}) {
    try {
      Listener listener(loop, host, 0, [](int fd) { ::close(fd); });
      EXPECT_EQ(listener.address(), "[::1]:" + std::to_string(listener.port())) << host;
    } catch (const std::system_error& e) {
      GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
    }
  }
}

TEST(Listener, BusyPortThrowsNamingTheAddress) {
  Loop loop;
  Listener first(loop, "127.0.0.1", 0, [](int fd) { ::close(fd); });
  try {
    Listener second(loop, "127.0.0.1", first.port(), [](int fd) { ::close(fd); });
    FAIL() << "a second listener on the same port";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EADDRINUSE);
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())),
              std::string::npos)
        << e.what();
  }
}

TEST(Listener, AcceptedSocketsAreNonBlockingWithNoDelay) {
  Loop loop;
  std::vector<int> accepted;
  Listener listener(loop, "127.0.0.1", 0, [&](int fd) { accepted.push_back(fd); });
  int clients[3];
  for (int& c : clients) c = test::connectTcp(listener.port());
  ASSERT_TRUE(runUntil(loop, [&] { return accepted.size() == 3; }));
  for (int fd : accepted) {
    EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
    EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    int noDelay = 0;
    socklen_t length = sizeof noDelay;
    getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &noDelay, &length);
    EXPECT_NE(noDelay, 0);
    ::close(fd);
  }
  for (int c : clients) ::close(c);
}

TEST(Listener, CloseStopsListening) {
  Loop loop;
  int accepted = 0;
  Listener listener(loop, "127.0.0.1", 0, [&](int fd) {
    ++accepted;
    ::close(fd);
  });
  uint16_t port = listener.port();
  listener.close();
  EXPECT_EQ(listener.address(), "");
  int fd = test::connectTcp(port);
  EXPECT_LT(fd, 0);
  EXPECT_EQ(errno, ECONNREFUSED);
  if (fd >= 0) ::close(fd);
  listener.close();  // twice is harmless
  test::runFor(loop, 10);
  EXPECT_EQ(accepted, 0);
}

// Lowers RLIMIT_NOFILE for one test and restores it whatever happens.
class FdLimit {
 public:
  explicit FdLimit(rlim_t soft) {
    getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit lowered = saved_;
    lowered.rlim_cur = soft;
    ok_ = setrlimit(RLIMIT_NOFILE, &lowered) == 0;
  }
  ~FdLimit() { setrlimit(RLIMIT_NOFILE, &saved_); }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

int highestOpenFd() {
  int highest = 2;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* entry = readdir(dir)) highest = std::max(highest, std::atoi(entry->d_name));
    closedir(dir);
  }
  return highest;
}

TEST(Listener, BacksOffOnEmfileInsteadOfSpinningAndResumes) {
#ifdef __SANITIZE_ADDRESS__
  // The sanitizer runtime needs descriptors of its own (UBSan's vptr check probes memory through
  // a pipe) and reports false "invalid vptr" errors in a process with none left. The release
  // build runs this test; tests/reliability runs duplex-echo out of descriptors end to end.
  GTEST_SKIP() << "needs free file descriptors for the sanitizer runtime";
#endif
  Loop loop;
  std::vector<int> accepted;
  // Client sockets exist before the table fills; connecting needs no new descriptor.
  int clients[2] = {::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0),
                    ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  ASSERT_GE(clients[0], 0);
  ASSERT_GE(clients[1], 0);

  std::vector<int> fillers;
  {
    FdLimit limit(static_cast<rlim_t>(highestOpenFd() + 8));
    ASSERT_TRUE(limit.ok());
    // Made under the lowered limit: io_uring's multishot accept takes the limit in force when
    // it is armed (as a process would see it from the start).
    Listener listener(loop, "127.0.0.1", 0, [&](int fd) { accepted.push_back(fd); });
    for (;;) {
      int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        ASSERT_EQ(errno, EMFILE);
        break;
      }
      fillers.push_back(fd);
    }
    ASSERT_FALSE(fillers.empty());
    for (int c : clients) {
      sockaddr_in address = test::loopbackAddress(listener.port());
      ASSERT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    }

    // A level-triggered listener that cannot accept is readable on every epoll_wait: count the
    // attempts over a window of half a second (the backoff is 100 ms: about five).
    gAcceptCalls = 0;
    test::runFor(loop, 500);
    EXPECT_TRUE(accepted.empty());
    // io_uring's multishot accept makes no accept4 call to count (its failures end the
    // request, and the listener pauses the same way before arming it again).
    if (loop.backend() == IoBackend::Epoll) {
      EXPECT_GE(gAcceptCalls, 1) << "the listener never even tried";
      EXPECT_LE(gAcceptCalls, 20) << "the listener spins on EMFILE";
    }

    // Descriptors come back: both pending connections are accepted without outside help.
    for (size_t i = 0; i < 4 && i < fillers.size(); ++i) ::close(fillers[i]);
    fillers.erase(fillers.begin(), fillers.begin() + std::min<std::ptrdiff_t>(4, fillers.size()));
    EXPECT_TRUE(runUntil(
        loop, [&] { return accepted.size() == 2; }, 3000));
    for (int fd : fillers) ::close(fd);
    fillers.clear();
  }
  for (int fd : accepted) ::close(fd);
  for (int c : clients) ::close(c);
}

}  // namespace
}  // namespace duplex::net
