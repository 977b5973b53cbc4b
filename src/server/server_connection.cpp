#include "server/server_connection.h"

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
}  // namespace

ServerConnection::ServerConnection(net::Loop& loop, int fd, App::Impl& app)
    : WebSocket(loop, fd, protocol::Role::Server), app_(&app) {
  ++app.connections;
  overLimit_ = !admit();
  setDeadline(app.options.handshakeTimeoutSeconds);
}

bool ServerConnection::admit() {
  const AppOptions& options = app_->options;
  if (options.maxConnections && app_->connections > options.maxConnections) return false;
  if (!options.maxConnectionsPerIp) return true;
  std::string address = remoteAddress();
  // "1.2.3.4:5678" / "[::1]:5678": the limit is per address, whatever the port.
  std::string ip = address.substr(0, address.rfind(':'));
  auto [it, fresh] = app_->connectionsPerIp.try_emplace(std::move(ip), 0);
  if (it->second >= options.maxConnectionsPerIp) return false;
  ++it->second;
  ipCount_ = &*it;  // unordered_map nodes stay put until erased
  return true;
}

ServerConnection::~ServerConnection() {
  if (ipCount_ && --ipCount_->second == 0) {
    app_->connectionsPerIp.erase(app_->connectionsPerIp.find(ipCount_->first));
  }
  app_->connectionGone();
}

void ServerConnection::goAway() {
  if (state_ == State::Open) {
    close(CloseCode::GoingAway, "server shutting down");
  } else if (state_ == State::Handshake) {
    closeGracefully(1);
  }
}

bool ServerConnection::onHandshakeData(std::span<uint8_t>& data) {
  if (refused_) return false;
  for (;;) {
    std::string_view input(reinterpret_cast<const char*>(data.data()), data.size());
    std::string_view head;
    size_t consumed = 0;
    if (!pending_) {
      // The common case: the whole head arrived in one read; parse it where it lies.
      size_t end = protocol::findHeadEnd(input);
      if (end == 0) {
        if (input.size() >= protocol::kMaxHeadSize) {
          refuse({431, "request head larger than 8 KiB", {}});
          return false;
        }
        if (!input.empty()) pending_ = std::make_unique<std::string>(input);
        return false;
      }
      head = input.substr(0, end);
      consumed = end;
    } else {
      // `before` < kMaxHeadSize: a longer pending head was refused with 431 already.
      size_t before = pending_->size();
      pending_->append(input.substr(0, protocol::kMaxHeadSize + 1 - before));
      size_t end = protocol::findHeadEnd(*pending_);
      if (end == 0) {
        if (pending_->size() > protocol::kMaxHeadSize) {
          refuse({431, "request head larger than 8 KiB", {}});
        }
        return false;
      }
      consumed = end - before;
      pending_->resize(end);
      head = *pending_;
    }
    if (head.size() > protocol::kMaxHeadSize) {
      refuse({431, "request head larger than 8 KiB", {}});
      return false;
    }
    bool upgraded = handleHead(head);
    pending_.reset();
    data = data.subspan(consumed);
    if (upgraded || refused_ || isClosed()) return upgraded;
    if (data.empty()) return false;  // keep-alive: wait for the next request
  }
}

bool ServerConnection::handleHead(std::string_view head) {
  if (overLimit_) {
    // Answered at the first request rather than at accept: over TLS that is the only way the
    // client can read why.
    refuse({503, "too many connections", {{"Retry-After", "5"}}});
    return false;
  }
  HttpRequest http;
  HttpError error;
  if (!protocol::parseRequest(head, http, error)) {
    refuse(error);
    return false;
  }
  bool wantsUpgrade = !http.header("Upgrade").empty();
  auto ws = app_->wsRoutes.find(http.path);
  auto get = app_->httpRoutes.find(http.path);
  if (ws.target && (wantsUpgrade || !get.target)) return upgrade(http, *ws.target, ws.wildcard);
  if (get.target) {
    serveHttp(http, *get.target, get.wildcard);
    return false;
  }
  refuse({404, "no route for " + std::string(http.path), {}});
  return false;
}

bool ServerConnection::upgrade(const HttpRequest& http, const WebSocketBehavior& behavior,
                               std::string_view wildcard) {
  protocol::UpgradeRequest upgradeRequest;
  HttpError error;
  if (!protocol::validateUpgrade(http, upgradeRequest, error)) {
    refuse(error);
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
      refuse({status, "upgrade refused by the application", {}});
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
  open(behavior);
  if (behavior.open) behavior.open(*this, request);
  return !isClosed();
}

void ServerConnection::serveHttp(const HttpRequest& http, const HttpHandler& handler,
                                 std::string_view wildcard) {
  bool head = http.method == "HEAD";
  if (http.method != "GET" && !head) {
    refuse({405, "method not allowed", {{"Allow", "GET, HEAD"}}});
    return;
  }
  Request request(http, *this, wildcard);
  HttpResponse response;
  handler(request, response);
  bool keepAlive = http.versionMinor >= 1 &&
                   !protocol::hasToken(http.header("Connection"), "close") && !app_->shuttingDown;
  std::string bytes =
      protocol::writeResponse(response.status, response.headers, response.body, keepAlive);
  // HEAD: the same head as GET, Content-Length included, without the body.
  if (head) bytes.resize(bytes.size() - response.body.size());
  write(bytes);
  if (keepAlive) {
    setDeadline(app_->options.handshakeTimeoutSeconds);
  } else {
    refused_ = true;  // read nothing more
    closeGracefully(kLingerAfterRefusalSeconds);
  }
}

void ServerConnection::refuse(const HttpError& error) {
  DUPLEX_LOG(Debug, "handshake from %s refused: %d %s", remoteAddress().c_str(), error.status,
             error.message.c_str());
  refused_ = true;
  pending_.reset();
  write(protocol::writeErrorResponse(error));
  closeGracefully(kLingerAfterRefusalSeconds);
}

}  // namespace duplex
