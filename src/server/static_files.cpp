#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <unordered_map>

#include "server/http_route.h"

namespace duplex {
namespace {

// Files up to this size are kept in memory and served without touching the disk again until
// their mtime or size changes; larger ones are streamed in pieces as the socket drains
// (FileBody), so no file is ever read whole on a loop.
constexpr uint64_t kCachedFileMax = 256 * 1024;
constexpr uint64_t kCacheBytesMax = 32 << 20;  // beyond this, small files are read each time

struct CachedFile {
  std::string body;
  int64_t mtimeNs;
  uint64_t size;
};

// Shared by every loop that serves the route (one handler may run on several threads).
class FileCache {
 public:
  std::shared_ptr<const CachedFile> find(const std::string& path, const struct stat& now) {
    std::lock_guard lock(mutex_);
    auto it = files_.find(path);
    if (it == files_.end()) return nullptr;
    if (it->second->mtimeNs == mtimeNsOf(now) && it->second->size == uint64_t(now.st_size)) {
      return it->second;
    }
    bytes_ -= it->second->size;  // changed on disk: read again
    files_.erase(it);
    return nullptr;
  }
  void keep(const std::string& path, std::shared_ptr<const CachedFile> file) {
    std::lock_guard lock(mutex_);
    if (bytes_ + file->size > kCacheBytesMax) return;
    auto [it, fresh] = files_.try_emplace(path, file);
    if (!fresh) return;
    bytes_ += file->size;
  }
  static int64_t mtimeNsOf(const struct stat& st) {
    return int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const CachedFile>> files_;
  uint64_t bytes_ = 0;
};

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
  auto cache = std::make_shared<FileCache>();
  return [canonicalRoot, cache](const Request& request, HttpResponse& response) {
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
    response.header("Content-Type", std::string(contentTypeFor(resolved.native())));
    response.header("Cache-Control", "no-cache");
    struct stat st {};
    // A cached copy costs one stat (the mtime and size say whether it is still the file's).
    if (::stat(resolved.c_str(), &st) == 0 && uint64_t(st.st_size) <= kCachedFileMax) {
      if (auto cached = cache->find(resolved.native(), st)) {
        response.body = cached->body;
        return;
      }
    }
    int fd = ::open(resolved.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      if (fd >= 0) ::close(fd);
      response.headers.clear();
      response.status = 404;
      response.body = "not found\n";
      return;
    }
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size > kCachedFileMax) {
      response.bodyFile = std::make_shared<FileBody>(fd, size);
      return;
    }
    auto file = std::make_shared<CachedFile>();
    file->body.resize(size);
    ssize_t got = ::pread(fd, file->body.data(), size, 0);
    ::close(fd);
    if (got != static_cast<ssize_t>(size)) {
      response.headers.clear();
      response.status = 500;
      response.body = "file changed while read\n";
      return;
    }
    file->mtimeNs = FileCache::mtimeNsOf(st);
    file->size = size;
    response.body = file->body;
    cache->keep(resolved.native(), std::move(file));
  };
}

}  // namespace duplex
