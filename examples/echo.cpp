// The smallest useful duplex server: echoes every message back to its sender.
//   build/release/examples/echo [PORT]   then connect to ws://127.0.0.1:9001/echo
#include <cstdio>
#include <cstdlib>

#include "server/app.h"

int main(int argc, char** argv) {
  duplex::App app;
  app.ws("/echo", {
                      .open =
                          [](duplex::WebSocket& ws, const duplex::Request& request) {
                            ws.send("hello " + request.remoteAddress());
                          },
                      .message = [](duplex::WebSocket& ws, std::string_view data,
                                    duplex::Opcode opcode) { ws.send(data, opcode); },
                      .close =
                          [](duplex::WebSocket&, uint16_t code, std::string_view reason) {
                            std::printf("closed: %u %.*s\n", code, static_cast<int>(reason.size()),
                                        reason.data());
                          },
                  });
  app.listen("127.0.0.1", argc > 1 ? std::atoi(argv[1]) : 9001);  // 0: any free port
  std::printf("listening on ws://127.0.0.1:%u/echo\n", app.port());
  std::fflush(stdout);
  app.run();  // Ctrl-C closes every connection with 1001, then exits
}
