// duplex-tls-client: OUR client over wss:// for the TLS tests. Connects, reports what TLS agreed,
// echoes a text and a binary message of each size (up to 1 MiB) byte for byte, closes with 1000.
//   duplex-tls-client wss://127.0.0.1:PORT/path [--ca FILE] [--insecure] [--server-name NAME]
// Exit 0: all echoes matched. 3: the connection failed (stderr: "error: <why>"). 1: other.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "client/client.h"
#include "echo_steps.h"
#include "net/tls_session.h"

namespace {

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: duplex-tls-client URL [--ca FILE] [--insecure] [--server-name NAME]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage();
  std::string url = argv[1];
  duplex::ClientBehavior behavior;
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--insecure") {
      behavior.tls.verify = false;
    } else if (arg == "--ca" && i + 1 < argc) {
      behavior.tls.caFile = argv[++i];
    } else if (arg == "--server-name" && i + 1 < argc) {
      behavior.tls.serverName = argv[++i];
    } else {
      usage();
    }
  }

  duplex::net::Loop loop;
  duplex::test::EchoSteps steps;
  int status = 1;
  std::string failure = "did not finish";

  behavior.maxMessageSize = 2 * duplex::test::EchoSteps::kLargest;
  behavior.open = [&](duplex::WebSocket& ws) {
    duplex::net::TlsSession* tls = ws.tls();
    if (!tls) {
      failure = "connection is not TLS";
      ws.terminate();
      return;
    }
    std::printf("tls %.*s alpn %.*s\n", static_cast<int>(tls->version().size()),
                tls->version().data(), static_cast<int>(tls->alpn().size()), tls->alpn().data());
    std::fflush(stdout);
    steps.start(ws);
  };
  behavior.message = [&](duplex::WebSocket& ws, std::string_view data, duplex::Opcode opcode) {
    if (!steps.onEcho(ws, data, opcode, failure)) {
      ws.terminate();
    } else if (steps.done()) {
      ws.close(1000, "done");
    }
  };
  behavior.close = [&](duplex::WebSocket&, uint16_t code, std::string_view reason) {
    if (steps.done() && code == 1000) {
      status = 0;
    } else if (!steps.done() && failure == "did not finish") {
      failure = "closed early: " + std::to_string(code) + " " + std::string(reason);
    }
    loop.stop();
  };
  behavior.error = [&](std::string_view error) {
    std::fprintf(stderr, "error: %.*s\n", static_cast<int>(error.size()), error.data());
    status = 3;
    failure.clear();
    loop.stop();
  };

  duplex::connect(loop, url, std::move(behavior));
  loop.setTimeout(30000, [&] { loop.stop(); });
  loop.run();
  if (status == 0) {
    std::printf("duplex-tls-client: %zu echoes OK\n", steps.count());
  } else if (status == 1) {
    std::fprintf(stderr, "duplex-tls-client: FAILED: %s\n", failure.c_str());
  }
  return status;
}
