#include "protocol/handshake.h"

#include <algorithm>

#include "protocol/base64.h"
#include "protocol/sha1.h"

namespace duplex::protocol {
namespace {

// RFC 6455 1.3.
constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool reject(HttpError& error, int status, std::string message) {
  error.status = status;
  error.message = std::move(message);
  return false;
}

// Some clients send a token list over several header lines; a token in any of them counts.
template <typename Message>
bool anyHeaderHasToken(const Message& m, std::string_view name, std::string_view token) {
  return std::any_of(m.headers.begin(), m.headers.end(), [&](const Header& h) {
    return equalsIgnoreCase(h.name, name) && hasToken(h.value, token);
  });
}

// RFC 6455 4.1: the key is a base64-encoded 16-byte nonce, so exactly 24 characters.
bool isValidKey(std::string_view key) {
  if (key.size() != 24) return false;
  const auto decoded = base64Decode(key);
  return decoded && decoded->size() == 16;
}

}  // namespace

bool validateUpgrade(const HttpRequest& request, UpgradeRequest& out, HttpError& error) {
  error = HttpError{};
  if (request.method != "GET") {
    error.headers.emplace_back("Allow", "GET");
    return reject(error, 405, "a WebSocket upgrade must use GET");
  }
  if (request.versionMinor < 1) return reject(error, 400, "a WebSocket upgrade needs HTTP/1.1");
  // RFC 9112 3.2: no Host, or more than one, is a 400.
  const size_t hosts = request.headerCount("Host");
  if (hosts == 0) return reject(error, 400, "missing Host header");
  if (hosts > 1) return reject(error, 400, "duplicate Host header");

  if (request.headerCount("Upgrade") == 0) {
    error.headers.emplace_back("Upgrade", "websocket");
    return reject(error, 426, "missing Upgrade header");
  }
  if (!anyHeaderHasToken(request, "Upgrade", "websocket")) {
    return reject(error, 400, "Upgrade header does not contain 'websocket'");
  }
  if (!anyHeaderHasToken(request, "Connection", "upgrade")) {
    return reject(error, 400, "Connection header does not contain 'upgrade'");
  }

  const size_t keys = request.headerCount("Sec-WebSocket-Key");
  if (keys == 0) return reject(error, 400, "missing Sec-WebSocket-Key header");
  if (keys > 1) return reject(error, 400, "duplicate Sec-WebSocket-Key header");
  const std::string_view key = request.header("Sec-WebSocket-Key");
  if (!isValidKey(key)) {
    return reject(error, 400, "Sec-WebSocket-Key is not the base64 of 16 bytes");
  }

  const size_t versions = request.headerCount("Sec-WebSocket-Version");
  if (versions > 1) return reject(error, 400, "duplicate Sec-WebSocket-Version header");
  if (versions == 0 || request.header("Sec-WebSocket-Version") != "13") {
    // RFC 6455 4.4: answer with the versions we speak, so that the client can retry.
    error.headers.emplace_back("Sec-WebSocket-Version", "13");
    return reject(error, 426,
                  versions == 0 ? "missing Sec-WebSocket-Version header"
                                : "unsupported Sec-WebSocket-Version (we speak 13)");
  }

  out = UpgradeRequest{};
  out.key = key;
  out.origin = request.header("Origin");
  for (const Header& h : request.headers) {
    if (equalsIgnoreCase(h.name, "Sec-WebSocket-Protocol")) {
      // RFC 6455 4.1: a comma-separated list of tokens, possibly over several lines.
      std::string_view list = h.value;
      while (true) {
        const size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
          item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (!item.empty()) {
          if (!isToken(item)) return reject(error, 400, "invalid Sec-WebSocket-Protocol token");
          out.protocols.push_back(item);
        }
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
      }
    } else if (equalsIgnoreCase(h.name, "Sec-WebSocket-Extensions")) {
      out.extensions.push_back(h.value);
    }
  }
  return true;
}

std::string computeAccept(std::string_view key) {
  std::string input;
  input.reserve(key.size() + kAcceptGuid.size());
  input += key;
  input += kAcceptGuid;
  const auto digest = sha1(input);
  return base64Encode(digest);
}

std::string writeUpgradeResponse(std::string_view key, std::string_view protocol,
                                 std::string_view extensions) {
  std::string out =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ";
  out += computeAccept(key);
  out += "\r\n";
  if (!protocol.empty()) {
    out += "Sec-WebSocket-Protocol: ";
    out += protocol;
    out += "\r\n";
  }
  if (!extensions.empty()) {
    out += "Sec-WebSocket-Extensions: ";
    out += extensions;
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

std::string makeClientKey(std::span<const uint8_t, 16> nonce16) {
  return base64Encode(nonce16);
}

std::string writeClientRequest(const ClientRequest& request) {
  std::string out = "GET ";
  out += request.path.empty() ? std::string_view("/") : request.path;
  out += " HTTP/1.1\r\nHost: ";
  out += request.host;
  out +=
      "\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Key: ";
  out += request.key;
  out += "\r\nSec-WebSocket-Version: 13\r\n";
  if (!request.protocols.empty()) {
    out += "Sec-WebSocket-Protocol: ";
    for (size_t i = 0; i < request.protocols.size(); ++i) {
      if (i > 0) out += ", ";
      out += request.protocols[i];
    }
    out += "\r\n";
  }
  if (!request.extensions.empty()) {
    out += "Sec-WebSocket-Extensions: ";
    out += request.extensions;
    out += "\r\n";
  }
  if (!request.origin.empty()) {
    out += "Origin: ";
    out += request.origin;
    out += "\r\n";
  }
  for (const Header& h : request.extraHeaders) {
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

bool parseUpgradeResponse(std::string_view head, std::string_view key,
                          const std::vector<std::string_view>& offeredProtocols,
                          UpgradeResponse& out, std::string& error) {
  HttpResponse response;
  if (!parseResponse(head, response, error)) return false;
  out = UpgradeResponse{};
  out.status = response.status;
  out.headers = response.headers;
  if (response.status != 101) {
    error = "expected status 101, got " + std::to_string(response.status);
    if (!response.reason.empty()) error += " " + std::string(response.reason);
    return false;
  }
  if (!anyHeaderHasToken(response, "Upgrade", "websocket")) {
    error = "Upgrade header does not contain 'websocket'";
    return false;
  }
  if (!anyHeaderHasToken(response, "Connection", "upgrade")) {
    error = "Connection header does not contain 'upgrade'";
    return false;
  }
  if (response.headerCount("Sec-WebSocket-Accept") != 1 ||
      response.header("Sec-WebSocket-Accept") != computeAccept(key)) {
    error = "Sec-WebSocket-Accept does not match the key";
    return false;
  }
  // RFC 6455 4.1: the server picks at most one of the protocols we offered.
  const size_t protocols = response.headerCount("Sec-WebSocket-Protocol");
  if (protocols > 1) {
    error = "more than one Sec-WebSocket-Protocol header";
    return false;
  }
  if (protocols == 1) {
    const std::string_view chosen = response.header("Sec-WebSocket-Protocol");
    if (std::find(offeredProtocols.begin(), offeredProtocols.end(), chosen) ==
        offeredProtocols.end()) {
      error = "Sec-WebSocket-Protocol '" + std::string(chosen) + "' was not offered";
      return false;
    }
    out.protocol = chosen;
  }
  out.extensions = response.header("Sec-WebSocket-Extensions");
  return true;
}

}  // namespace duplex::protocol
