#pragma once
// An HTTP request as handlers see it: the upgrade request in WebSocketBehavior::open/accept, or a
// plain GET in an HTTP route. A view over the connection's buffers: valid during the call only.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/http.h"

namespace duplex {

namespace net {
class Socket;
}

class Request {
 public:
  Request(const protocol::HttpRequest& http, const net::Socket& socket, std::string_view wildcard)
      : http_(http), socket_(socket), wildcard_(wildcard) {}

  std::string_view method() const { return http_.method; }
  std::string_view path() const { return http_.path; }
  std::string_view query() const { return http_.query; }
  // The value of one query parameter, percent-decoded; nullopt when absent.
  std::optional<std::string> queryParam(std::string_view name) const;
  // First header with that name (case-insensitive); empty when absent.
  std::string_view header(std::string_view name) const { return http_.header(name); }
  const std::vector<protocol::Header>& headers() const { return http_.headers; }
  // The part of the path that a route's trailing "*" matched ("a/b.css" for "/static/*").
  std::string_view wildcard() const { return wildcard_; }
  // The chosen subprotocol of a WebSocket upgrade; empty when none.
  std::string_view subprotocol() const { return subprotocol_; }
  // The request body (POST routes); empty for GETs and upgrades.
  std::string_view body() const { return body_; }
  std::string remoteAddress() const;

  void setSubprotocol(std::string_view protocol) { subprotocol_ = protocol; }
  void setBody(std::string_view body) { body_ = body; }
  const protocol::HttpRequest& http() const { return http_; }

 private:
  const protocol::HttpRequest& http_;
  const net::Socket& socket_;
  std::string_view wildcard_;
  std::string_view subprotocol_;
  std::string_view body_;
};

// "%41b+c" -> "Ab c" (the application/x-www-form-urlencoded rules for query strings).
std::string percentDecode(std::string_view text, bool plusIsSpace);

}  // namespace duplex
