#include <gtest/gtest.h>

#include "protocol/http.h"

namespace duplex::protocol {
namespace {

TEST(Http, FindHeadEnd) {
  EXPECT_EQ(findHeadEnd(""), 0u);
  EXPECT_EQ(findHeadEnd("GET / HTTP/1.1\r\nHost: a\r\n"), 0u);
  EXPECT_EQ(findHeadEnd("GET / HTTP/1.1\r\nHost: a\r\n\r"), 0u);
  EXPECT_EQ(findHeadEnd("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 27u);
  // Bytes after the head (the first WebSocket frame, a pipelined request) are not part of it.
  EXPECT_EQ(findHeadEnd("GET / HTTP/1.1\r\n\r\nleftover"), 18u);
  // A bare "\n\n" does not end a head.
  EXPECT_EQ(findHeadEnd("GET / HTTP/1.1\n\n"), 0u);
}

TEST(Http, ParsesAValidRequest) {
  const std::string head =
      "GET /chat/room?id=7&x=y HTTP/1.1\r\n"
      "Host: example.com:8080\r\n"
      "Upgrade:websocket\r\n"
      "X-Padded: \t  spaced value \t\r\n"
      "Empty:\r\n"
      "\r\n";
  HttpRequest req;
  HttpError err;
  ASSERT_TRUE(parseRequest(head, req, err)) << err.message;
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/chat/room?id=7&x=y");
  EXPECT_EQ(req.path, "/chat/room");
  EXPECT_EQ(req.query, "id=7&x=y");
  EXPECT_EQ(req.versionMinor, 1);
  ASSERT_EQ(req.headers.size(), 4u);
  EXPECT_EQ(req.header("host"), "example.com:8080");
  EXPECT_EQ(req.header("UPGRADE"), "websocket");
  EXPECT_EQ(req.header("x-padded"), "spaced value");
  EXPECT_EQ(req.header("Empty"), "");
  EXPECT_EQ(req.header("Absent"), "");
  EXPECT_EQ(req.headerCount("Host"), 1u);
  EXPECT_EQ(req.headerCount("Absent"), 0u);
}

TEST(Http, RequestVariants) {
  struct Row {
    std::string line;
    std::string_view method, path, query;
    int minor;
  };
  const Row rows[] = {
      {"GET / HTTP/1.1", "GET", "/", "", 1},
      {"POST /a/b HTTP/1.0", "POST", "/a/b", "", 0},
      {"HEAD /x? HTTP/1.1", "HEAD", "/x", "", 1},
      {"M-SEARCH /%20a?q=1?2 HTTP/1.1", "M-SEARCH", "/%20a", "q=1?2", 1},
  };
  for (const Row& row : rows) {
    const std::string head = row.line + "\r\nHost: h\r\n\r\n";
    HttpRequest req;
    HttpError err;
    ASSERT_TRUE(parseRequest(head, req, err)) << row.line << ": " << err.message;
    EXPECT_EQ(req.method, row.method);
    EXPECT_EQ(req.path, row.path);
    EXPECT_EQ(req.query, row.query);
    EXPECT_EQ(req.versionMinor, row.minor);
  }
}

TEST(Http, DuplicateHeadersAreAllKept) {
  HttpRequest req;
  HttpError err;
  ASSERT_TRUE(parseRequest("GET / HTTP/1.1\r\nA: 1\r\na: 2\r\n\r\n", req, err));
  EXPECT_EQ(req.headerCount("A"), 2u);
  EXPECT_EQ(req.header("A"), "1");
}

struct BadRequest {
  const char* name;
  std::string head;
  int status;
  std::string_view inMessage;  // a word the message must contain
};

TEST(Http, RejectsMalformedHeads) {
  const BadRequest rows[] = {
      {"empty", "", 400, "empty line"},
      {"no request line end", "GET / HTTP/1.1", 400, "empty line"},
      {"missing version", "GET /\r\n\r\n", 400, "request line"},
      {"only a method", "GET\r\n\r\n", 400, "request line"},
      {"double space", "GET  / HTTP/1.1\r\n\r\n", 400, "target"},
      {"space in target", "GET /a b HTTP/1.1\r\n\r\n", 400, "version"},
      {"trailing space", "GET / HTTP/1.1 \r\n\r\n", 400, "version"},
      {"method with a slash", "G/ET / HTTP/1.1\r\n\r\n", 400, "method"},
      {"method with a colon", "GET: / HTTP/1.1\r\n\r\n", 400, "method"},
      {"absolute-form target", "GET http://a/ HTTP/1.1\r\n\r\n", 400, "target"},
      {"asterisk target", "OPTIONS * HTTP/1.1\r\n\r\n", 400, "target"},
      {"fragment in target", "GET /a#b HTTP/1.1\r\n\r\n", 400, "target"},
      {"control character in target", "GET /a\x01 HTTP/1.1\r\n\r\n", 400, "target"},
      {"non-ASCII in target", "GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 400, "target"},
      {"lowercase version", "GET / http/1.1\r\n\r\n", 400, "version"},
      {"version without minor", "GET / HTTP/1\r\n\r\n", 400, "version"},
      {"version with letters", "GET / HTTP/1.x\r\n\r\n", 400, "version"},
      {"HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 505, "version"},
      {"HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 505, "version"},
      {"whitespace before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "Host"},
      {"tab before colon", "GET / HTTP/1.1\r\nUpgrade\t: a\r\n\r\n", 400, "Upgrade"},
      {"obs-fold", "GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", 400, "obs-fold"},
      {"obs-fold with tab", "GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n", 400, "obs-fold"},
      {"no colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", 400, "colon"},
      {"empty name", "GET / HTTP/1.1\r\n: a\r\n\r\n", 400, "header name"},
      {"name with a space", "GET / HTTP/1.1\r\nX A: b\r\n\r\n", 400, "X A"},
      {"name with non-token", "GET / HTTP/1.1\r\nX(A): b\r\n\r\n", 400, "X(A)"},
      {"NUL in value", std::string("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 28), 400, "X-A"},
      {"DEL in value", "GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n", 400, "X-A"},
      {"bare LF line end", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "bare"},
      {"bare CR in a header", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400, "bare"},
      {"bare LF in a header", "GET / HTTP/1.1\r\nHost: a\nb\r\n\r\n", 400, "bare"},
      {"no empty line", "GET / HTTP/1.1\r\nHost: a\r\n", 400, "empty line"},
      {"bytes after the head", "GET / HTTP/1.1\r\n\r\nxyz", 400, "after"},
  };
  for (const BadRequest& row : rows) {
    HttpRequest req;
    HttpError err;
    EXPECT_FALSE(parseRequest(row.head, req, err)) << row.name;
    EXPECT_EQ(err.status, row.status) << row.name;
    EXPECT_NE(err.message.find(row.inMessage), std::string::npos)
        << row.name << ": '" << err.message << "' lacks '" << row.inMessage << "'";
  }
}

TEST(Http, TokensAndCase) {
  EXPECT_TRUE(equalsIgnoreCase("WebSocket", "websocket"));
  EXPECT_TRUE(equalsIgnoreCase("", ""));
  EXPECT_FALSE(equalsIgnoreCase("websocket", "websockets"));
  EXPECT_FALSE(equalsIgnoreCase("a", "b"));
  // Only ASCII letters fold: '@' (0x40) and '`' (0x60) differ.
  EXPECT_FALSE(equalsIgnoreCase("@", "`"));

  const std::tuple<std::string_view, std::string_view, bool> rows[] = {
      {"Upgrade", "upgrade", true},
      {"keep-alive, Upgrade", "upgrade", true},
      {"keep-alive,Upgrade", "upgrade", true},
      {"  upgrade  ", "upgrade", true},
      {"\tUpgrade\t, close", "upgrade", true},
      {"upgraded", "upgrade", false},
      {"xupgrade", "upgrade", false},
      {"keep-alive", "upgrade", false},
      {"", "upgrade", false},
      {",,", "upgrade", false},
      {"websocket", "websocket", true},
  };
  for (const auto& [list, token, found] : rows) {
    EXPECT_EQ(hasToken(list, token), found) << "'" << list << "' / " << token;
  }
  EXPECT_TRUE(isToken("Sec-WebSocket-Key"));
  EXPECT_TRUE(isToken("!#$%&'*+-.^_`|~09azAZ"));
  EXPECT_FALSE(isToken(""));
  EXPECT_FALSE(isToken("a b"));
  EXPECT_FALSE(isToken("a:b"));
  EXPECT_FALSE(isToken("a\"b"));
}

TEST(Http, StatusTextForEveryStatusWeUse) {
  const std::pair<int, std::string_view> rows[] = {
      {101, "Switching Protocols"},
      {200, "OK"},
      {204, "No Content"},
      {304, "Not Modified"},
      {400, "Bad Request"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {408, "Request Timeout"},
      {413, "Content Too Large"},
      {414, "URI Too Long"},
      {426, "Upgrade Required"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {503, "Service Unavailable"},
      {505, "HTTP Version Not Supported"},
  };
  for (const auto& [status, text] : rows) EXPECT_EQ(statusText(status), text) << status;
  EXPECT_EQ(statusText(299), "Unknown");
}

TEST(Http, AnOverlongRequestLineIsBlamedOnItsTargetOnlyWhenTheTargetIsWhatRunsOn) {
  const std::string target = "/api/publish?pad=" + std::string(8100, 'p');
  HttpRequest http;
  // The target runs on past what was received: method, target, path and query so far (views
  // into the line).
  const std::string line = "POST " + target;
  ASSERT_TRUE(parseOverlongRequestLine(line, http));
  EXPECT_EQ(http.method, "POST");
  EXPECT_EQ(http.target, target);
  EXPECT_EQ(http.path, "/api/publish");
  EXPECT_EQ(http.query, "pad=" + std::string(8100, 'p'));
  // Ended, and followed by a version still arriving (or whole, with its CR).
  EXPECT_TRUE(parseOverlongRequestLine("GET " + target + " HTTP/1.", http));
  EXPECT_TRUE(parseOverlongRequestLine("GET " + target + " HTTP/1.1\r", http));
  // Whatever follows the target is longer than a version: the line is malformed instead.
  EXPECT_FALSE(parseOverlongRequestLine("GET " + target + " HTTP/1.1\rXX", http));
  EXPECT_FALSE(parseOverlongRequestLine("GET /a " + std::string(8100, 'v'), http));
  // No method, a method that is no token, no target, or not origin-form.
  EXPECT_FALSE(parseOverlongRequestLine(std::string(8192, 'M'), http));
  EXPECT_FALSE(parseOverlongRequestLine("G(T " + target, http));
  EXPECT_FALSE(parseOverlongRequestLine("GET  " + target, http));
  EXPECT_FALSE(parseOverlongRequestLine("GET http://x" + target, http));
  EXPECT_FALSE(parseOverlongRequestLine("GET /a\x01" + target, http));
}

TEST(Http, WriteResponse) {
  EXPECT_EQ(writeResponse(200, {{"Content-Type", "text/plain"}}, "hello"),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 5\r\n"
            "Connection: close\r\n"
            "\r\n"
            "hello");
  EXPECT_EQ(writeResponse(404, {}, "", true),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  // RFC 9110 8.6: no Content-Length on 204 (nor on 304, whose body is always empty).
  EXPECT_EQ(writeResponse(204, {}, "", true), "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(writeResponse(304, {{"ETag", "\"x\""}}, "", true),
            "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n");
}

TEST(Http, WriteErrorResponse) {
  HttpError err;
  err.status = 426;
  err.message = "unsupported Sec-WebSocket-Version";
  err.headers = {{"Sec-WebSocket-Version", "13"}};
  const std::string out = writeErrorResponse(err);
  EXPECT_EQ(out.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nContent-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nConnection: close\r\n"), std::string::npos);
  const std::string body = err.message + "\n";
  EXPECT_NE(out.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos);
  EXPECT_EQ(out.substr(out.size() - body.size()), body);
  // And it is itself a well-formed response head.
  HttpResponse parsed;
  std::string why;
  ASSERT_TRUE(parseResponse(out.substr(0, out.size() - body.size()), parsed, why)) << why;
  EXPECT_EQ(parsed.status, 426);
}

TEST(Http, ParseResponse) {
  HttpResponse r;
  std::string err;
  ASSERT_TRUE(
      parseResponse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", r, err))
      << err;
  EXPECT_EQ(r.status, 101);
  EXPECT_EQ(r.reason, "Switching Protocols");
  EXPECT_EQ(r.header("upgrade"), "websocket");
  ASSERT_TRUE(parseResponse("HTTP/1.0 200\r\n\r\n", r, err)) << err;  // reason is optional
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.versionMinor, 0);
  EXPECT_EQ(r.reason, "");
  for (std::string_view bad :
       {"HTTP/1.1 10 Short\r\n\r\n", "HTTP/2.0 101 X\r\n\r\n", "HTTP/1.1 1O1 X\r\n\r\n",
        "HTTP/1.1  101 X\r\n\r\n", "HTTP/1.1 101X\r\n\r\n", "ICY 200 OK\r\n\r\n",
        "HTTP/1.1 101 OK\r\nBad Header: x\r\n\r\n"}) {
    EXPECT_FALSE(parseResponse(bad, r, err)) << bad;
  }
}

}  // namespace
}  // namespace duplex::protocol
