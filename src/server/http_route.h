#pragma once
// Plain HTTP routes beside the WebSocket ones: health checks, metrics, static files.
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/request.h"

namespace duplex {

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added for you
  std::string body;

  HttpResponse& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

using HttpHandler = std::function<void(const Request&, HttpResponse&)>;

// Serves the files under `root` for a route ending in "*" (the wildcard is the file's path
// below root): Content-Type from the extension, index.html for directories, 404 for missing
// files, and 403 for anything that would leave root ("..", encoded or not, or a symlink out).
HttpHandler files(std::filesystem::path root);

// "text/html; charset=utf-8" for "index.html", and so on; application/octet-stream otherwise.
std::string_view contentTypeFor(std::string_view path);

}  // namespace duplex
