#include "check_config.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "flags.h"

namespace duplexd {
namespace {

// Walks JSON objects, following `path` one key per level; returns the offset of the deepest
// key found on it. Enough JSON to find keys: strings are skipped whole (escapes included), and
// only '{' after a key on the path is entered. The text has already parsed, or the parse error
// (which carries its own line) is reported instead.
size_t deepestKeyOffset(std::string_view json, const std::vector<std::string_view>& path) {
  size_t found = std::string_view::npos;
  size_t level = 0;   // keys of `path` matched so far
  int depth = 0;      // object/array nesting at the scan position
  int pathDepth = 0;  // nesting of the object whose keys are compared with path[level]
  bool expectKey = false;
  bool armed = true;  // the next '{' belongs to the path
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '"') {
      const size_t start = i++;
      while (i < json.size() && json[i] != '"') i += json[i] == '\\' ? 2 : 1;
      if (expectKey && depth == pathDepth && level < path.size()) {
        std::string_view key = json.substr(start + 1, i - start - 1);
        if (key == path[level]) {
          found = start;
          ++level;
          armed = true;
        }
      }
      expectKey = false;
    } else if (c == '{' || c == '[') {
      ++depth;
      if (c == '{' && armed) {
        pathDepth = depth;
        armed = false;
      }
      expectKey = c == '{';
    } else if (c == '}' || c == ']') {
      if (depth == pathDepth && found != std::string_view::npos) break;  // left the path
      --depth;
    } else if (c == ',') {
      expectKey = depth == pathDepth;
      if (depth == pathDepth) armed = false;
    }
  }
  return found;
}

}  // namespace

size_t lineOfKey(std::string_view json, std::string_view dottedPath) {
  std::vector<std::string_view> path;
  while (!dottedPath.empty()) {
    const size_t dot = dottedPath.find('.');
    path.push_back(dottedPath.substr(0, dot));
    if (dot == dottedPath.npos) break;
    dottedPath.remove_prefix(dot + 1);
  }
  const size_t offset = deepestKeyOffset(json, path);
  if (offset == std::string_view::npos) return 0;
  size_t line = 1;
  for (size_t i = 0; i < offset; ++i) line += json[i] == '\n';
  return line;
}

duplex::hub::HubResult<duplex::hub::Namespaces> readHubConfig(std::string_view json) {
  auto namespaces = duplex::hub::Namespaces::fromJson(json);
  if (namespaces.ok()) return namespaces;
  duplex::hub::HubError error = namespaces.error();
  // A parse error already says "at line L, column C"; the others start with the option's path
  // ("namespaces.talk.presence: ...", "\"extra\": unknown configuration key ...").
  if (const size_t at = error.message.find(" at line "); at != std::string::npos) {
    const size_t digits = at + 9;
    const size_t end = error.message.find_first_not_of("0123456789", digits);
    error.message = "line " + error.message.substr(digits, end - digits) + ": " + error.message;
    return error;
  }
  std::string_view path(error.message);
  path = path.substr(0, path.find(": "));
  if (path.size() >= 2 && path.front() == '"' && path.back() == '"') {
    path = path.substr(1, path.size() - 2);
  }
  if (const size_t line = lineOfKey(json, path)) {
    error.message = "line " + std::to_string(line) + ": " + error.message;
  }
  return error;
}

int runCheckConfig(int argc, char** argv) {
  constexpr const char* kProgram = "duplexd check-config";
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    std::printf(
        "usage: duplexd check-config FILE\n"
        "Checks a hub configuration (--hub-config, docs/protocol.md): prints \"FILE: ok\", or\n"
        "\"FILE:LINE: what is wrong\" and exits 1.\n");
    return 0;
  }
  if (argc != 2) duplex::cli::refuseCommandLine(kProgram, "give one FILE");
  const char* file = argv[1];
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "%s: cannot read: %s\n", file, std::strerror(errno));
    return 1;
  }
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto namespaces = readHubConfig(json);
  if (!namespaces.ok()) {
    std::string message = namespaces.error().message;
    // "line 3: x" -> "FILE:3: x", the form editors jump to.
    if (message.starts_with("line ")) {
      message.replace(0, 5, "");
      std::fprintf(stderr, "%s:%s\n", file, message.c_str());
    } else {
      std::fprintf(stderr, "%s: %s\n", file, message.c_str());
    }
    return 1;
  }
  std::printf("%s: ok\n", file);
  return 0;
}

}  // namespace duplexd
