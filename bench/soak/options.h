#pragma once
// Command line of duplex-soak (docs/reliability.md has the long-run command).
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace soak {

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  pid_t serverPid = 0;  // sample the server's VmRSS and open fds from /proc while running

  uint32_t connections = 1000;  // held open (echo connections, subscribers and the publisher)
  double seconds = 30;          // churn for this long, then drain and close everything
  uint64_t seed = 1;            // every random choice comes from it
  uint32_t sources = 8;         // source addresses 127.0.0.2 .. 127.0.0.(1 + sources)
  double churnRate = 200;       // churn events per second (exponential inter-arrival times)
  double messageRate = 1000;    // echo checks per second over all held connections

  bool broadcast = false;      // the server runs --broadcast: subscribers come and go on /room
  uint32_t subscribers = 100;  // around this many on /room (echo connections use private paths)
  double publishRate = 20;     // publishes per second to /room

  // What the server was started with, so that the tool knows what to expect:
  uint32_t handshakeTimeout = 0;  // --handshake-timeout; 0: no stalled handshakes are left
  size_t serverBackpressure = 0;  // --max-backpressure; 0: no overflowing readers

  uint32_t parallelHandshakes = 128;  // kept under the listen backlog
  uint32_t maxTransient = 256;        // cut handshakes and overflow readers at once
  double drainTimeout = 30;           // seconds for the last replies and the close handshakes
};

bool parseOptions(int argc, char** argv, Options& options, std::string& error);
const char* usage();

}  // namespace soak
