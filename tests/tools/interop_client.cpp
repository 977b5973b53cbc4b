// duplex-interop-client: drives OUR client against any echo server (Python websockets, Node ws,
// duplex-echo) and checks every echo byte for byte. Exit status 0 when everything matched.
//   duplex-interop-client ws://127.0.0.1:PORT/path [--close-code N]
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "client/client.h"
#include "echo_steps.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: duplex-interop-client URL [--close-code N] [--no-deflate]"
                 " [--expect-deflate on|off]\n");
    return 2;
  }
  std::string url = argv[1];
  uint16_t closeCode = 4000;
  bool offerDeflate = true;
  std::string expectDeflate;  // "on" / "off": fail unless compression was (not) agreed
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--close-code" && i + 1 < argc) {
      closeCode = static_cast<uint16_t>(std::atoi(argv[++i]));
    } else if (arg == "--no-deflate") {
      offerDeflate = false;
    } else if (arg == "--expect-deflate" && i + 1 < argc) {
      expectDeflate = argv[++i];
    }
  }

  duplex::net::Loop loop;
  duplex::test::EchoSteps steps;
  std::string failure = "did not finish";
  bool pongSeen = false;
  const std::string pingPayload = "are you there?";

  auto failWith = [&](duplex::WebSocket* ws, std::string why) {
    failure = std::move(why);
    if (ws) ws->terminate();
    loop.stop();
  };
  duplex::ClientBehavior behavior;
  behavior.compression.enabled = offerDeflate;
  // The echoes go up to the default limit (ConnectionLimits); leave room.
  behavior.maxMessageSize = 4 * duplex::test::EchoSteps::kLargest;
  behavior.open = [&](duplex::WebSocket& ws) {
    std::printf("duplex-interop-client: permessage-deflate %s\n", ws.isCompressed() ? "on" : "off");
    if (!expectDeflate.empty() && expectDeflate != (ws.isCompressed() ? "on" : "off")) {
      failWith(&ws, "permessage-deflate was expected " + expectDeflate);
      return;
    }
    steps.start(ws);
  };
  behavior.message = [&](duplex::WebSocket& ws, std::string_view data, duplex::Opcode opcode) {
    std::string why;
    if (!steps.onEcho(ws, data, opcode, why)) {
      failWith(&ws, std::move(why));
    } else if (steps.done()) {
      ws.ping(pingPayload);
    }
  };
  behavior.pong = [&](duplex::WebSocket& ws, std::string_view payload) {
    if (payload != pingPayload) {
      failWith(&ws, "pong payload differs from the ping's");
      return;
    }
    pongSeen = true;
    ws.close(closeCode, "bye");
  };
  behavior.close = [&](duplex::WebSocket&, uint16_t code, std::string_view reason) {
    if (!pongSeen) {
      failure = "closed early: " + std::to_string(code) + " " + std::string(reason);
    } else if (code != closeCode) {
      failure = "close code " + std::to_string(code) + " instead of " + std::to_string(closeCode);
    } else {
      failure.clear();
    }
    loop.stop();
  };
  behavior.error = [&](std::string_view error) { failWith(nullptr, std::string(error)); };

  try {
    duplex::connect(loop, url, std::move(behavior));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "duplex-interop-client: %s (usage: URL first, then flags)\n", e.what());
    return 2;
  }
  loop.setTimeout(30000, [&] { failWith(nullptr, "timed out after 30 s"); });
  loop.run();
  if (!failure.empty()) {
    std::fprintf(stderr, "duplex-interop-client: FAILED: %s\n", failure.c_str());
    return 1;
  }
  std::printf("duplex-interop-client: %zu echoes, ping/pong and close %u OK\n", steps.count(),
              closeCode);
  return 0;
}
