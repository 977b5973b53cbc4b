// duplex-loadgen: drives any RFC 6455 server over loopback and prints one JSON object.
#include <arpa/inet.h>

#include <cstdio>
#include <iostream>

#include "flags.h"
#include "scenarios.h"

int main(int argc, char** argv) {
  bench::Options options;
  std::string error;
  if (!bench::parseOptions(argc, argv, options, error)) {
    duplex::cli::refuseCommandLine("duplex-loadgen", error);
  }
  bench::Target target;
  target.address.sin_family = AF_INET;
  target.address.sin_port = htons(options.port);
  if (inet_pton(AF_INET, options.host.c_str(), &target.address.sin_addr) != 1) {
    std::fprintf(stderr, "duplex-loadgen: --host must be an IPv4 address\n");
    return 2;
  }
  target.hostHeader = options.host + ":" + std::to_string(options.port);
  target.path = options.path;

  std::unique_ptr<bench::Scenario> scenario;
  if (options.scenario == "echo") scenario = bench::makeEcho(options, target);
  if (options.scenario == "fanout") scenario = bench::makeFanout(options, target);
  if (options.scenario == "connect") scenario = bench::makeConnect(options, target);
  if (options.scenario == "idle") scenario = bench::makeIdle(options, target);
  if (!scenario) {
    duplex::cli::refuseCommandLine("duplex-loadgen", "unknown scenario '" + options.scenario + "'");
  }

  bench::JsonObject result;
  result.add("scenario", options.scenario);
  const bool ok = scenario->run(result) && !scenario->loop().failed();
  result.add("ok", ok);
  if (!ok) {
    result.add("error", scenario->loop().error());
    std::fprintf(stderr, "duplex-loadgen: FAILED: %s\n", scenario->loop().error().c_str());
  }
  std::cout << result.str() << std::endl;
  return ok ? 0 : 1;
}
