#include "options.h"

#include <cstdlib>
#include <string_view>

namespace soak {
namespace {

bool toNumber(std::string_view text, double& out) {
  std::string s(text);
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && out >= 0;
}

}  // namespace

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
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--broadcast") {
      o.broadcast = true;
      continue;
    }
    if (i + 1 >= argc) {
      error = "missing value for " + std::string(flag);
      return false;
    }
    const std::string_view value = argv[++i];
    if (flag == "--host") {
      o.host = value;
      continue;
    }
    double n = 0;
    if (!toNumber(value, n)) {
      error = "bad value for " + std::string(flag) + ": " + std::string(value);
      return false;
    }
    if (flag == "--port") {
      o.port = static_cast<uint16_t>(n);
    } else if (flag == "--server-pid") {
      o.serverPid = static_cast<pid_t>(n);
    } else if (flag == "--connections") {
      o.connections = static_cast<uint32_t>(n);
    } else if (flag == "--seconds") {
      o.seconds = n;
    } else if (flag == "--seed") {
      o.seed = static_cast<uint64_t>(n);
    } else if (flag == "--sources") {
      o.sources = static_cast<uint32_t>(n);
    } else if (flag == "--churn-rate") {
      o.churnRate = n;
    } else if (flag == "--message-rate") {
      o.messageRate = n;
    } else if (flag == "--subscribers") {
      o.subscribers = static_cast<uint32_t>(n);
    } else if (flag == "--publish-rate") {
      o.publishRate = n;
    } else if (flag == "--handshake-timeout") {
      o.handshakeTimeout = static_cast<uint32_t>(n);
    } else if (flag == "--server-backpressure") {
      o.serverBackpressure = static_cast<size_t>(n);
    } else if (flag == "--parallel-handshakes") {
      o.parallelHandshakes = static_cast<uint32_t>(n);
    } else if (flag == "--max-transient") {
      o.maxTransient = static_cast<uint32_t>(n);
    } else if (flag == "--drain-timeout") {
      o.drainTimeout = n;
    } else {
      error = "unknown flag " + std::string(flag);
      return false;
    }
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
