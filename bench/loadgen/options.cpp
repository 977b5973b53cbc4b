#include "options.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "flags.h"
#include "payload.h"

namespace bench {

using duplex::cli::checkedTextFlag;
using duplex::cli::numberFlag;
using duplex::cli::parseFlags;
using duplex::cli::switchFlag;
using duplex::cli::textFlag;

const char* usage() {
  return "usage: duplex-loadgen --port P [--host 127.0.0.1] [--path /] [--server-pid PID]\n"
         "  --scenario echo|fanout|connect|idle   (echo)\n"
         "  --connections N    echo: connections (100); idle: connections held; connect: "
         "handshakes at once\n"
         "  --in-flight W      echo: messages in flight per connection; fanout: publishes (1)\n"
         "  --bytes B          payload size, >= 16 (letters) or 47 (json) (20)\n"
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
  auto deflate = [&o](bool takeover) {
    o.deflate = true;
    o.deflateTakeover = takeover;
  };
  if (!parseFlags(argc, argv,
                  {
                      switchFlag("--help",
                                 [] {
                                   std::fputs(usage(), stdout);
                                   std::exit(0);
                                 }),
                      duplex::cli::versionFlag("duplex-loadgen"),
                      switchFlag("--binary", [&] { o.binary = true; }),
                      switchFlag("--text", [&] { o.binary = false; }),
                      switchFlag("--deflate", [&] { deflate(false); }),
                      switchFlag("--deflate-takeover", [&] { deflate(true); }),
                      textFlag("--scenario", o.scenario),
                      textFlag("--host", o.host),
                      textFlag("--path", o.path),
                      checkedTextFlag("--payload",
                                      [&](std::string_view v) {
                                        o.payload = v;
                                        return v == "letters" || v == "json";
                                      }),
                      numberFlag("--port", o.port),
                      numberFlag("--server-pid", o.serverPid),
                      numberFlag("--connections", o.connections),
                      numberFlag("--in-flight", o.inFlight),
                      numberFlag("--bytes", o.bytes),
                      numberFlag("--subscribers", o.subscribers),
                      numberFlag("--duration", o.duration),
                      numberFlag("--warmup", o.warmup),
                      numberFlag("--hold", o.hold),
                      numberFlag("--timeout", o.timeout),
                      numberFlag("--parallel-handshakes", o.parallelHandshakes),
                  },
                  error)) {
    return false;
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
