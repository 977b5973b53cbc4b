#pragma once
// A connection accepted by an App: HTTP until it upgrades (serving plain GET routes on the way,
// with keep-alive), then a WebSocket.
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "connection/websocket.h"
#include "server/app.h"

namespace duplex {

// What a LaterResponse shares with its connection.
struct LaterResponse::State {
  HttpResponse response;
  ServerConnection* connection = nullptr;  // null once the client is gone
  bool head = false;                       // the request's: HEAD gets no body
  bool keepAlive = false;                  // the request's: whether the connection stays open after
  bool sent = false;
  // The access log's line, written when the answer is sent (only when info is logged).
  bool logged = false;
  std::chrono::steady_clock::time_point started;
  std::string method;
  std::string path;
};

class ServerConnection final : public WebSocket {
 public:
  ServerConnection(net::Loop& loop, int fd, App::Impl& app);
  ~ServerConnection() override;

  // Shutdown: close 1001 when open, otherwise just end the HTTP exchange.
  void goAway();

  // HttpResponse::later(): the handler now running answers later.
  LaterResponse answerLater();
  // LaterResponse::send(): the answer has come.
  void sendLater(LaterResponse::State& state);

 private:
  bool onHandshakeData(std::span<uint8_t>& data) override;
  // Handles one complete request; true when the connection became a WebSocket.
  bool handleRequest(const protocol::HttpRequest& http, std::string_view body);
  bool bodyLength(const protocol::HttpRequest& http, size_t& size, protocol::HttpError& error);
  bool upgrade(const protocol::HttpRequest& http, const WebSocketBehavior& behavior,
               std::string_view wildcard);
  void serveHttp(const protocol::HttpRequest& http, std::string_view body,
                 const HttpHandler& handler, std::string_view wildcard);
  // Answers the error and closes; `http` (when the head was parsed) names the request in the log.
  void refuse(const protocol::HttpError& error, const protocol::HttpRequest* http = nullptr);
  // A head over 8 KiB: 414 when the request line alone is over it (a long target), else 431.
  void refuseOverlongHead(std::string_view buffer);
  // The refusal's response: the path's RefusalWriter's (App::refusals) or text/plain.
  std::string refusalBytes(const protocol::HttpError& error,
                           const protocol::HttpRequest* http) const;
  // Writes a handler's response; then the connection waits for the next request or closes.
  void respond(HttpResponse& response, bool head, bool keepAlive);
  void logAccess(std::string_view method, std::string_view path, int status,
                 std::chrono::steady_clock::time_point started);
  // The exchange is over (the response, and a streamed body, have been queued).
  void finishExchange(bool keepAlive);
  // Queues the streamed file's next pieces; true once all of it is queued.
  bool streamMore();
  void onHandshakeDrain() override;
  // While a response is pending (answered later, or a file still streaming), what the client
  // sends is kept in pending_ and handled once the response is out.
  bool busy() const { return exchange_ && (exchange_->later || exchange_->streaming); }
  void handlePendingInput();

  // Counts this connection against the limits; false when it is over one of them.
  bool admit();

  // An HTTP exchange that outlives the handler's call: an answer given later, or a file body
  // sent as the socket drains. Allocated when one starts and freed when it ends, so that a
  // WebSocket (and a connection that never needed either) pays one null pointer for it all
  // (docs/performance.md, "memory per idle connection").
  struct Exchange {
    std::shared_ptr<LaterResponse::State> later;  // a response its handler answers later
    std::shared_ptr<FileBody> streaming;          // a file body being sent as the socket drains
    uint64_t streamed = 0;
    bool streamKeepAlive = false;
  };
  Exchange& exchange() {
    if (!exchange_) exchange_ = std::make_unique<Exchange>();
    return *exchange_;
  }
  // Frees the Exchange once neither of its parts is in progress.
  void endExchangeIfIdle() {
    if (exchange_ && !exchange_->later && !exchange_->streaming) exchange_.reset();
  }

  friend struct App::Impl;  // finds its own connections among a loop's sockets
  App::Impl* app_;
  std::pair<const std::string, uint32_t>* ipCount_ = nullptr;  // its IP's entry, when counted
  std::unique_ptr<std::string> pending_;  // a request spanning reads; freed once handled
  std::unique_ptr<Exchange> exchange_;    // null unless an exchange outlives its handler
  bool countedOpen_ : 1 = false;          // in App::Impl::webSockets (upgraded)
  bool overLimit_ : 1 = false;            // answered 503 at its first request
  bool refused_ : 1 = false;
};

}  // namespace duplex
