// duplex-echo: echoes every message, text or binary, on any path. The server that tests,
// benchmarks and conformance runs (Autobahn|Testsuite) talk to. With --broadcast, every message
// received on a path goes to every connection on that path instead, the sender included.
// With --cert and --key it serves wss:// instead of ws://, and reloads both files on SIGHUP.
// --no-cork and --no-shared-frames switch off one optimisation each, for the benchmark that
// measures what each buys (docs/performance.md); the defaults are the optimised server.
// --threads N runs N event loops (default: one per core), connections spread over them.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "pubsub/topics.h"
#include "server/app.h"
#include "server_cli.h"

namespace {

struct Options {
  duplex::cli::Endpoint endpoint{.port = 9001};
  uint64_t maxMessage = 16 << 20;  // Autobahn's 9.* cases send up to 16 MiB
  // The most --max-message-size takes: one message is held whole in memory.
  static constexpr uint64_t kMostMessage = uint64_t{1} << 30;
  uint32_t handshakeTimeout = 10;
  uint32_t idleTimeout = 0;
  size_t maxBackpressure = 64 << 20;
  bool broadcast = false;
  bool deflate = false;
  bool deflateTakeover = false;
  bool cork = true;
  bool sharedFrames = true;
  uint32_t threads = duplex::cli::availableCores();
  bool acceptOnEveryLoop = false;
  duplex::net::IoBackend backend = duplex::net::IoBackend::Default;
};

[[noreturn]] void usage() {
  std::printf(
      "duplex-echo: a WebSocket server that sends every message back to its sender, text or\n"
      "binary, on any path (with --broadcast: to every connection on the same path). The\n"
      "server that duplex's tests, benchmarks and Autobahn|Testsuite runs talk to.\n\n"
      "usage: duplex-echo [--host 127.0.0.1] [--port 9001]\n"
      "                   [--max-message-size BYTES (1 to 1073741824; default 16 MiB)]\n"
      "                   [--handshake-timeout S] [--idle-timeout S (0 = off)]\n"
      "                   [--max-backpressure BYTES] [--broadcast]\n"
      "                   [--cert FILE --key FILE (PEM: serve wss://, reload on SIGHUP)]\n"
      "                   [--deflate | --deflate-takeover] [--log-level debug|info|warn|error]\n"
      "                   [--log-format text|json]\n"
      "                   [--threads N (default: one per core it may run on)]\n"
      "                   [--io-uring | --epoll (default: $DUPLEX_IO_BACKEND, else epoll)]\n"
      "                   [--no-cork] [--no-shared-frames] [--accept-on-every-loop]\n"
      "                   (benchmark knobs: see docs/performance.md)\n"
      "                   [--version] [--help]\n");
  std::exit(0);
}

Options parse(int argc, char** argv) {
  using namespace duplex::cli;
  Options o;
  parseServerFlags(
      "duplex-echo", argc, argv,
      {
          textFlag("--host", o.endpoint.host),
          numberFlag("--port", o.endpoint.port),
          maxMessageSizeFlag("--max-message-size", o.maxMessage, Options::kMostMessage),
          // The older name, kept for scripts that use it.
          maxMessageSizeFlag("--max-message", o.maxMessage, Options::kMostMessage),
          numberFlag("--handshake-timeout", o.handshakeTimeout),
          numberFlag("--idle-timeout", o.idleTimeout),
          numberFlag("--max-backpressure", o.maxBackpressure),
          switchFlag("--broadcast", [&] { o.broadcast = true; }),
          textFlag("--cert", o.endpoint.certFile),
          textFlag("--key", o.endpoint.keyFile),
          switchFlag("--deflate", [&] { o.deflate = true; }),
          switchFlag("--deflate-takeover", [&] { o.deflate = o.deflateTakeover = true; }),
          switchFlag("--no-cork", [&] { o.cork = false; }),
          switchFlag("--no-shared-frames", [&] { o.sharedFrames = false; }),
          numberFlag("--threads", o.threads),
          switchFlag("--accept-on-every-loop", [&] { o.acceptOnEveryLoop = true; }),
          ioUringFlag(o.backend),
          epollFlag(o.backend),
          logLevelFlag(),
          logFormatFlag(),
          switchFlag("--help", usage),
          switchFlag("-h", usage),
          versionFlag("duplex-echo"),
      },
      o.endpoint);
  if (o.threads == 0 || o.threads > 1024) {
    refuseCommandLine("duplex-echo", "--threads must be between 1 and 1024");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  try {
    duplex::AppOptions appOptions;
    appOptions.handshakeTimeoutSeconds = options.handshakeTimeout;
    appOptions.cork = options.cork;
    appOptions.threads = options.threads;
    appOptions.acceptOnEveryLoop = options.acceptOnEveryLoop;
    appOptions.backend = options.backend;
    duplex::App app(appOptions);
    // --broadcast: one topic per path; each message is framed once for all its subscribers
    // (and compressed once for those without context takeover) on each loop, and reaches the
    // other loops in one hand-off per loop per iteration.
    duplex::pubsub::TopicsOptions topicsOptions;
    topicsOptions.shareFrames = options.sharedFrames;
    duplex::pubsub::Topics topics(app.loops(), std::move(topicsOptions));

    duplex::WebSocketBehavior behavior;
    behavior.maxMessageSize = options.maxMessage;
    behavior.maxBackpressure = options.maxBackpressure;
    behavior.idleTimeoutSeconds = options.idleTimeout;
    // Off unless asked: benchmarks and conformance runs compare uncompressed unless they say so.
    // --deflate-takeover lets clients keep context (RFC 7692's default; Autobahn 12.*/13.*).
    behavior.compression.enabled = options.deflate;
    behavior.compression.serverNoContextTakeover = !options.deflateTakeover;
    behavior.compression.clientNoContextTakeover = !options.deflateTakeover;
    if (options.broadcast) {
      behavior.open = [&](duplex::WebSocket& ws, const duplex::Request& request) {
        ws.data() = std::string(request.path());
        topics.subscribe(ws, request.path());
      };
      behavior.message = [&](duplex::WebSocket& ws, std::string_view data, duplex::Opcode op) {
        topics.publish(ws.data<std::string>(), data, op);
      };
    } else {
      behavior.message = [](duplex::WebSocket& ws, std::string_view data, duplex::Opcode op) {
        ws.send(data, op);
      };
    }
    app.ws("/*", std::move(behavior));
    const duplex::cli::Endpoint& endpoint = options.endpoint;
    duplex::cli::listen(app, endpoint);
    const bool tls = endpoint.tls();
    std::printf("duplex-echo listening on %s://%s:%u\n", tls ? "wss" : "ws", endpoint.host.c_str(),
                app.port());
    std::fflush(stdout);
    app.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "duplex-echo: %s\n", e.what());
    return 1;
  }
  return 0;
}
