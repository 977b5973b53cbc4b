#include "server/server_connection.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "net/log.h"
#include "protocol/handshake.h"
#include "protocol/http.h"
#include "protocol/permessage_deflate.h"
#include "server/app_impl.h"
#include "server/request.h"

namespace duplex {

using protocol::HttpError;
using protocol::HttpRequest;

namespace {
// After refusing a handshake we wait this long for the client to read our answer and close.
constexpr uint32_t kLingerAfterRefusalSeconds = 2;

// A head refused before it could be parsed whole (too large, lines ended by bare LFs) may still
// begin with a readable request line, whose path picks the refusal's writer (App::refusals).
const HttpRequest* requestLineOf(std::string_view buffer, HttpRequest& http) {
  size_t end = buffer.find('\n');
  if (end == std::string_view::npos) return nullptr;
  std::string_view line = buffer.substr(0, end);
  if (line.ends_with('\r')) line.remove_suffix(1);
  HttpError ignored;
  return protocol::parseRequestLine(line, http, ignored) ? &http : nullptr;
}
}  // namespace

// 192 bytes is a 208-byte malloc chunk, the server's whole cost per idle connection
// (docs/performance.md, "memory per idle connection"; 64-bit).
static_assert(sizeof(void*) != 8 || sizeof(ServerConnection) <= 192,
              "ServerConnection is per-connection state; keep it small");

ServerConnection::ServerConnection(net::Loop& loop, int fd, App::Impl& app)
    : WebSocket(loop, fd, protocol::Role::Server), app_(&app) {
  app.connectionMade(*this);
  overLimit_ = !admit();
  setDeadline(app.options.handshakeTimeoutSeconds);
}

bool ServerConnection::admit() {
  const AppOptions& options = app_->options;
  // Counted over every loop; two loops admitting at once may both refuse, never both admit.
  if (options.maxConnections &&
      app_->connections.load(std::memory_order_relaxed) > options.maxConnections) {
    return false;
  }
  if (!options.maxConnectionsPerIp) return true;
  std::string address = remoteAddress();
  // "1.2.3.4:5678" / "[::1]:5678": the limit is per address, whatever the port.
  std::string ip = address.substr(0, address.rfind(':'));
  std::lock_guard lock(app_->perIpMutex);  // once per connection, shared by the loops
  auto [it, fresh] = app_->connectionsPerIp.try_emplace(std::move(ip), 0);
  if (it->second >= options.maxConnectionsPerIp) return false;
  ++it->second;
  ipCount_ = &*it;  // unordered_map nodes stay put until erased
  return true;
}

ServerConnection::~ServerConnection() {
  if (exchange_ && exchange_->later) exchange_->later->connection = nullptr;  // client gone
  if (ipCount_) {
    std::lock_guard lock(app_->perIpMutex);
    if (--ipCount_->second == 0) {
      app_->connectionsPerIp.erase(app_->connectionsPerIp.find(ipCount_->first));
    }
  }
  if (countedOpen_) app_->webSockets.fetch_sub(1, std::memory_order_relaxed);
  app_->connectionGone(*this);
}

void ServerConnection::goAway() {
  if (isOpen()) {
    close(CloseCode::GoingAway, "server shutting down");
  } else if (handshaking()) {
    closeGracefully(1);
  }
}

bool ServerConnection::onHandshakeData(std::span<uint8_t>& data) {
  if (refused_) return false;
  const size_t maxRequest = protocol::kMaxHeadSize + app_->options.maxBodySize;
  if (busy()) {
    // A pipelined request while the last one is still being answered: kept for later.
    if (!pending_) pending_ = std::make_unique<std::string>();
    if (pending_->size() + data.size() > 2 * maxRequest) {
      closeNow();
      return false;
    }
    pending_->append(reinterpret_cast<const char*>(data.data()), data.size());
    data = {};
    return false;
  }
  for (;;) {
    std::string_view input(reinterpret_cast<const char*>(data.data()), data.size());
    // A request is parsed where it lies in the read buffer when it arrived whole (the common
    // case); one that spans reads is collected in pending_ first.
    size_t before = pending_ ? pending_->size() : 0;
    if (pending_) pending_->append(input.substr(0, maxRequest + 1 - std::min(before, maxRequest)));
    std::string_view buffer = pending_ ? std::string_view(*pending_) : input;
    auto waitForMore = [&] {
      if (!pending_ && !input.empty()) pending_ = std::make_unique<std::string>(input);
      return false;
    };
    size_t headEnd = protocol::findHeadEnd(buffer);
    HttpRequest http;
    if (headEnd == 0) {
      if (buffer.size() >= protocol::kMaxHeadSize) {
        refuseOverlongHead(buffer);
        return false;
      }
      // A head ended by bare LFs would otherwise wait for a CRLF CRLF that never comes, until
      // the handshake timeout: say at once what is wrong (we parse strictly, RFC 9112 2.2).
      if (buffer.find("\n\n") != std::string_view::npos) {
        refuse({400, "request lines must end with CRLF", {}}, requestLineOf(buffer, http));
        return false;
      }
      return waitForMore();
    }
    if (headEnd > protocol::kMaxHeadSize) {
      refuseOverlongHead(buffer);
      return false;
    }
    HttpError error;
    size_t bodySize = 0;
    if (!protocol::parseRequest(buffer.substr(0, headEnd), http, error) ||
        !bodyLength(http, bodySize, error)) {
      // A head that failed past its request line still names its path, whose refusal writer
      // (App::refusals) then shapes the answer.
      refuse(error, http.path.empty() ? nullptr : &http);
      return false;
    }
    if (buffer.size() - headEnd < bodySize) return waitForMore();
    bool upgraded = handleRequest(http, buffer.substr(headEnd, bodySize));
    size_t consumed = headEnd + bodySize - before;  // of this read's bytes
    pending_.reset();
    data = data.subspan(consumed);
    if (upgraded || refused_ || isClosed()) return upgraded;
    if (data.empty()) return false;  // keep-alive: wait for the next request
    if (busy()) {
      pending_ =
          std::make_unique<std::string>(reinterpret_cast<const char*>(data.data()), data.size());
      data = {};
      return false;
    }
  }
}

void ServerConnection::refuseOverlongHead(std::string_view buffer) {
  HttpRequest http;
  const size_t lineEnd = buffer.find('\n');
  if (lineEnd != std::string_view::npos && lineEnd < protocol::kMaxHeadSize) {
    // The headers made it too large; the request line names the path.
    return refuse({431, "request head larger than 8 KiB", {}}, requestLineOf(buffer, http));
  }
  // The request line alone is over the limit: RFC 9112 3 answers a target longer than the
  // server will parse with 414, and the beginning of that target is enough to pick the
  // refusal's writer (an API under a prefix answers in its own shape).
  const std::string_view line = buffer.substr(0, std::min(lineEnd, protocol::kMaxHeadSize));
  if (protocol::parseOverlongRequestLine(line, http)) {
    return refuse({414, "request target too long: the request line is over 8 KiB", {}}, &http);
  }
  refuse({431, "request head larger than 8 KiB", {}}, nullptr);
}

bool ServerConnection::bodyLength(const HttpRequest& http, size_t& size, HttpError& error) {
  // Without chunked decoding a Transfer-Encoding body cannot be delimited; guessing would let a
  // request smuggle another one past us (RFC 9112 6.1: 501 for a coding we do not know).
  if (!http.header("Transfer-Encoding").empty()) {
    error = {501, "Transfer-Encoding is not supported; send Content-Length", {}};
    return false;
  }
  size = 0;
  size_t count = http.headerCount("Content-Length");
  if (count == 0) return true;
  std::string_view value = http.header("Content-Length");
  bool valid = count == 1 && !value.empty() && value.size() <= 18 &&
               value.find_first_not_of("0123456789") == std::string_view::npos;
  if (!valid) {
    error = {400, "bad Content-Length header", {}};
    return false;
  }
  for (char c : value) size = size * 10 + static_cast<size_t>(c - '0');
  if (size > app_->options.maxBodySize) {
    error = {413,
             "request body larger than " + std::to_string(app_->options.maxBodySize) + " bytes",
             {}};
    return false;
  }
  return true;
}

bool ServerConnection::handleRequest(const HttpRequest& http, std::string_view body) {
  if (overLimit_) {
    // Answered at the first request rather than at accept: over TLS that is the only way the
    // client can read why.
    refuse({503, "too many connections", {{"Retry-After", "5"}}}, &http);
    return false;
  }
  bool wantsUpgrade = !http.header("Upgrade").empty();
  bool isGet = http.method == "GET" || http.method == "HEAD";
  auto ws = app_->wsRoutes.find(http.path);
  auto get = app_->getRoutes.find(http.path);
  auto post = app_->postRoutes.find(http.path);
  if (ws.target && wantsUpgrade) return upgrade(http, *ws.target, ws.wildcard);
  // The closest pattern decides what the path is; the method then picks among the routes that
  // fit it that closely. A GET without Upgrade on a WebSocket path is refused by
  // validateUpgrade with 426 and `Upgrade: websocket` (RFC 9110 15.5.22), so that someone
  // trying it with curl learns the endpoint exists and what it wants.
  size_t closest = 0;
  for (size_t specificity : {ws.target ? ws.specificity : 0, get.target ? get.specificity : 0,
                             post.target ? post.specificity : 0}) {
    closest = std::max(closest, specificity);
  }
  auto fits = [closest](const auto& match) { return match.target && match.specificity == closest; };
  if (isGet && fits(get)) {
    serveHttp(http, body, *get.target, get.wildcard);
  } else if (http.method == "POST" && fits(post)) {
    serveHttp(http, body, *post.target, post.wildcard);
  } else if (isGet && fits(ws)) {
    return upgrade(http, *ws.target, ws.wildcard);
  } else if (fits(ws) || fits(get) || fits(post)) {
    std::string allow = fits(ws) || fits(get) ? "GET, HEAD" : "";
    if (fits(post)) allow += allow.empty() ? "POST" : ", POST";
    refuse({405,
            "method " + std::string(http.method) + " not allowed on " + std::string(http.path) +
                " (it takes " + allow + ")",
            {{"Allow", allow}}},
           &http);
  } else {
    refuse({404, "no route for " + std::string(http.path), {}}, &http);
  }
  return false;
}

bool ServerConnection::upgrade(const HttpRequest& http, const WebSocketBehavior& behavior,
                               std::string_view wildcard) {
  protocol::UpgradeRequest upgradeRequest;
  HttpError error;
  if (!protocol::validateUpgrade(http, upgradeRequest, error)) {
    refuse(error, &http);
    return false;
  }
  Request request(http, *this, wildcard);
  // RFC 6455 4.2.2: pick one of the client's subprotocols, in our order of preference.
  for (const std::string& ours : behavior.subprotocols) {
    bool offered = false;
    for (std::string_view theirs : upgradeRequest.protocols) offered = offered || theirs == ours;
    if (offered) {
      request.setSubprotocol(ours);
      break;
    }
  }
  if (behavior.accept) {
    int status = behavior.accept(request);
    if (status != 0) {
      refuse({status, "upgrade refused by the application", {}}, &http);
      return false;
    }
  }
  std::string extensions;
  if (behavior.compression.enabled && !upgradeRequest.extensions.empty()) {
    protocol::DeflateAcceptance deflate =
        protocol::acceptDeflateOffer(upgradeRequest.extensions, behavior.compression);
    if (deflate.accepted) {
      extensions = std::move(deflate.response);
      enableCompression(deflate.params, behavior.compression);
    }
  }
  write(protocol::writeUpgradeResponse(upgradeRequest.key, request.subprotocol(), extensions));
  open(behavior, request.subprotocol());
  countedOpen_ = true;
  app_->webSockets.fetch_add(1, std::memory_order_relaxed);
  if (behavior.open) behavior.open(*this, request);
  return !isClosed();
}

void ServerConnection::serveHttp(const HttpRequest& http, std::string_view body,
                                 const HttpHandler& handler, std::string_view wildcard) {
  bool head = http.method == "HEAD";
  bool keepAlive = http.versionMinor >= 1 &&
                   !protocol::hasToken(http.header("Connection"), "close") && !app_->shuttingDown;
  Request request(http, *this, wildcard);
  request.setBody(body);
  HttpResponse response;
  response.connection_ = this;
  const bool logged = log::enabled(log::Level::Info);
  const auto started =
      logged ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  handler(request, response);
  LaterResponse::State* later = exchange_ ? exchange_->later.get() : nullptr;
  if (later && !later->sent) {
    // Answered by LaterResponse::send(), from a completion on this loop; logged then.
    later->head = head;
    later->keepAlive = keepAlive;
    if (logged) {
      later->logged = true;
      later->started = started;
      later->method.assign(http.method);
      later->path.assign(http.path);
    }
    return;
  }
  if (logged) logAccess(http.method, http.path, response.status, started);
  respond(response, head, keepAlive);
}

void ServerConnection::logAccess(std::string_view method, std::string_view path, int status,
                                 std::chrono::steady_clock::time_point started) {
  // The access log: one line per request, as nginx writes it, at info; the time runs until the
  // answer is queued (for an answer sent later, until then).
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  log::write(log::Level::Info, "http %s %.*s %.*s %d %.3f ms", remoteAddress().c_str(),
             static_cast<int>(method.size()), method.data(), static_cast<int>(path.size()),
             path.data(), status, ms);
}

void ServerConnection::respond(HttpResponse& response, bool head, bool keepAlive) {
  keepAlive = keepAlive && !app_->shuttingDown;  // shutdown may have begun since the request
  if (response.bodyFile) {
    write(protocol::writeResponseHead(response.status, response.headers, response.bodyFile->size,
                                      keepAlive));
    if (!head && response.bodyFile->size > 0) {
      Exchange& ongoing = exchange();
      ongoing.streaming = std::move(response.bodyFile);
      ongoing.streamed = 0;
      ongoing.streamKeepAlive = keepAlive;
      if (!streamMore()) return;  // the rest as the socket drains
      ongoing.streaming.reset();
      endExchangeIfIdle();
    }
    return finishExchange(keepAlive);
  }
  std::string bytes =
      protocol::writeResponse(response.status, response.headers, response.body, keepAlive);
  // HEAD: the same head as GET, Content-Length included, without the body.
  if (head) bytes.resize(bytes.size() - response.body.size());
  write(bytes);
  finishExchange(keepAlive);
}

void ServerConnection::finishExchange(bool keepAlive) {
  if (keepAlive) {
    setDeadline(app_->options.handshakeTimeoutSeconds);
    // The loop may be inside this connection's onData or not (a later answer, a drain).
    if (pending_) loop().defer([this] { handlePendingInput(); });
  } else {
    refused_ = true;  // read nothing more
    closeGracefully(kLingerAfterRefusalSeconds);
  }
}

void ServerConnection::handlePendingInput() {
  if (busy() || !pending_ || isClosed() || refused_ || !handshaking()) return;
  std::string input = std::move(*pending_);
  pending_.reset();
  std::span<uint8_t> data(reinterpret_cast<uint8_t*>(input.data()), input.size());
  if (onHandshakeData(data) && !data.empty() && !isClosed()) processFrames(data);
}

bool ServerConnection::streamMore() {
  // Up to this much queued at a time: the file is read as the peer takes it, never whole.
  constexpr size_t kStreamWindow = 256 * 1024;
  constexpr size_t kPiece = 64 * 1024;
  Exchange& ongoing = *exchange_;
  const FileBody& file = *ongoing.streaming;
  uint64_t& streamed = ongoing.streamed;
  while (streamed < file.size && bufferedAmount() < kStreamWindow) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(kPiece, file.size - streamed));
    uint8_t* into = reserve(want);
    ssize_t got = ::pread(file.fd, into, want, static_cast<off_t>(streamed));
    if (got != static_cast<ssize_t>(want)) {
      // The file shrank or failed under us: the promised length cannot be kept.
      DUPLEX_LOG(Debug, "static file read failed at %llu; dropping the connection",
                 static_cast<unsigned long long>(streamed));
      closeNow();
      return false;
    }
    streamed += want;
  }
  if (streamed == file.size) return true;
  setDeadline(app_->options.handshakeTimeoutSeconds);  // a reader that reads is not idle
  requestDrain();
  return false;
}

void ServerConnection::onHandshakeDrain() {
  if (!exchange_ || !exchange_->streaming || isClosed()) return;
  if (!streamMore()) return;
  const bool keepAlive = exchange_->streamKeepAlive;
  exchange_->streaming.reset();
  endExchangeIfIdle();
  finishExchange(keepAlive);
}

void ServerConnection::refuse(const HttpError& error, const HttpRequest* http) {
  if (http) {
    // A path of kilobytes (a 414's) is cut: the log line says whose request it was, not all.
    constexpr size_t kLoggedPath = 256;
    DUPLEX_LOG(Info, "http %s %.*s %.*s%s refused %d: %s", remoteAddress().c_str(),
               static_cast<int>(http->method.size()), http->method.data(),
               static_cast<int>(std::min(http->path.size(), kLoggedPath)), http->path.data(),
               http->path.size() > kLoggedPath ? "..." : "", error.status, error.message.c_str());
  } else {
    DUPLEX_LOG(Info, "http %s refused %d: %s", remoteAddress().c_str(), error.status,
               error.message.c_str());
  }
  refused_ = true;
  write(refusalBytes(error, http));  // before pending_ goes: `http` may view into it
  pending_.reset();
  closeGracefully(kLingerAfterRefusalSeconds);
}

std::string ServerConnection::refusalBytes(const HttpError& error, const HttpRequest* http) const {
  auto writer = http ? app_->refusalWriters.find(http->path) : RouteTable<RefusalWriter>::Match{};
  std::string bytes;
  size_t bodySize = 0;
  if (writer.target) {
    HttpResponse response;
    response.status = error.status;
    response.headers = error.headers;
    (*writer.target)({http->method, http->path, error.message}, response);
    bytes = protocol::writeResponse(response.status, response.headers, response.body, false);
    bodySize = response.body.size();
  } else {
    bytes = protocol::writeErrorResponse(error);
    bodySize = error.message.size() + 1;  // writeErrorResponse ends the message with a newline
  }
  // HEAD: the head a GET would get, without the body (RFC 9110 9.3.2).
  if (http && http->method == "HEAD") bytes.resize(bytes.size() - bodySize);
  return bytes;
}

}  // namespace duplex
