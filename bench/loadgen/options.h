#pragma once
// Command line of duplex-loadgen. Every knob has the default the issue names.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace bench {

struct Options {
  std::string scenario = "echo";  // echo | fanout | connect | idle
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string path = "/";
  pid_t serverPid = 0;  // read /proc/<pid> for the server's CPU time and memory

  uint32_t connections = 100;       // echo: C; idle: N; connect: handshakes in progress at once
  uint32_t inFlight = 1;            // echo: W per connection; fanout: publishes in flight
  size_t bytes = 20;                // payload size B (at least 16: sender id + sequence number)
  bool binary = false;              // text by default
  std::string payload = "letters";  // letters | json (see payload.h)
  bool deflate = false;             // offer permessage-deflate; fail if the server declines
  bool deflateTakeover = false;     // offer it with context takeover (RFC 7692's default)
  uint32_t subscribers = 1000;      // fanout: S

  double duration = 3.0;             // measured interval, seconds
  double warmup = 0.5;               // traffic before the interval, not counted
  double hold = 1.0;                 // idle: seconds the connections sit open before memory is read
  double timeout = 60.0;             // for setup and drain; a run that exceeds it fails
  uint32_t parallelHandshakes = 64;  // kept under every peer's listen backlog
};

// False with `error` set on an unknown flag or a bad value.
bool parseOptions(int argc, char** argv, Options& options, std::string& error);
const char* usage();

}  // namespace bench
