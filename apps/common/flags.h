#pragma once
// The command-line loop every program here shares (duplexd, duplex-echo, duplex-loadgen,
// duplex-soak): each lists its flags in a table (a switch, a number or a text, with what to do
// with it) and parseFlags() walks argv once, with the same errors everywhere: an unknown flag, a
// missing value, a value that is not a number in the target's range ("--port abc" and
// "--port 70000" are errors, not port 0 or 4464). A value may follow its flag as the next
// argument or after '=' ("--port 80", "--port=80"). Checks that involve several flags stay with
// each program. Every program has --version (versionFlag) and answers a bad command line with
// one line (refuseCommandLine), not its whole usage.
#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

namespace duplex::cli {

struct Flag {
  std::string_view name;
  // Exactly one is set. A switch takes no value; the others take the next argument, and
  // return false (with `error` set by parseFlags) when the value is not acceptable.
  std::function<void()> onSwitch;
  std::function<bool(double)> onNumber;
  std::function<bool(std::string_view)> onText;
  // What the flag accepts, when "bad value" alone would leave the user guessing (a range):
  // the error then reads "bad value for --x: 0, not <accepted>".
  std::string accepted;
};

inline Flag switchFlag(std::string_view name, std::function<void()> set) {
  return {name, std::move(set), {}, {}};
}

// Any value >= 0 that T holds, stored as T (ports, counts, sizes, seconds); an integral T
// takes whole numbers only.
template <class T>
Flag numberFlag(std::string_view name, T& target) {
  return {name,
          {},
          [&target](double n) {
            if constexpr (std::is_integral_v<T>) {
              if (n != std::floor(n) || n > static_cast<double>(std::numeric_limits<T>::max()))
                return false;
            }
            target = static_cast<T>(n);
            return true;
          },
          {}};
}

inline Flag textFlag(std::string_view name, std::string& target) {
  return {name, {}, {}, [&target](std::string_view v) {
            target = v;
            return true;
          }};
}

// A text flag whose value must satisfy `accept` (which stores it).
inline Flag checkedTextFlag(std::string_view name, std::function<bool(std::string_view)> accept) {
  return {name, {}, {}, std::move(accept)};
}

// --version: prints "PROGRAM VERSION" on stdout and exits 0.
Flag versionFlag(std::string_view program);
// The project's version ("0.1.0"), from CMakeLists.txt.
const char* version();

// "PROGRAM: ERROR (see PROGRAM --help)" on stderr, and exit status 2.
[[noreturn]] void refuseCommandLine(std::string_view program, std::string_view error);

// False with `error` set ("unknown flag --x", "missing value for --port", "bad value for
// --port: abc", "--quiet takes no value") at the first argument that does not fit.
bool parseFlags(int argc, char** argv, std::initializer_list<Flag> flags, std::string& error);

}  // namespace duplex::cli
