#include "flags.h"

#include <cstdlib>
#include <string>

namespace duplex::cli {
namespace {

bool toNumber(std::string_view text, double& out) {
  std::string s(text);
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && out >= 0;
}

}  // namespace

bool parseFlags(int argc, char** argv, std::initializer_list<Flag> flags, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = argv[i];
    const Flag* flag = nullptr;
    for (const Flag& f : flags) {
      if (f.name == name) flag = &f;
    }
    if (!flag) {
      error = "unknown flag " + std::string(name);
      return false;
    }
    if (flag->onSwitch) {
      flag->onSwitch();
      continue;
    }
    if (i + 1 >= argc) {
      error = "missing value for " + std::string(name);
      return false;
    }
    const std::string_view value = argv[++i];
    double n = 0;
    const bool ok = flag->onNumber ? toNumber(value, n) && flag->onNumber(n) : flag->onText(value);
    if (!ok) {
      if (error.empty()) error = "bad value for " + std::string(name) + ": " + std::string(value);
      return false;
    }
  }
  return true;
}

}  // namespace duplex::cli
