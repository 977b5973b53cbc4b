#pragma once
// Plain HTTP routes beside the WebSocket ones: health checks, metrics, static files.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/request.h"

namespace duplex {

class LaterResponse;
class ServerConnection;

// A file sent as a response body in pieces, read as the socket drains (HttpResponse::bodyFile):
// a large file never sits whole in memory, nor is read whole in one go on the loop.
struct FileBody {
  FileBody(int file, uint64_t bytes) : fd(file), size(bytes) {}
  ~FileBody();
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;
  int fd;         // open for reading; closed with the FileBody
  uint64_t size;  // bytes sent from offset 0 (the Content-Length)
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added for you
  std::string body;
  // Instead of `body`: the file's bytes, streamed by the connection.
  std::shared_ptr<FileBody> bodyFile;

  HttpResponse& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }

  // Answers later: the handler keeps the returned object, returns, and fills in and sends its
  // response() when it can (from the connection's loop thread, e.g. in a completion posted
  // there). Meanwhile the connection reads no further request. What this object held is then
  // ignored. Only for a response given to a handler by a connection; elsewhere it throws.
  LaterResponse later();

 private:
  friend class ServerConnection;
  ServerConnection* connection_ = nullptr;
};

// A response a handler answers after it returned (HttpResponse::later()).
class LaterResponse {
 public:
  LaterResponse() = default;
  // The response to fill in before send().
  HttpResponse& response();
  // Sends it on the connection's loop thread; once. Does nothing when the client has gone
  // away meanwhile (it closed, timed out, or the server shut down).
  void send();
  bool clientGone() const;

  struct State;

 private:
  friend class ServerConnection;
  explicit LaterResponse(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

// Fills in the response before it returns, or takes it with response.later() and answers then.
using HttpHandler = std::function<void(const Request&, HttpResponse&)>;

// One of the server's own refusals (App::refusals): the request as far as it was read, and
// the server's words for what was wrong. `path` is the request's path (a head refused whole
// still has its request line); for a request target too long to read whole (414), the part
// that was read, so a writer that counts by path must not take it as a label as it stands.
struct Refusal {
  std::string_view method;
  std::string_view path;
  std::string_view reason;
};

// Writes one of the server's own refusals: `response` comes with the refusal's status and the
// headers that status requires (Allow, Retry-After); the writer sets the body and its
// Content-Type from the refusal's reason. It runs on the connection's loop thread.
using RefusalWriter = std::function<void(const Refusal& refusal, HttpResponse& response)>;

// Serves the files under `root` for a route ending in "*" (the wildcard is the file's path
// below root): Content-Type from the extension, index.html for directories, 404 for missing
// files, and 403 for anything that would leave root ("..", encoded or not, or a symlink out).
HttpHandler files(std::filesystem::path root);

// "text/html; charset=utf-8" for "index.html", and so on; application/octet-stream otherwise.
std::string_view contentTypeFor(std::string_view path);

}  // namespace duplex
