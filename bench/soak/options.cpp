#include "options.h"

#include <cstdio>
#include <cstdlib>

#include "flags.h"

namespace soak {

const char* usage() {
  return "usage: duplex-soak --port P [--host 127.0.0.1] [--server-pid PID]\n"
         "  --connections N        held open (1000)\n"
         "  --seconds S            churn duration (30)\n"
         "  --seed N               random seed (1)\n"
         "  --sources N            source addresses 127.0.0.2.. (8)\n"
         "  --churn-rate R         churn events per second (200)\n"
         "  --message-rate R       echo checks per second (1000)\n"
         "  --broadcast            the server broadcasts per path: subscribers on /room\n"
         "  --subscribers N        (100)   --publish-rate R  publishes per second (20)\n"
         "  --handshake-timeout S  the server's; enables stalled handshakes (0)\n"
         "  --server-backpressure B  the server's --max-backpressure; enables overflow readers\n"
         "  --parallel-handshakes N (128)  --max-transient N (256)  --drain-timeout S (30)\n"
         "Prints one JSON object on stdout; exits 1 if anything went wrong.\n";
}

bool parseOptions(int argc, char** argv, Options& o, std::string& error) {
  if (!duplex::cli::parseFlags(
          argc, argv,
          {
              duplex::cli::switchFlag("--help",
                                      [] {
                                        std::fputs(usage(), stdout);
                                        std::exit(0);
                                      }),
              duplex::cli::versionFlag("duplex-soak"),
              duplex::cli::switchFlag("--broadcast", [&] { o.broadcast = true; }),
              duplex::cli::textFlag("--host", o.host),
              duplex::cli::numberFlag("--port", o.port),
              duplex::cli::numberFlag("--server-pid", o.serverPid),
              duplex::cli::numberFlag("--connections", o.connections),
              duplex::cli::numberFlag("--seconds", o.seconds),
              duplex::cli::numberFlag("--seed", o.seed),
              duplex::cli::numberFlag("--sources", o.sources),
              duplex::cli::numberFlag("--churn-rate", o.churnRate),
              duplex::cli::numberFlag("--message-rate", o.messageRate),
              duplex::cli::numberFlag("--subscribers", o.subscribers),
              duplex::cli::numberFlag("--publish-rate", o.publishRate),
              duplex::cli::numberFlag("--handshake-timeout", o.handshakeTimeout),
              duplex::cli::numberFlag("--server-backpressure", o.serverBackpressure),
              duplex::cli::numberFlag("--parallel-handshakes", o.parallelHandshakes),
              duplex::cli::numberFlag("--max-transient", o.maxTransient),
              duplex::cli::numberFlag("--drain-timeout", o.drainTimeout),
          },
          error)) {
    return false;
  }
  if (o.port == 0) {
    error = "--port is required";
    return false;
  }
  if (o.sources == 0 || o.sources > 250) {
    error = "--sources must be 1..250";
    return false;
  }
  if (o.broadcast && o.subscribers + 1 >= o.connections) {
    error = "--connections must exceed --subscribers + 1";
    return false;
  }
  if (o.parallelHandshakes == 0) o.parallelHandshakes = 1;
  return true;
}

}  // namespace soak
