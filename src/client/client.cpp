#include "client/client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "client/url.h"
#include "net/address.h"
#include "net/random.h"
#include "net/tls_context.h"
#include "net/tls_session.h"
#include "protocol/handshake.h"
#include "protocol/permessage_deflate.h"

namespace duplex {
namespace {

// A server's 101 head is small; anything this large is not a WebSocket server.
constexpr size_t kMaxResponseHead = 16 * 1024;

class ClientConnection final : public WebSocket {
 public:
  ClientConnection(net::Loop& loop, int fd, const WebSocketUrl& url, ClientBehavior client)
      : WebSocket(loop, fd, protocol::Role::Client), client_(std::move(client)) {
    // The route-like behavior the shared WebSocket code runs on.
    routeBehavior_.message = client_.message;
    routeBehavior_.close = client_.close;
    routeBehavior_.drain = client_.drain;
    routeBehavior_.ping = client_.ping;
    routeBehavior_.pong = client_.pong;
    static_cast<protocol::ConnectionLimits&>(routeBehavior_) = client_;

    uint8_t nonce[16];
    net::secureRandom(nonce, sizeof nonce);
    key_ = protocol::makeClientKey(std::span<const uint8_t, 16>(nonce, 16));
    std::string host = url.hostHeader();
    protocol::ClientRequest request;
    request.host = host;
    request.path = url.target;
    request.key = key_;
    request.origin = client_.origin;
    for (const std::string& p : client_.subprotocols) request.protocols.push_back(p);
    for (auto& [name, value] : client_.headers) request.extraHeaders.push_back({name, value});
    std::string offer;
    if (client_.compression.enabled) {
      deflateOffer_ = protocol::makeDeflateOffer(client_.compression);
      offer = deflateOffer_.headerValue();
      request.extensions = offer;
    }
    // Queued now, sent by the end-of-iteration flush once the TCP connection is up.
    write(protocol::writeClientRequest(request));
    setDeadline(client_.handshakeTimeoutSeconds);
  }

 private:
  bool onHandshakeData(std::span<uint8_t>& data) override {
    if (failed_) return false;
    pending_.append(reinterpret_cast<const char*>(data.data()), data.size());
    size_t end = protocol::findHeadEnd(pending_);
    if (end == 0) {
      if (pending_.size() > kMaxResponseHead) fail("server's handshake response is too large");
      return false;
    }
    std::vector<std::string_view> offered(client_.subprotocols.begin(), client_.subprotocols.end());
    protocol::UpgradeResponse response;
    std::string error;
    if (!protocol::parseUpgradeResponse(std::string_view(pending_).substr(0, end), key_, offered,
                                        response, error)) {
      fail(error);
      return false;
    }
    if (!response.extensions.empty()) {
      // RFC 6455 9.1: a server may only answer with extensions the client offered.
      protocol::DeflateResponse deflate;
      if (!client_.compression.enabled) {
        fail("server answered with extensions we did not offer: " +
             std::string(response.extensions));
        return false;
      }
      if (!protocol::validateDeflateResponse(response.extensions, deflateOffer_, deflate, error)) {
        fail(error);
        return false;
      }
      if (deflate.enabled) enableCompression(deflate.params, client_.compression);
    }
    // Frames may follow the head in the same read: hand them back to the caller.
    size_t before = pending_.size() - data.size();
    data = data.subspan(end - before);
    pending_.clear();
    pending_.shrink_to_fit();
    open(routeBehavior_);
    if (client_.open) client_.open(*this);
    return !isClosed();
  }

  void onHandshakeTimeout() override { fail("handshake timed out"); }

  void onTlsError(std::string_view why) override {
    if (handshaking()) {
      fail(std::string(why));
    } else {
      net::Socket::onTlsError(why);  // an open connection ends with 1006, like a lost one
    }
  }

  void onHandshakeEnd(int error) override {
    fail(error ? std::string("connection failed: ") + std::strerror(error)
               : std::string("connection closed during the handshake"));
  }

  void fail(const std::string& why) {
    if (failed_) return;
    failed_ = true;
    closeNow();
    if (client_.error) client_.error(why);
  }

  ClientBehavior client_;
  WebSocketBehavior routeBehavior_;
  std::string key_;
  std::string pending_;
  protocol::DeflateOffer deflateOffer_;
  bool failed_ = false;
};

}  // namespace

WebSocket* connect(net::Loop& loop, std::string_view url, ClientBehavior behavior) {
  WebSocketUrl parsed;
  std::string error;
  if (!parseWebSocketUrl(url, parsed, error)) throw std::invalid_argument(error);

  auto reportLater = [&loop, &behavior](std::string message) {
    loop.setTimeout(0, [callback = std::move(behavior.error), message = std::move(message)] {
      if (callback) callback(message);
    });
    return nullptr;
  };
  std::unique_ptr<net::TlsSession> tls;
  if (parsed.secure) {
    const ClientTlsOptions& options = behavior.tls;
    try {
      // A context per connection: clients are few, and each may trust different CAs. The
      // session keeps it alive (OpenSSL counts references).
      auto context = net::TlsContext::forClient({options.verify, options.caFile});
      tls = net::TlsSession::connect(*context, loop,
                                     options.serverName.empty() ? parsed.host : options.serverName);
    } catch (const net::TlsError& e) {
      return reportLater(e.what());
    }
  }
  sockaddr_storage address;
  socklen_t length;
  if (!net::resolveAddress(parsed.host, parsed.port, address, length, error)) {
    return reportLater(error);
  }
  int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return reportLater(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 && errno != EINPROGRESS) {
    int saved = errno;
    ::close(fd);
    return reportLater("cannot connect to " + parsed.hostHeader() + ": " + std::strerror(saved));
  }
  auto* connection = new ClientConnection(loop, fd, parsed, std::move(behavior));
  // The upgrade request the constructor queued waits for the TLS handshake.
  if (tls) connection->startTls(std::move(tls));
  return connection;
}

}  // namespace duplex
