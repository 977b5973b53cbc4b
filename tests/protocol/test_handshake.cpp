#include <gtest/gtest.h>

#include "protocol/handshake.h"

namespace duplex::protocol {
namespace {

// RFC 6455 1.3 and 4.2.2. (Beware: "s3pPLMBiTxaQ9kxEnEmAuJPZgo0=", which circulates in some
// notes, is not what the RFC or any implementation computes.)
TEST(Handshake, RfcAcceptExample) {
  EXPECT_EQ(computeAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Handshake, ClientKeyIsBase64OfTheNonce) {
  // RFC 6455 4.1's example nonce is "the sample nonce".
  const std::string_view nonce = "the sample nonce";
  uint8_t bytes[16];
  std::copy(nonce.begin(), nonce.end(), bytes);
  EXPECT_EQ(makeClientKey(std::span<const uint8_t, 16>(bytes)), "dGhlIHNhbXBsZSBub25jZQ==");
}

const char* const kGoodKey = "dGhlIHNhbXBsZSBub25jZQ==";

std::string requestWith(const std::string& extraLines,
                        const std::string& requestLine = "GET /chat HTTP/1.1") {
  return requestLine + "\r\n" + extraLines + "\r\n";
}

std::string goodHeaders() {
  return "Host: server.example.com\r\n"
         "Upgrade: websocket\r\n"
         "Connection: Upgrade\r\n"
         "Sec-WebSocket-Key: " +
         std::string(kGoodKey) +
         "\r\n"
         "Sec-WebSocket-Version: 13\r\n";
}

bool validate(const std::string& head, UpgradeRequest& out, HttpError& error) {
  HttpRequest req;
  if (!parseRequest(head, req, error)) {
    ADD_FAILURE() << "did not parse: " << error.message;
    return false;
  }
  return validateUpgrade(req, out, error);
}

TEST(Handshake, AcceptsTheRfcRequest) {
  const std::string head =
      requestWith(goodHeaders() +
                  "Origin: http://example.com\r\n"
                  "Sec-WebSocket-Protocol: chat, superchat\r\n"
                  "Sec-WebSocket-Protocol: v2.duplex\r\n"
                  "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                  "Sec-WebSocket-Extensions: x-other\r\n");
  UpgradeRequest up;
  HttpError err;
  ASSERT_TRUE(validate(head, up, err)) << err.message;
  EXPECT_EQ(up.key, kGoodKey);
  EXPECT_EQ(up.origin, "http://example.com");
  EXPECT_EQ(up.protocols, (std::vector<std::string_view>{"chat", "superchat", "v2.duplex"}));
  EXPECT_EQ(up.extensions, (std::vector<std::string_view>{
                               "permessage-deflate; client_max_window_bits", "x-other"}));
}

TEST(Handshake, AcceptsCommonVariations) {
  const std::string rows[] = {
      // Case-insensitive names and tokens; token lists; headers in any order.
      "host: h\r\nupgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n"
      "sec-websocket-version: 13\r\nsec-websocket-key: " +
          std::string(kGoodKey) + "\r\n",
      // Connection token on a second line (RFC 9110 5.3 allows combining lines).
      "Host: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nConnection: upgrade\r\n"
      "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n",
  };
  for (const std::string& headers : rows) {
    UpgradeRequest up;
    HttpError err;
    EXPECT_TRUE(validate(requestWith(headers), up, err)) << err.message << "\n" << headers;
    EXPECT_TRUE(up.origin.empty());
    EXPECT_TRUE(up.protocols.empty());
  }
}

struct Rejection {
  const char* name;
  std::string head;
  int status;
  std::string_view named;  // what the message must mention
  std::pair<std::string, std::string> requiredHeader = {};
};

std::string without(std::string headers, std::string_view name) {
  const size_t at = headers.find(std::string(name) + ":");
  const size_t end = headers.find("\r\n", at);
  headers.erase(at, end + 2 - at);
  return headers;
}

std::string replaced(std::string headers, std::string_view name, std::string_view value) {
  return without(std::move(headers), name) + std::string(name) + ": " + std::string(value) + "\r\n";
}

TEST(Handshake, RejectsEachInvalidRequestWithItsStatus) {
  const std::string good = goodHeaders();
  const Rejection rows[] = {
      {"POST", requestWith(good, "POST /chat HTTP/1.1"), 405, "GET", {"Allow", "GET"}},
      {"HEAD", requestWith(good, "HEAD /chat HTTP/1.1"), 405, "GET", {"Allow", "GET"}},
      {"lowercase get", requestWith(good, "get /chat HTTP/1.1"), 405, "GET", {"Allow", "GET"}},
      {"HTTP/1.0", requestWith(good, "GET /chat HTTP/1.0"), 400, "HTTP/1.1"},
      {"no Host", requestWith(without(good, "Host")), 400, "Host"},
      {"two Hosts", requestWith(good + "Host: other\r\n"), 400, "Host"},
      {"no Upgrade",
       requestWith(without(good, "Upgrade")),
       426,
       "Upgrade",
       {"Upgrade", "websocket"}},
      {"Upgrade: h2c", requestWith(replaced(good, "Upgrade", "h2c")), 400, "Upgrade"},
      {"Upgrade: websockets", requestWith(replaced(good, "Upgrade", "websockets")), 400, "Upgrade"},
      {"no Connection", requestWith(without(good, "Connection")), 400, "Connection"},
      {"Connection: keep-alive", requestWith(replaced(good, "Connection", "keep-alive")), 400,
       "Connection"},
      {"no key", requestWith(without(good, "Sec-WebSocket-Key")), 400, "Sec-WebSocket-Key"},
      {"empty key", requestWith(replaced(good, "Sec-WebSocket-Key", "")), 400, "Sec-WebSocket-Key"},
      {"key of 15 bytes", requestWith(replaced(good, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j")),
       400, "Sec-WebSocket-Key"},
      {"key of 17 bytes",
       requestWith(replaced(good, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZXM=")), 400,
       "Sec-WebSocket-Key"},
      {"key without padding",
       requestWith(replaced(good, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ")), 400,
       "Sec-WebSocket-Key"},
      {"key with a bad character",
       requestWith(replaced(good, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZ!==")), 400,
       "Sec-WebSocket-Key"},
      {"key with bad padding",
       requestWith(replaced(good, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=A")), 400,
       "Sec-WebSocket-Key"},
      {"duplicate key", requestWith(good + "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"), 400,
       "Sec-WebSocket-Key"},
      {"no version",
       requestWith(without(good, "Sec-WebSocket-Version")),
       426,
       "Sec-WebSocket-Version",
       {"Sec-WebSocket-Version", "13"}},
      {"version 8",
       requestWith(replaced(good, "Sec-WebSocket-Version", "8")),
       426,
       "Sec-WebSocket-Version",
       {"Sec-WebSocket-Version", "13"}},
      {"version 13, 8",
       requestWith(replaced(good, "Sec-WebSocket-Version", "13, 8")),
       426,
       "Sec-WebSocket-Version",
       {"Sec-WebSocket-Version", "13"}},
      {"duplicate version", requestWith(good + "Sec-WebSocket-Version: 13\r\n"), 400,
       "Sec-WebSocket-Version"},
      {"protocol that is not a token", requestWith(good + "Sec-WebSocket-Protocol: chat, a b\r\n"),
       400, "Sec-WebSocket-Protocol"},
  };
  for (const Rejection& row : rows) {
    UpgradeRequest up;
    HttpError err;
    EXPECT_FALSE(validate(row.head, up, err)) << row.name;
    EXPECT_EQ(err.status, row.status) << row.name << ": " << err.message;
    EXPECT_NE(err.message.find(row.named), std::string::npos)
        << row.name << ": '" << err.message << "' does not name " << row.named;
    if (!row.requiredHeader.first.empty()) {
      EXPECT_EQ(err.headers, (std::vector<std::pair<std::string, std::string>>{row.requiredHeader}))
          << row.name;
    } else {
      EXPECT_TRUE(err.headers.empty()) << row.name;
    }
  }
}

TEST(Handshake, UpgradeResponse) {
  EXPECT_EQ(writeUpgradeResponse(kGoodKey),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "\r\n");
  EXPECT_EQ(writeUpgradeResponse(kGoodKey, "chat", "permessage-deflate"),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: chat\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate\r\n"
            "\r\n");
}

// The client's request passes the server's validation, and the server's answer passes the
// client's check: both halves agree.
TEST(Handshake, ClientAndServerAgree) {
  ClientRequest creq;
  creq.host = "localhost:9001";
  creq.path = "/echo?x=1";
  creq.key = kGoodKey;
  creq.protocols = {"chat", "superchat"};
  creq.extensions = "permessage-deflate";
  creq.origin = "http://localhost";
  creq.extraHeaders = {{"Authorization", "Bearer t"}};
  const std::string request = writeClientRequest(creq);
  EXPECT_EQ(request,
            "GET /echo?x=1 HTTP/1.1\r\n"
            "Host: localhost:9001\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: chat, superchat\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate\r\n"
            "Origin: http://localhost\r\n"
            "Authorization: Bearer t\r\n"
            "\r\n");
  UpgradeRequest up;
  HttpError err;
  ASSERT_TRUE(validate(request, up, err)) << err.message;
  EXPECT_EQ(up.protocols, creq.protocols);

  const std::string response = writeUpgradeResponse(up.key, "superchat", "permessage-deflate");
  UpgradeResponse resp;
  std::string why;
  ASSERT_TRUE(parseUpgradeResponse(response, creq.key, creq.protocols, resp, why)) << why;
  EXPECT_EQ(resp.status, 101);
  EXPECT_EQ(resp.protocol, "superchat");
  EXPECT_EQ(resp.extensions, "permessage-deflate");
}

TEST(Handshake, ClientRequestWithoutOptions) {
  ClientRequest creq;
  creq.host = "h";
  creq.path = "/";
  creq.key = kGoodKey;
  EXPECT_EQ(writeClientRequest(creq),
            "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
}

struct ResponseCase {
  const char* name;
  std::string head;
  bool ok;
  std::string_view inError;
};

TEST(Handshake, ClientChecksTheResponse) {
  const std::string accept = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
  const std::string upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
  const std::string line = "HTTP/1.1 101 Switching Protocols\r\n";
  const ResponseCase rows[] = {
      {"valid", line + upgrade + accept + "\r\n", true, ""},
      {"valid, case-insensitive tokens",
       line + "upgrade: WebSocket\r\nconnection: upgrade\r\n" + accept + "\r\n", true, ""},
      {"valid, offered protocol", line + upgrade + accept + "Sec-WebSocket-Protocol: chat\r\n\r\n",
       true, ""},
      {"403", "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", false, "403"},
      {"200", "HTTP/1.1 200 OK\r\n\r\n", false, "200"},
      {"426", "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\r\n", false, "426"},
      {"malformed status line", "HTTP/1.1 1O1 X\r\n\r\n", false, "status line"},
      {"no Upgrade", line + "Connection: Upgrade\r\n" + accept + "\r\n", false, "Upgrade"},
      {"wrong Upgrade", line + "Upgrade: h2c\r\nConnection: Upgrade\r\n" + accept + "\r\n", false,
       "Upgrade"},
      {"no Connection", line + "Upgrade: websocket\r\n" + accept + "\r\n", false, "Connection"},
      {"no Accept", line + upgrade + "\r\n", false, "Sec-WebSocket-Accept"},
      {"wrong Accept",
       line + upgrade + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOp=\r\n\r\n", false,
       "Sec-WebSocket-Accept"},
      {"two Accepts", line + upgrade + accept + accept + "\r\n", false, "Sec-WebSocket-Accept"},
      {"protocol not offered", line + upgrade + accept + "Sec-WebSocket-Protocol: other\r\n\r\n",
       false, "other"},
      {"protocol list instead of one",
       line + upgrade + accept + "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n", false,
       "Sec-WebSocket-Protocol"},
      {"two protocol headers",
       line + upgrade + accept +
           "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: superchat\r\n\r\n",
       false, "Sec-WebSocket-Protocol"},
  };
  const std::vector<std::string_view> offered = {"chat", "superchat"};
  for (const ResponseCase& row : rows) {
    UpgradeResponse resp;
    std::string error;
    EXPECT_EQ(parseUpgradeResponse(row.head, kGoodKey, offered, resp, error), row.ok)
        << row.name << ": " << error;
    if (!row.ok) {
      EXPECT_NE(error.find(row.inError), std::string::npos)
          << row.name << ": '" << error << "' lacks '" << row.inError << "'";
    }
  }
  // With nothing offered, any protocol in the answer is an error.
  UpgradeResponse resp;
  std::string error;
  EXPECT_FALSE(parseUpgradeResponse(
      line + upgrade + accept + "Sec-WebSocket-Protocol: chat\r\n\r\n", kGoodKey, {}, resp, error));
}

}  // namespace
}  // namespace duplex::protocol
