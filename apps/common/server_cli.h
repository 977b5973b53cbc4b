#pragma once
// What the two servers (duplexd, duplex-echo) share on the command line beyond flags.h: the
// --log-level flag, the end of parsing (say in one line what was wrong, exit 2; --cert and
// --key only together), and listening with or without TLS from those flags. Apart from flags.h
// because the benchmark tools that share the flag parser do not link src/server.
#include <sched.h>

#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "flags.h"
#include "net/log.h"
#include "server/app.h"

namespace duplex::cli {

// --log-level debug|info|warn|error|off, set as soon as it is parsed so the rest of startup
// already logs at that level.
inline Flag logLevelFlag() {
  return checkedTextFlag("--log-level", [](std::string_view text) {
    log::Level level;
    if (!log::parseLevel(text, level)) return false;
    log::setLevel(level);
    return true;
  });
}

// The cores this process may run on (its affinity mask, which taskset and cgroups' cpusets
// narrow), not the machine's: the servers' default number of loops.
inline uint32_t availableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  int count = CPU_COUNT(&set);
  return count > 0 ? static_cast<uint32_t>(count) : 1;
}

// --log-format text|json (net/log.h).
inline Flag logFormatFlag() {
  return checkedTextFlag("--log-format", [](std::string_view text) {
    log::Format format;
    if (!log::parseFormat(text, format)) return false;
    log::setFormat(format);
    return true;
  });
}

// --io-uring / --epoll: the loops' kernel interface (net/io_backend.h). Neither: the
// DUPLEX_IO_BACKEND environment variable, else epoll. io_uring falls back to epoll, logged once,
// when the kernel refuses it.
inline Flag ioUringFlag(net::IoBackend& target) {
  return switchFlag("--io-uring", [&target] { target = net::IoBackend::IoUring; });
}
inline Flag epollFlag(net::IoBackend& target) {
  return switchFlag("--epoll", [&target] { target = net::IoBackend::Epoll; });
}

// --max-message-size BYTES (or another name for it): the largest message a WebSocket route takes;
// a larger one closes the connection with 1009. A whole number from 1 to `most`: anything else
// is refused at startup with an error naming that range, 0 included (there is no "unlimited": a
// peer could make us buffer any amount).
inline Flag maxMessageSizeFlag(std::string_view name, uint64_t& target, uint64_t most) {
  return {name,
          {},
          [&target, most](double n) {
            if (n < 1 || n > static_cast<double>(most) || n != std::floor(n)) return false;
            target = static_cast<uint64_t>(n);
            return true;
          },
          {},
          "a whole number of bytes from 1 to " + std::to_string(most)};
}

// Where a server listens: the address and, with a certificate and key (PEM), TLS.
struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string certFile;
  std::string keyFile;
  bool tls() const { return !certFile.empty(); }
};

// parseFlags, and on any error (or --cert without --key) refuseCommandLine, which exits.
inline void parseServerFlags(const char* program, int argc, char** argv,
                             std::initializer_list<Flag> flags, const Endpoint& endpoint) {
  std::string error;
  if (!parseFlags(argc, argv, flags, error)) refuseCommandLine(program, error);
  if (endpoint.certFile.empty() != endpoint.keyFile.empty()) {
    refuseCommandLine(program, "--cert and --key go together");
  }
}

// Listens on the endpoint; with TLS, SIGHUP reloads the certificate and key from their files.
inline void listen(App& app, const Endpoint& endpoint) {
  if (endpoint.tls()) {
    app.listen(endpoint.host, endpoint.port, {endpoint.certFile, endpoint.keyFile});
    app.reloadTlsOnSignal(SIGHUP);
  } else {
    app.listen(endpoint.host, endpoint.port);
  }
}

}  // namespace duplex::cli
