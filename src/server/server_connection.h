#pragma once
// A connection accepted by an App: HTTP until it upgrades (serving plain GET routes on the way,
// with keep-alive), then a WebSocket.
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "connection/websocket.h"
#include "server/app.h"

namespace duplex {

class ServerConnection final : public WebSocket {
 public:
  ServerConnection(net::Loop& loop, int fd, App::Impl& app);
  ~ServerConnection() override;

  // Shutdown: close 1001 when open, otherwise just end the HTTP exchange.
  void goAway();

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

  // Counts this connection against the limits; false when it is over one of them.
  bool admit();

  friend struct App::Impl;  // links connections into its list
  App::Impl* app_;
  ServerConnection* prevInApp_ = nullptr;  // the App's list of its connections
  ServerConnection* nextInApp_ = nullptr;
  std::pair<const std::string, uint32_t>* ipCount_ = nullptr;  // its IP's entry, when counted
  bool countedOpen_ = false;              // in App::Impl::webSockets (upgraded)
  bool overLimit_ = false;                // answered 503 at its first request
  std::unique_ptr<std::string> pending_;  // a request spanning reads; freed once handled
  bool refused_ = false;
};

}  // namespace duplex
