#pragma once
// A strict HTTP/1.1 request head parser and response writer (RFC 9110/9112), enough for the
// WebSocket upgrade (handshake.h) and for serving static files. Sans-I/O: it reads a head that
// the caller has already collected and returns views into it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::protocol {

// Larger heads get 431, a larger request line 414.
inline constexpr size_t kMaxHeadSize = 8 * 1024;

struct Header {
  std::string_view name;
  std::string_view value;  // optional whitespace around it removed
};

struct HttpRequest {
  std::string_view method;
  std::string_view target;  // as sent: path plus optional "?query"
  std::string_view path;    // target up to '?'
  std::string_view query;   // after '?', without it; empty when absent
  int versionMinor = 1;     // HTTP/1.<minor>
  std::vector<Header> headers;

  // First header with that name (case-insensitive); empty view when absent.
  std::string_view header(std::string_view name) const;
  size_t headerCount(std::string_view name) const;
};

// A refusal: the status to answer with, a message naming what was wrong, and any headers the
// status requires (426 needs Sec-WebSocket-Version or Upgrade, 405 needs Allow).
struct HttpError {
  int status = 400;
  std::string message;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Length of the head (request line + headers + the empty line) if `data` holds a complete one,
// 0 if more bytes are needed. The caller answers 431 once 0 comes back for kMaxHeadSize bytes.
size_t findHeadEnd(std::string_view data);

// Parses a complete head (as delimited by findHeadEnd). Returns false and fills `error` (400 for
// bad syntax, 505 for a version other than HTTP/1.x) when it is malformed.
bool parseRequest(std::string_view head, HttpRequest& out, HttpError& error);
// The request line alone (without its CRLF), as parseRequest checks it: method, target, path,
// query and version. For a head refused whole (too large) whose request line still says where
// it was going.
bool parseRequestLine(std::string_view line, HttpRequest& out, HttpError& error);
// The beginning of a request line that has not ended within kMaxHeadSize bytes (`received`, no
// LF in it): true when it is a method and an origin-form target that runs on to the end of
// what was received, or is followed by no more than a version would take. Then the target is
// what made the line too long, which RFC 9112 3 answers with 414 (URI Too Long); `out` gets the
// method, and the target, path and query as far as they were received.
bool parseOverlongRequestLine(std::string_view received, HttpRequest& out);

// A response head, for the client side of the handshake.
struct HttpResponse {
  int versionMinor = 1;
  int status = 0;
  std::string_view reason;
  std::vector<Header> headers;

  std::string_view header(std::string_view name) const;
  size_t headerCount(std::string_view name) const;
};

// Parses a complete response head ("HTTP/1.x NNN reason", headers, empty line) with the same
// strictness as parseRequest. Returns false and a message saying what was wrong.
bool parseResponse(std::string_view head, HttpResponse& out, std::string& error);

// RFC 9110 5.6.2: the characters a token (method, header name) may hold.
bool isToken(std::string_view s);
// One tchar of RFC 9110 5.6.2 (the characters a token is made of).
bool isTokenChar(char c);

// Case-insensitive ASCII comparison, and "does this comma-separated token list hold `token`"
// (for Connection: keep-alive, Upgrade and the like; RFC 9110 5.6.1).
bool equalsIgnoreCase(std::string_view a, std::string_view b);
bool hasToken(std::string_view list, std::string_view token);

std::string_view statusText(int status);

// "HTTP/1.1 <status> <text>\r\n" + headers + Content-Length + blank line + body.
std::string writeResponse(int status,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          std::string_view body, bool keepAlive = false);
// The same head for a body of `contentLength` bytes sent separately (a streamed file).
std::string writeResponseHead(int status,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              uint64_t contentLength, bool keepAlive);
// An error as a short text/plain response whose body is the message; always Connection: close.
std::string writeErrorResponse(const HttpError& error);

}  // namespace duplex::protocol
