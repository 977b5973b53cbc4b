// duplex-interop-client: drives OUR client against any echo server (Python websockets, Node ws,
// duplex-echo) and checks every echo byte for byte. Exit status 0 when everything matched.
//   duplex-interop-client ws://127.0.0.1:PORT/path [--close-code N]
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "client/client.h"

namespace {

struct Step {
  duplex::Opcode opcode;
  std::string payload;
};

std::vector<Step> makeSteps() {
  std::vector<Step> steps;
  std::mt19937 random(42);
  for (size_t size : {0u, 125u, 126u, 65535u, 65536u, 1u << 20}) {
    std::string text(size, 'x');
    for (size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + random() % 26);
    if (size >= 4) text.replace(0, 2, "\xc3\xa9");  // some non-ASCII UTF-8 too
    steps.push_back({duplex::Opcode::Text, text});
    std::string binary(size, '\0');
    for (char& c : binary) c = static_cast<char>(random());
    steps.push_back({duplex::Opcode::Binary, binary});
  }
  return steps;
}

}  // namespace

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
  std::vector<Step> steps = makeSteps();
  size_t next = 0;
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
  // The echoes go up to 1 MiB of payload, the default limit (ConnectionLimits); leave room.
  behavior.maxMessageSize = 4 << 20;
  behavior.open = [&](duplex::WebSocket& ws) {
    std::printf("duplex-interop-client: permessage-deflate %s\n", ws.isCompressed() ? "on" : "off");
    if (!expectDeflate.empty() && expectDeflate != (ws.isCompressed() ? "on" : "off")) {
      failWith(&ws, "permessage-deflate was expected " + expectDeflate);
      return;
    }
    ws.send(steps[0].payload, steps[0].opcode);
  };
  behavior.message = [&](duplex::WebSocket& ws, std::string_view data, duplex::Opcode opcode) {
    const Step& step = steps[next];
    if (opcode != step.opcode || data != step.payload) {
      failWith(&ws, "echo " + std::to_string(next) + " differs (" + std::to_string(data.size()) +
                        " bytes back for " + std::to_string(step.payload.size()) + ")");
      return;
    }
    if (++next < steps.size()) {
      ws.send(steps[next].payload, steps[next].opcode);
    } else {
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
  std::printf("duplex-interop-client: %zu echoes, ping/pong and close %u OK\n", steps.size(),
              closeCode);
  return 0;
}
