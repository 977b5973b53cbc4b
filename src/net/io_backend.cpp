#include "net/io_backend.h"

#include <atomic>
#include <cstdlib>

#include "net/log.h"

namespace duplex::net {

std::string_view backendName(IoBackend backend) {
  switch (backend) {
    case IoBackend::Epoll:
      return "epoll";
    case IoBackend::IoUring:
      return "io_uring";
    case IoBackend::Default:
      break;
  }
  return "default";
}

std::optional<IoBackend> parseBackend(std::string_view text) {
  if (text == "io_uring" || text == "io-uring" || text == "uring") return IoBackend::IoUring;
  if (text == "epoll") return IoBackend::Epoll;
  return std::nullopt;
}

IoBackend resolveBackend(IoBackend requested) {
  if (requested != IoBackend::Default) return requested;
  const char* value = std::getenv("DUPLEX_IO_BACKEND");
  if (!value || !*value) return IoBackend::Epoll;
  if (auto parsed = parseBackend(value)) return *parsed;
  static std::atomic<bool> logged{false};
  if (!logged.exchange(true))
    DUPLEX_LOG(Warn, "DUPLEX_IO_BACKEND=%s is not io_uring or epoll: using epoll", value);
  return IoBackend::Epoll;
}

}  // namespace duplex::net
