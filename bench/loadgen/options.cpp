#include "options.h"

#include <cstdlib>
#include <string_view>

#include "payload.h"

namespace bench {
namespace {

bool toNumber(std::string_view text, double& out) {
  std::string s(text);
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && out >= 0;
}

}  // namespace

const char* usage() {
  return "usage: duplex-loadgen --port P [--host 127.0.0.1] [--path /] [--server-pid PID]\n"
         "  --scenario echo|fanout|connect|idle   (echo)\n"
         "  --connections N    echo: connections (100); idle: connections held; connect: "
         "handshakes at once\n"
         "  --in-flight W      echo: messages in flight per connection; fanout: publishes (1)\n"
         "  --bytes B          payload size, >= 16 (20)\n"
         "  --binary | --text  message type (text)\n"
         "  --payload letters|json   filler: a..z cycling, or JSON-like records (letters)\n"
         "  --deflate          offer permessage-deflate, no context takeover; the run fails if\n"
         "                     the server declines\n"
         "  --deflate-takeover the same with context takeover both ways\n"
         "  --subscribers S    fanout subscribers (1000)\n"
         "  --duration S --warmup S --hold S --timeout S   seconds (3, 0.5, 1, 60)\n"
         "  --parallel-handshakes N   (64)\n"
         "Prints one JSON object on stdout; exits 1 if anything received was wrong.\n";
}

bool parseOptions(int argc, char** argv, Options& o, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--binary") {
      o.binary = true;
      continue;
    }
    if (flag == "--text") {
      o.binary = false;
      continue;
    }
    if (flag == "--deflate" || flag == "--deflate-takeover") {
      o.deflate = true;
      o.deflateTakeover = flag == "--deflate-takeover";
      continue;
    }
    if (i + 1 >= argc) {
      error = "missing value for " + std::string(flag);
      return false;
    }
    const std::string_view value = argv[++i];
    double n = 0;
    const bool numeric = toNumber(value, n);
    auto needNumber = [&]() {
      if (!numeric) error = "bad value for " + std::string(flag) + ": " + std::string(value);
      return numeric;
    };
    if (flag == "--scenario") {
      o.scenario = value;
    } else if (flag == "--host") {
      o.host = value;
    } else if (flag == "--payload") {
      o.payload = value;
      if (o.payload != "letters" && o.payload != "json") {
        error = "--payload is letters or json";
        return false;
      }
    } else if (flag == "--path") {
      o.path = value;
    } else if (flag == "--port") {
      if (!needNumber()) return false;
      o.port = static_cast<uint16_t>(n);
    } else if (flag == "--server-pid") {
      if (!needNumber()) return false;
      o.serverPid = static_cast<pid_t>(n);
    } else if (flag == "--connections") {
      if (!needNumber()) return false;
      o.connections = static_cast<uint32_t>(n);
    } else if (flag == "--in-flight") {
      if (!needNumber()) return false;
      o.inFlight = static_cast<uint32_t>(n);
    } else if (flag == "--bytes") {
      if (!needNumber()) return false;
      o.bytes = static_cast<size_t>(n);
    } else if (flag == "--subscribers") {
      if (!needNumber()) return false;
      o.subscribers = static_cast<uint32_t>(n);
    } else if (flag == "--duration") {
      if (!needNumber()) return false;
      o.duration = n;
    } else if (flag == "--warmup") {
      if (!needNumber()) return false;
      o.warmup = n;
    } else if (flag == "--hold") {
      if (!needNumber()) return false;
      o.hold = n;
    } else if (flag == "--timeout") {
      if (!needNumber()) return false;
      o.timeout = n;
    } else if (flag == "--parallel-handshakes") {
      if (!needNumber()) return false;
      o.parallelHandshakes = static_cast<uint32_t>(n);
    } else {
      error = "unknown flag " + std::string(flag);
      return false;
    }
  }
  if (o.port == 0) {
    error = "--port is required";
    return false;
  }
  if (o.bytes < minimumPayloadSize(o.payload)) {
    error = "--bytes must be at least " + std::to_string(minimumPayloadSize(o.payload)) +
            " for --payload " + o.payload + " (sender id and sequence number)";
    return false;
  }
  if (o.inFlight == 0 || o.connections == 0 || o.parallelHandshakes == 0) {
    error = "--in-flight, --connections and --parallel-handshakes must be positive";
    return false;
  }
  return true;
}

}  // namespace bench
