#pragma once
// A listening TCP socket that accepts in batches and hands each new connection's fd to a
// callback. When the process runs out of descriptors (EMFILE/ENFILE) it stops accepting for a
// moment instead of spinning on a readable listener it cannot serve, and resumes by itself.
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "net/loop.h"
#include "net/pollable.h"

namespace duplex::net {

class Listener final : public Pollable {
 public:
  using AcceptHandler = std::function<void(int fd)>;

  // Binds and listens (SO_REUSEADDR; port 0 picks a free port). Throws std::system_error or
  // std::runtime_error with a message naming the address when it cannot. `reusePort` sets
  // SO_REUSEPORT, so that one listener per loop can share the port and the kernel spreads
  // connections over them.
  Listener(Loop& loop, std::string_view host, uint16_t port, AcceptHandler onAccept,
           int backlog = 4096, bool reusePort = false);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const;
  // Stops listening (shutdown); the fd is closed.
  void close();

  void onEvents(uint32_t events) override;
  // A connection arrived (from accept4, or io_uring's multishot accept).
  void accepted(int fd);
  // accept failed with `error`: true when accepting should stop for now (EAGAIN, or pausing
  // after EMFILE/ENFILE), false when the next one may be tried at once.
  bool acceptFailed(int error);

  // How long accepting pauses after EMFILE/ENFILE.
  static constexpr uint64_t kBackoffMs = 100;

 private:
  void pause();

  Loop& loop_;
  int fd_ = -1;
  uint16_t port_ = 0;
  bool paused_ = false;
  Loop::TimerId resumeTimer_ = 0;
  AcceptHandler onAccept_;
};

}  // namespace duplex::net
