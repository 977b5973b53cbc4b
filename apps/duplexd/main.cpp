// duplexd: the messaging server and the tomato demo. Serves the page (web/) and the hub
// (/connection, docs/protocol.md) with a `demo` namespace for the page's throws, on one port.
// Every publication is stored in SQLite (data/channels.db) before it is broadcast, and a page
// that (re)connects gets the history first (docs/demo-protocol.md). See README.md.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "admin.h"
#include "check_config.h"
#include "connection_log.h"
#include "data_dir_lock.h"
#include "engine_flag.h"
#include "hub/channel_store.h"
#include "hub/hub.h"
#include "hub/in_process_engine.h"
#include "hub/redis_engine.h"
#include "pubsub/topics.h"
#include "server/app.h"
#include "server_cli.h"
#include "service_routes.h"
#include "throw_rules.h"
#include "token_command.h"
#include "web_dir.h"

namespace {

struct Options {
  duplex::cli::Endpoint endpoint{.port = 8080};
  std::string dataDir = "data";
  std::string webDir = duplex::apps::defaultWebDir();
  uint64_t historySize = 10'000;
  uint64_t historyMaxBytes = 0;
  double rate = 10;
  double burst = 20;
  bool quiet = false;
  bool deflate = true;
  // The hub protocol's command limit (docs/protocol.md) is also the most any route takes.
  uint64_t maxMessageSize = duplex::hub::kMaxCommandBytes;
  uint32_t maxConnections = 0;
  uint32_t maxConnectionsPerIp = 0;
  std::string hubConfig;  // JSON file with the hub's namespaces
  std::string adminPassword;
  std::vector<std::string> allowedOrigins;
  std::vector<std::string> engines;  // --engine redis://...: the Redis engine's shards
  // Event loops. 1 until the hub works across loops (issue #13's hub half); then the number of
  // cores, as duplex-echo's --threads.
  uint32_t threads = 1;
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

// What every WebSocket route of duplexd starts from: the one place where the flags set a route's
// limits, compression and who may connect, so that each flag reaches every route alike. A route
// adds its handlers (the hub's behavior() does so on a copy of this).
duplex::WebSocketBehavior webSocketRoute(const Options& o) {
  duplex::WebSocketBehavior route;
  route.maxMessageSize = o.maxMessageSize;
  route.compression.enabled = o.deflate;
  if (!o.allowedOrigins.empty()) {
    route.accept = [origins = o.allowedOrigins](const duplex::Request& request) {
      std::string_view origin = request.header("Origin");
      if (origin.empty()) return 0;  // not a browser: origins do not apply
      bool allowed = std::find(origins.begin(), origins.end(), origin) != origins.end();
      return allowed ? 0 : 403;
    };
  }
  return route;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path + ": " + duplexd::reasonOf(errno));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string fromEnvironment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

[[noreturn]] void usage() {
  std::printf(
      "duplexd: the duplex hub (channels over WebSocket at /connection, docs/protocol.md), its\n"
      "server API (/api/*) and the tomato demo page, on one port.\n\n"
      "usage: duplexd [options]\n"
      "       duplexd token --user ID [--secret S] [--ttl 1h] [--channels A,B]  (see --help)\n"
      "       duplexd check-config FILE   check a --hub-config file\n"
      "  --host ADDR        address to listen on (default 127.0.0.1)\n"
      "  --port N           port (default 8080; 0 picks a free one)\n"
      "  --data DIR         the stores (channels.db) and duplexd.lock (default ./data)\n"
      "  --web DIR          the demo page's files (default: <prefix>/share/duplex/web once\n"
      "                     installed, else the source tree's web/)\n"
      "  --history N        throws kept in history per demo:* channel (default 10000)\n"
      "  --history-max-bytes N  cap on channels.db; a full file answers publications\n"
      "                     with \"unavailable\" until trimming frees room (0: none)\n"
      "  --rate N           throws per second per connection on demo:* (default 10)\n"
      "  --burst N          throws allowed in a burst (default 20)\n"
      "  --cert FILE --key FILE  serve https:// and wss:// (PEM; reloaded on SIGHUP)\n"
      "  --no-deflate       refuse permessage-deflate on every route (on by default)\n"
      "  --max-message-size N  largest WebSocket message on every route, in bytes: 1 to\n"
      "                     65536 (the default; the hub protocol's limit); larger ones\n"
      "                     close the connection with 1009\n"
      "  --max-connections N         503 beyond N open connections (0: no limit)\n"
      "  --max-connections-per-ip N  503 beyond N from one address (0: no limit)\n"
      "  --hub-config FILE  the hub's namespaces (JSON, docs/protocol.md); default: talk:*\n"
      "                     (public, history, presence), private:* (granted only) and\n"
      "                     demo:* (the page's throws: --history, --rate, --burst). A\n"
      "                     `demo` namespace in FILE gets the throw rules too\n"
      "  --allow-origin O   browsers may connect to any WebSocket route from origin O\n"
      "                     only (repeatable; default any)\n"
      "  --admin-password P the admin page's (/admin) password; default: the API key.\n"
      "                     Better in DUPLEX_ADMIN_PASSWORD, out of the process list\n"
      "  environment: DUPLEX_TOKEN_SECRET (HS256 key for tokens), DUPLEX_API_KEY\n"
      "               (X-API-Key of /api/*); secrets stay out of the process list\n"
      "  --engine URL       share channels with other duplexd nodes through Redis:\n"
      "                     redis://[:PASSWORD@]HOST:PORT[/DB], rediss:// for TLS;\n"
      "                     repeat for shards (every node lists the same, in the same\n"
      "                     order; docs/scaling.md). Default: the embedded SQLite engine\n"
      "  --threads N        event loops (default 1; more need the hub across loops, to come)\n"
      "  --log-level L      debug, info, warn (default), error or off; info logs a line per\n"
      "                     request and WebSocket connection, and the shutdown\n"
      "  --log-format F     text (default) or json: one JSON object per line\n"
      "  --quiet            no startup line on stderr\n"
      "  --version          print the version\n");
  std::exit(0);
}

Options parse(int argc, char** argv) {
  using namespace duplex::cli;
  Options o;
  parseServerFlags(
      "duplexd", argc, argv,
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
          maxMessageSizeFlag("--max-message-size", o.maxMessageSize, duplex::hub::kMaxCommandBytes),
          textFlag("--cert", o.endpoint.certFile),
          textFlag("--key", o.endpoint.keyFile),
          textFlag("--hub-config", o.hubConfig),
          textFlag("--admin-password", o.adminPassword),
          checkedTextFlag("--allow-origin",
                          [&](std::string_view origin) {
                            o.allowedOrigins.emplace_back(origin);
                            return true;
                          }),
          numberFlag("--max-connections", o.maxConnections),
          numberFlag("--max-connections-per-ip", o.maxConnectionsPerIp),
          numberFlag("--threads", o.threads),
          checkedTextFlag("--engine",
                          [&](std::string_view url) {
                            o.engines.emplace_back(url);
                            return true;
                          }),
          logLevelFlag(),
          logFormatFlag(),
          switchFlag("--help", usage),
          switchFlag("-h", usage),
          versionFlag("duplexd"),
      },
      o.endpoint);
  // The hub keeps its state on one loop today: connections on other loops would race on it.
  // duplex-echo runs on every core already.
  if (o.threads != 1) {
    refuseCommandLine("duplexd", "--threads other than 1 needs the hub across loops (not yet)");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view command = argc > 1 ? argv[1] : "";
  if (command == "token") return duplexd::runTokenCommand(argc - 1, argv + 1);
  if (command == "check-config") return duplexd::runCheckConfig(argc - 1, argv + 1);
  Options options = parse(argc, argv);
  try {
    duplexd::DataDirLock lock;
    if (std::string error; !lock.acquire(options.dataDir, error)) {
      std::fprintf(stderr, "duplexd: %s\n", error.c_str());
      return 1;
    }
    duplex::AppOptions appOptions;
    appOptions.maxConnections = options.maxConnections;
    appOptions.maxConnectionsPerIp = options.maxConnectionsPerIp;
    appOptions.threads = options.threads;
    duplex::App app(appOptions);
    duplex::pubsub::Topics topics(app.loop());
    // The hub (docs/protocol.md): channels with acknowledgements, recovery, presence, auth.
    auto namespaces = duplexd::readHubConfig(
        options.hubConfig.empty() ? std::string(kDefaultHubConfig) : readFile(options.hubConfig));
    if (!namespaces.ok()) {
      std::fprintf(stderr, "duplexd: --hub-config %s: %s\n", options.hubConfig.c_str(),
                   namespaces.error().message.c_str());
      return 1;
    }
    duplex::hub::HubOptions hubOptions;
    hubOptions.namespaces = std::move(namespaces.value());
    if (options.hubConfig.empty()) hubOptions.namespaces.add("demo", demoNamespace(options));
    // Wherever `demo` comes from, what is published there is a throw (throw_rules.h).
    hubOptions.validators.emplace("demo", duplexd::throwValidator());
    hubOptions.tokenSecret = fromEnvironment("DUPLEX_TOKEN_SECRET");
    hubOptions.apiKey = fromEnvironment("DUPLEX_API_KEY");
    if (options.adminPassword.empty())
      options.adminPassword = fromEnvironment("DUPLEX_ADMIN_PASSWORD");
    hubOptions.adminPassword = options.adminPassword;
    const std::string adminSecret =
        options.adminPassword.empty() ? hubOptions.apiKey : options.adminPassword;
    // The engine: by default in-process (channels.db on its storage thread), or Redis shared
    // with other nodes (--engine). Fan-out through `topics` either way.
    std::unique_ptr<duplex::hub::ChannelStore> store;
    std::unique_ptr<duplex::hub::InProcessEngine> inProcess;
    std::unique_ptr<duplex::hub::RedisEngine> redis;
    if (options.engines.empty()) {
      duplex::hub::ChannelStoreOptions storeOptions;
      storeOptions.maxFileBytes = options.historyMaxBytes;
      auto channels =
          duplex::hub::ChannelStore::open(options.dataDir + "/channels.db", storeOptions);
      if (!channels.ok()) {
        std::fprintf(stderr, "duplexd: %s/channels.db: %s\n", options.dataDir.c_str(),
                     channels.error().message.c_str());
        return 1;
      }
      store = std::move(channels.value());
      duplex::hub::InProcessEngineOptions engineOptions;
      // Test hook (tests/hubd): every commit first waits this long, as on a stalled disk.
      engineOptions.storage.commitDelayMs = static_cast<uint32_t>(
          std::strtoul(fromEnvironment("DUPLEXD_TEST_COMMIT_DELAY_MS").c_str(), nullptr, 10));
      inProcess = std::make_unique<duplex::hub::InProcessEngine>(*store, engineOptions);
      inProcess->addLoop(app.loop(), topics);
    } else {
      redis =
          std::make_unique<duplex::hub::RedisEngine>(duplexd::redisEngineOptions(options.engines));
      redis->addLoop(app.loop(), topics);
      if (auto error = redis->start()) {
        std::fprintf(stderr, "duplexd: --engine %s\n", error->c_str());
        return 1;
      }
    }
    duplex::hub::Engine& engine =
        inProcess ? static_cast<duplex::hub::Engine&>(*inProcess) : *redis;
    duplex::hub::Hub hub(app.loop(), engine, std::move(hubOptions));
    app.ws("/connection",
           duplexd::withConnectionLog(hub.behavior(webSocketRoute(options)), "/connection"));
    hub.addApiRoutes(app);

    duplexd::Readiness readiness{
        options.dataDir, options.dataDir + "/channels.db",
        // Through the engine: the store is its storage thread's.
        [&](std::function<void(std::optional<std::string>)> answer) {
          duplex::hub::ReadRequest read;
          read.channel = "demo:throws";
          engine.read(app.loop(), std::move(read),
                      [answer = std::move(answer)](duplex::hub::ReadResult&& result) {
                        if (result.ok) return answer(std::nullopt);
                        answer(result.error);
                      });
        }};
    if (redis) {
      // No channels.db: ready when every Redis shard answers.
      readiness.storeFile.clear();
      readiness.readStore = [&](std::function<void(std::optional<std::string>)> answer) {
        redis->check(app.loop(), std::move(answer));
      };
    }
    duplexd::addServiceRoutes(app, hub, topics, std::move(readiness));
    duplexd::AdminPage admin(app, hub, topics, adminSecret, options.webDir,
                             webSocketRoute(options));
    app.get("/*", duplex::files(options.webDir));

    const duplex::cli::Endpoint& endpoint = options.endpoint;
    duplex::cli::listen(app, endpoint);
    const bool tls = endpoint.tls();
    // One line that says both: tests and scripts read the ws:// part.
    std::printf("duplexd listening on %s://%s:%u/connection and %s://%s:%u/\n", tls ? "wss" : "ws",
                endpoint.host.c_str(), app.port(), tls ? "https" : "http", endpoint.host.c_str(),
                app.port());
    std::fflush(stdout);
    if (!options.quiet) {
      const std::string channelsIn =
          redis ? "Redis, " + std::to_string(options.engines.size()) + " shard(s)"
                : options.dataDir + "/channels.db";
      std::fprintf(stderr, "duplexd: open %s://%s:%u and throw (channels: %s)\n",
                   tls ? "https" : "http", endpoint.host.c_str(), app.port(), channelsIn.c_str());
    }
    const auto started = std::chrono::steady_clock::now();
    app.run();
    DUPLEX_LOG(Info, "duplexd stopped after %.1f s",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "duplexd: %s\n", e.what());
    return 1;
  }
  return 0;
}
