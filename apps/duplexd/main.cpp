// duplexd: the tomato demo server. Serves the page (web/), the hub (/connection,
// docs/protocol.md) with a `demo` namespace for the page's throws, and the older plain-WebSocket
// endpoint (/ws, docs/demo-protocol.md), on one port. Every throw is stored in SQLite before it
// is broadcast, and a page that (re)connects gets the history first. See README.md.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hub/channel_store.h"
#include "hub/history_store.h"
#include "hub/hub.h"
#include "hub/in_process_engine.h"
#include "metrics.h"
#include "pubsub/topics.h"
#include "server/app.h"
#include "server_cli.h"
#include "throw_room.h"
#include "throw_rules.h"

#ifndef DUPLEX_WEB_DIR
#define DUPLEX_WEB_DIR "web"
#endif

namespace {

struct Options {
  duplex::cli::Endpoint endpoint{.port = 8080};
  std::string dataDir = "data";
  std::string webDir = DUPLEX_WEB_DIR;
  uint64_t historySize = 10'000;
  uint64_t historyMaxBytes = 0;
  double rate = 10;
  double burst = 20;
  bool quiet = false;
  bool deflate = true;
  uint32_t maxConnections = 0;
  uint32_t maxConnectionsPerIp = 0;
  std::string hubConfig;  // JSON file with the hub's namespaces
  std::vector<std::string> allowedOrigins;
};

// Namespaces when no --hub-config is given: a public one with history, recovery and presence,
// and a private one that needs a token granting the channel. The page's `demo` namespace is
// added from the command line (demoNamespace).
constexpr std::string_view kDefaultHubConfig = R"({"namespaces": {
  "talk": {"history_size": 1000, "history_ttl_seconds": 86400, "presence": true},
  "private": {"history_size": 100, "anonymous": false, "grant_required": true}
}})";

// The tomato page's throws (channel demo:throws): anyone may throw, throws are small, kept and
// rate limited as the flags say, and checked by throwValidator().
duplex::hub::NamespaceOptions demoNamespace(const Options& o) {
  duplex::hub::NamespaceOptions demo;
  demo.historySize = o.historySize;
  demo.publish = duplex::hub::PublishFrom::Clients;
  demo.anonymous = true;
  demo.maxDataBytes = 1024;
  demo.publishRate = o.rate;
  demo.publishBurst = o.burst;
  demo.presence = false;
  return demo;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string fromEnvironment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

[[noreturn]] void usage(int status) {
  std::fprintf(
      status ? stderr : stdout,
      "usage: duplexd [options]\n"
      "  --host ADDR        address to listen on (default 127.0.0.1)\n"
      "  --port N           port (default 8080; 0 picks a free one)\n"
      "  --data DIR         where history.db lives (default ./data)\n"
      "  --web DIR          the demo page's files (default: the source tree's web/)\n"
      "  --history N        throws kept in history: demo:* channels and /ws (default 10000)\n"
      "  --history-max-bytes N  cap on /ws's history file; a full file answers throws\n"
      "                     with \"unavailable\" until trimming frees room (0: none)\n"
      "  --rate N           throws per second per connection, on demo:* and /ws (default 10)\n"
      "  --burst N          throws allowed in a burst (default 20)\n"
      "  --cert FILE --key FILE  serve https:// and wss:// (PEM; reloaded on SIGHUP)\n"
      "  --no-deflate       refuse permessage-deflate (on by default)\n"
      "  --max-connections N         503 beyond N open connections (0: no limit)\n"
      "  --max-connections-per-ip N  503 beyond N from one address (0: no limit)\n"
      "  --hub-config FILE  the hub's namespaces (JSON, docs/protocol.md); default: talk:*\n"
      "                     (public, history, presence), private:* (granted only) and\n"
      "                     demo:* (the page's throws: --history, --rate, --burst). A\n"
      "                     `demo` namespace in FILE gets the throw rules too\n"
      "  --allow-origin O   browsers may connect from origin O (repeatable; default any)\n"
      "  environment: DUPLEX_TOKEN_SECRET (HS256 key for tokens), DUPLEX_API_KEY\n"
      "               (X-API-Key of /api/*); secrets stay out of the process list\n"
      "  --log-level L      debug, info, warn (default), error or off\n"
      "  --quiet            no startup line on stderr\n");
  std::exit(status);
}

Options parse(int argc, char** argv) {
  using namespace duplex::cli;
  Options o;
  parseServerFlags("duplexd", argc, argv,
                   {
                       textFlag("--host", o.endpoint.host),
                       numberFlag("--port", o.endpoint.port),
                       textFlag("--data", o.dataDir),
                       textFlag("--web", o.webDir),
                       numberFlag("--history", o.historySize),
                       numberFlag("--history-max-bytes", o.historyMaxBytes),
                       numberFlag("--rate", o.rate),
                       numberFlag("--burst", o.burst),
                       switchFlag("--quiet", [&] { o.quiet = true; }),
                       switchFlag("--no-deflate", [&] { o.deflate = false; }),
                       textFlag("--cert", o.endpoint.certFile),
                       textFlag("--key", o.endpoint.keyFile),
                       textFlag("--hub-config", o.hubConfig),
                       checkedTextFlag("--allow-origin",
                                       [&](std::string_view origin) {
                                         o.allowedOrigins.emplace_back(origin);
                                         return true;
                                       }),
                       numberFlag("--max-connections", o.maxConnections),
                       numberFlag("--max-connections-per-ip", o.maxConnectionsPerIp),
                       logLevelFlag(),
                       switchFlag("--help", [] { usage(0); }),
                       switchFlag("-h", [] { usage(0); }),
                   },
                   o.endpoint, usage);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  try {
    std::filesystem::create_directories(options.dataDir);
    duplex::hub::HistoryOptions historyOptions;
    historyOptions.maxItems = options.historySize;
    historyOptions.maxFileBytes = options.historyMaxBytes;
    auto opened = duplex::hub::HistoryStore::open(options.dataDir + "/history.db", historyOptions);
    if (!opened.ok()) {
      std::fprintf(stderr, "duplexd: %s\n", opened.error().message.c_str());
      return 1;
    }
    duplex::hub::HistoryStore& store = *opened.value();

    duplex::AppOptions appOptions;
    appOptions.maxConnections = options.maxConnections;
    appOptions.maxConnectionsPerIp = options.maxConnectionsPerIp;
    duplex::App app(appOptions);
    duplex::pubsub::Topics topics(app.loop());
    duplexd::RoomOptions roomOptions;
    roomOptions.throwsPerSecond = options.rate;
    roomOptions.burst = options.burst;
    duplexd::ThrowRoom room(app.loop(), topics, store, roomOptions);

    duplex::WebSocketBehavior behavior;
    behavior.maxMessageSize = 64 * 1024;
    behavior.compression.enabled = options.deflate;
    behavior.open = [&](duplex::WebSocket& ws, const duplex::Request& request) {
      auto since = request.queryParam("since");
      room.join(ws, since ? std::strtoull(since->c_str(), nullptr, 10) : 0);
    };
    behavior.message = [&](duplex::WebSocket& ws, std::string_view data, duplex::Opcode op) {
      room.message(ws, data, op);
    };
    behavior.close = [&](duplex::WebSocket& ws, uint16_t, std::string_view) { room.leave(ws); };
    app.ws("/ws", std::move(behavior));
    // The hub (docs/protocol.md): channels with acknowledgements, recovery, presence, auth.
    auto channels = duplex::hub::ChannelStore::open(options.dataDir + "/channels.db");
    if (!channels.ok()) {
      std::fprintf(stderr, "duplexd: %s\n", channels.error().message.c_str());
      return 1;
    }
    auto namespaces = duplex::hub::Namespaces::fromJson(
        options.hubConfig.empty() ? std::string(kDefaultHubConfig) : readFile(options.hubConfig));
    if (!namespaces.ok()) {
      std::fprintf(stderr, "duplexd: hub config: %s\n", namespaces.error().message.c_str());
      return 1;
    }
    duplex::hub::HubOptions hubOptions;
    hubOptions.namespaces = std::move(namespaces.value());
    if (options.hubConfig.empty()) hubOptions.namespaces.add("demo", demoNamespace(options));
    // Wherever `demo` comes from, what is published there is a throw (throw_rules.h).
    hubOptions.validators.emplace("demo", duplexd::throwValidator());
    hubOptions.tokenSecret = fromEnvironment("DUPLEX_TOKEN_SECRET");
    hubOptions.apiKey = fromEnvironment("DUPLEX_API_KEY");
    hubOptions.allowedOrigins = options.allowedOrigins;
    // The in-process engine: channels.db on its storage thread, fan-out through `topics`.
    duplex::hub::InProcessEngineOptions engineOptions;
    // Test hook (tests/hubd): every commit first waits this long, as on a stalled disk.
    engineOptions.storage.commitDelayMs = static_cast<uint32_t>(
        std::strtoul(fromEnvironment("DUPLEXD_TEST_COMMIT_DELAY_MS").c_str(), nullptr, 10));
    duplex::hub::InProcessEngine engine(*channels.value(), engineOptions);
    engine.addLoop(app.loop(), topics);
    duplex::hub::Hub hub(app.loop(), engine, std::move(hubOptions));
    app.ws("/connection", hub.behavior());
    hub.addApiRoutes(app);

    app.get("/healthz", [](const duplex::Request&, duplex::HttpResponse& response) {
      response.header("Content-Type", "text/plain; charset=utf-8");
      response.body = "ok\n";
    });
    app.get("/metrics", [&](const duplex::Request&, duplex::HttpResponse& response) {
      response.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      response.body = duplexd::renderMetrics(app, topics, room, store);
    });
    app.get("/*", duplex::files(options.webDir));

    const duplex::cli::Endpoint& endpoint = options.endpoint;
    duplex::cli::listen(app, endpoint);
    const bool tls = endpoint.tls();
    // One line that says both: tests and scripts read the ws:// part.
    std::printf("duplexd listening on %s://%s:%u/ws and %s://%s:%u/\n", tls ? "wss" : "ws",
                endpoint.host.c_str(), app.port(), tls ? "https" : "http", endpoint.host.c_str(),
                app.port());
    std::fflush(stdout);
    if (!options.quiet) {
      std::fprintf(stderr, "duplexd: open http://%s:%u and throw (history: %s/history.db)\n",
                   endpoint.host.c_str(), app.port(), options.dataDir.c_str());
    }
    app.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "duplexd: %s\n", e.what());
    return 1;
  }
  return 0;
}
