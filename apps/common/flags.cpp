#include "flags.h"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#ifndef DUPLEX_VERSION
#error "DUPLEX_VERSION comes from apps/CMakeLists.txt"
#endif

namespace duplex::cli {
namespace {

bool toNumber(std::string_view text, double& out) {
  std::string s(text);
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && out >= 0;
}

}  // namespace

const char* version() {
  return DUPLEX_VERSION;
}

Flag versionFlag(std::string_view program) {
  return switchFlag("--version", [program] {
    std::printf("%.*s %s\n", static_cast<int>(program.size()), program.data(), version());
    std::exit(0);
  });
}

void refuseCommandLine(std::string_view program, std::string_view error) {
  const int p = static_cast<int>(program.size());
  std::fprintf(stderr, "%.*s: %.*s (see %.*s --help)\n", p, program.data(),
               static_cast<int>(error.size()), error.data(), p, program.data());
  std::exit(2);
}

bool parseFlags(int argc, char** argv, std::initializer_list<Flag> flags, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    std::string_view name = argument;
    std::optional<std::string_view> attached;  // "--port=80"
    if (const size_t eq = argument.find('='); argument.starts_with("--") && eq != argument.npos) {
      name = argument.substr(0, eq);
      attached = argument.substr(eq + 1);
    }
    const Flag* flag = nullptr;
    for (const Flag& f : flags) {
      if (f.name == name) flag = &f;
    }
    if (!flag) {
      error = "unknown flag " + std::string(name);
      return false;
    }
    if (flag->onSwitch) {
      if (attached) {
        error = std::string(name) + " takes no value";
        return false;
      }
      flag->onSwitch();
      continue;
    }
    if (!attached && i + 1 >= argc) {
      error = "missing value for " + std::string(name);
      return false;
    }
    const std::string_view value = attached ? *attached : std::string_view(argv[++i]);
    double n = 0;
    const bool ok = flag->onNumber ? toNumber(value, n) && flag->onNumber(n) : flag->onText(value);
    if (!ok) {
      if (error.empty()) {
        error = "bad value for " + std::string(name) + ": " + std::string(value);
        if (!flag->accepted.empty()) error += ", not " + flag->accepted;
      }
      return false;
    }
  }
  return true;
}

}  // namespace duplex::cli
