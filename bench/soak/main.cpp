// duplex-soak: holds many connections on a WebSocket server and churns them at random for a
// while, checking every reply; prints one JSON object. docs/reliability.md says how to run it.
#include <arpa/inet.h>

#include <cstdio>
#include <iostream>

#include "flags.h"
#include "soak.h"

int main(int argc, char** argv) {
  soak::Options options;
  std::string error;
  if (!soak::parseOptions(argc, argv, options, error)) {
    duplex::cli::refuseCommandLine("duplex-soak", error);
  }
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(options.port);
  if (inet_pton(AF_INET, options.host.c_str(), &target.sin_addr) != 1) {
    std::fprintf(stderr, "duplex-soak: --host must be an IPv4 address\n");
    return 2;
  }
  soak::Soak soak(options, target, options.host + ":" + std::to_string(options.port));
  bench::JsonObject result;
  const bool ok = soak.run(result);
  std::cout << result.str() << std::endl;
  return ok ? 0 : 1;
}
