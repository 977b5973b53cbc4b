#include <fstream>
#include <iterator>
#include <system_error>

#include "server/http_route.h"

namespace duplex {
namespace {

constexpr uintmax_t kMaxFileSize = 64 << 20;  // static assets, not a download server

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// True when a decoded relative path tries to climb out: a ".." segment, an absolute path, a
// backslash (a Windows-style separator some clients send) or a NUL byte.
bool escapesRoot(std::string_view relative) {
  if (relative.find('\0') != std::string_view::npos) return true;
  if (relative.find('\\') != std::string_view::npos) return true;
  if (!relative.empty() && relative.front() == '/') return true;
  size_t start = 0;
  while (start <= relative.size()) {
    size_t end = relative.find('/', start);
    if (end == std::string_view::npos) end = relative.size();
    if (relative.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::string_view contentTypeFor(std::string_view path) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
      {".wasm", "application/wasm"},
      {".woff2", "font/woff2"},
  };
  for (auto& [extension, type] : kTypes) {
    if (endsWith(path, extension)) return type;
  }
  return "application/octet-stream";
}

HttpHandler files(std::filesystem::path root) {
  std::error_code ec;
  std::filesystem::path canonicalRoot = std::filesystem::weakly_canonical(root, ec);
  if (ec) canonicalRoot = std::filesystem::absolute(root);
  return [canonicalRoot](const Request& request, HttpResponse& response) {
    std::string relative = percentDecode(request.wildcard(), false);
    if (escapesRoot(relative)) {
      response.status = 403;
      response.body = "forbidden path\n";
      return;
    }
    std::error_code error;
    std::filesystem::path path = canonicalRoot / relative;
    if (std::filesystem::is_directory(path, error)) path /= "index.html";
    // Resolve symlinks and check we are still inside root.
    std::filesystem::path resolved = std::filesystem::canonical(path, error);
    if (error || !std::filesystem::is_regular_file(resolved, error)) {
      response.status = 404;
      response.body = "not found\n";
      return;
    }
    auto rootText = canonicalRoot.native() + "/";
    if (resolved.native().compare(0, rootText.size(), rootText) != 0) {
      response.status = 403;
      response.body = "forbidden path\n";
      return;
    }
    uintmax_t size = std::filesystem::file_size(resolved, error);
    if (error || size > kMaxFileSize) {
      response.status = error ? 404 : 500;
      response.body = error ? "not found\n" : "file too large\n";
      return;
    }
    std::ifstream in(resolved, std::ios::binary);
    response.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    response.header("Content-Type", std::string(contentTypeFor(resolved.native())));
    response.header("Cache-Control", "no-cache");
  };
}

}  // namespace duplex
