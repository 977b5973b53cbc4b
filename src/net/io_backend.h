#pragma once
// Which kernel interface a Loop waits and does its socket I/O with. Both give sockets the same
// behaviour (corking, backpressure, graceful close); they differ in syscalls per message.
#include <cstdint>
#include <optional>
#include <string_view>

namespace duplex::net {

enum class IoBackend : uint8_t {
  // DUPLEX_IO_BACKEND from the environment ("io_uring" or "epoll"), else epoll: lets a test
  // suite run on either backend without code changes (as libuv's UV_USE_IO_URING does).
  Default,
  Epoll,
  // io_uring (liburing): multishot accept and receive into a provided buffer ring, one
  // submission per iteration for all its sends. Falls back to epoll, logged once per process,
  // when the kernel refuses it (too old, seccomp, the io_uring_disabled sysctl).
  IoUring,
};

std::string_view backendName(IoBackend backend);
// "io_uring"/"io-uring"/"uring" or "epoll"; nothing for anything else.
std::optional<IoBackend> parseBackend(std::string_view text);
// Default resolved through DUPLEX_IO_BACKEND (an unknown value is logged once and means epoll).
IoBackend resolveBackend(IoBackend requested);

}  // namespace duplex::net
