#include "token_command.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "flags.h"
#include "hub/hub_protocol_writer.h"
#include "hub/jwt.h"

namespace duplexd {
namespace {

constexpr const char* kProgram = "duplexd token";

[[noreturn]] void usage() {
  std::printf(
      "duplexd token: prints a connection token (JWT, HS256) for /connection\n\n"
      "usage: duplexd token --user ID [--secret S] [--ttl 1h] [--channels A,B]\n"
      "  --user ID        the token's user (sub); \"\" for an anonymous token\n"
      "  --secret S       the HS256 key (default: $DUPLEX_TOKEN_SECRET, which stays out of\n"
      "                   the process list); duplexd must run with the same one\n"
      "  --ttl T          lifetime: 90s, 30m, 1h, 7d or seconds (default 1h; 0: no expiry)\n"
      "  --channels LIST  channels granted (comma-separated, repeatable; \"news:*\" grants a\n"
      "                   prefix): what namespaces with grant_required ask for\n");
  std::exit(0);
}

// "90s", "30m", "1h", "7d" or plain seconds; false for anything else.
bool parseDuration(std::string_view text, int64_t& seconds) {
  if (text.empty()) return false;
  constexpr std::string_view kUnits = "smhd";
  constexpr int64_t kUnitSeconds[] = {1, 60, 3600, 86400};
  int64_t unit = 1;
  if (const size_t u = kUnits.find(text.back()); u != kUnits.npos) {
    unit = kUnitSeconds[u];
    text.remove_suffix(1);
  }
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != text.npos) {
    return false;
  }
  seconds = std::stoll(std::string(text)) * unit;
  return true;
}

}  // namespace

int runTokenCommand(int argc, char** argv) {
  using namespace duplex::cli;
  std::string user;
  bool userGiven = false;
  const char* fromEnvironment = std::getenv("DUPLEX_TOKEN_SECRET");
  std::string secret = fromEnvironment ? fromEnvironment : "";
  int64_t ttl = 3600;
  std::vector<std::string> channels;
  std::string error;
  if (!parseFlags(
          argc, argv,
          {
              checkedTextFlag("--user",
                              [&](std::string_view v) {
                                user = v;
                                userGiven = true;
                                return true;
                              }),
              textFlag("--secret", secret),
              checkedTextFlag("--ttl", [&](std::string_view v) { return parseDuration(v, ttl); }),
              checkedTextFlag("--channels",
                              [&](std::string_view list) {
                                while (!list.empty()) {
                                  const size_t comma = list.find(',');
                                  std::string_view name = list.substr(0, comma);
                                  if (!name.empty()) channels.emplace_back(name);
                                  if (comma == list.npos) break;
                                  list.remove_prefix(comma + 1);
                                }
                                return true;
                              }),
              switchFlag("--help", usage),
              versionFlag("duplexd"),
          },
          error)) {
    refuseCommandLine(kProgram, error);
  }
  if (!userGiven) refuseCommandLine(kProgram, "--user is required (\"\" for anonymous)");
  if (secret.empty()) {
    refuseCommandLine(kProgram, "no secret: give --secret or set DUPLEX_TOKEN_SECRET");
  }
  std::string claims = "{\"sub\":";
  duplex::hub::appendJsonString(claims, user);
  if (ttl > 0) {
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    claims += ",\"exp\":" + std::to_string(now + ttl);
  }
  if (!channels.empty()) {
    claims += ",\"channels\":[";
    for (size_t i = 0; i < channels.size(); ++i) {
      if (i) claims += ',';
      duplex::hub::appendJsonString(claims, channels[i]);
    }
    claims += ']';
  }
  claims += '}';
  std::printf("%s\n", duplex::hub::signHs256(claims, secret).c_str());
  return 0;
}

}  // namespace duplexd
