// The choice of backend (net/io_backend.h): explicit, from DUPLEX_IO_BACKEND, and the fallback to
// epoll when the kernel refuses io_uring (here: a seccomp filter that answers io_uring_setup
// with ENOSYS, as a container runtime's default profile does).
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <string>

#include "net/io_backend.h"
#include "net/loop.h"
#include "net_test_util.h"

namespace duplex::net {
namespace {

TEST(IoBackendChoice, ExplicitChoicesWinOverTheEnvironment) {
  // The suite may itself run on io_uring through the variable: put it back afterwards.
  const char* outer = std::getenv("DUPLEX_IO_BACKEND");
  std::string saved = outer ? outer : "";
  setenv("DUPLEX_IO_BACKEND", "io_uring", 1);
  EXPECT_EQ(resolveBackend(IoBackend::Epoll), IoBackend::Epoll);
  EXPECT_EQ(resolveBackend(IoBackend::Default), IoBackend::IoUring);
  setenv("DUPLEX_IO_BACKEND", "epoll", 1);
  EXPECT_EQ(resolveBackend(IoBackend::IoUring), IoBackend::IoUring);
  EXPECT_EQ(resolveBackend(IoBackend::Default), IoBackend::Epoll);
  unsetenv("DUPLEX_IO_BACKEND");
  EXPECT_EQ(resolveBackend(IoBackend::Default), IoBackend::Epoll);
  EXPECT_EQ(parseBackend("io-uring"), IoBackend::IoUring);
  EXPECT_FALSE(parseBackend("kqueue").has_value());
  if (outer) setenv("DUPLEX_IO_BACKEND", saved.c_str(), 1);
}

TEST(IoBackendChoice, EpollLoopIsEpoll) {
  Loop loop(IoBackend::Epoll);
  EXPECT_EQ(loop.backend(), IoBackend::Epoll);
}

// Runs `body` in a child process whose io_uring_setup fails with ENOSYS; returns its exit code.
int withoutIoUring(void (*body)()) {
  pid_t pid = fork();
  if (pid == 0) {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
      _exit(3);
    body();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(IoBackendChoice, RefusedIoUringFallsBackToEpollAndSaysSoOnce) {
  // The child's stderr goes to a pipe so that the warnings can be counted.
  int pipeFds[2];
  ASSERT_EQ(pipe(pipeFds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipeFds[1], 2);
    int code = withoutIoUring([] {
      Loop first(IoBackend::IoUring);
      Loop second(IoBackend::IoUring);
      if (first.backend() != IoBackend::Epoll || second.backend() != IoBackend::Epoll) _exit(1);
      // The fallback loop works: a timer fires.
      bool fired = false;
      first.setTimeout(1, [&] {
        fired = true;
        first.stop();
      });
      first.run();
      if (!fired) _exit(2);
    });
    _exit(code);
  }
  close(pipeFds[1]);
  std::string output;
  char buffer[4096];
  for (ssize_t n; (n = read(pipeFds[0], buffer, sizeof buffer)) > 0;) output.append(buffer, n);
  close(pipeFds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << output;
  size_t first = output.find("io_uring unavailable");
  ASSERT_NE(first, std::string::npos) << output;
  EXPECT_EQ(output.find("io_uring unavailable", first + 1), std::string::npos) << output;
}

TEST(IoBackendChoice, IoUringLoopRunsOnIoUringWhereTheKernelAllowsIt) {
  Loop loop(IoBackend::IoUring);
  if (loop.backend() != IoBackend::IoUring) GTEST_SKIP() << "this kernel refuses io_uring";
  bool fired = false;
  loop.setTimeout(1, [&] { fired = true; });
  test::runUntil(loop, [&] { return fired; });
  EXPECT_TRUE(fired);
}

}  // namespace
}  // namespace duplex::net
