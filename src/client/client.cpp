#include "client/client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "client/url.h"
#include "net/random.h"
#include "net/resolver.h"
#include "net/tls_context.h"
#include "net/tls_session.h"
#include "protocol/handshake.h"
#include "protocol/permessage_deflate.h"

namespace duplex {
namespace {

// A server's 101 head is small; anything this large is not a WebSocket server.
constexpr size_t kMaxResponseHead = 16 * 1024;

// A non-blocking socket connecting to `address` (the connect completes later), or -1 with
// `error` set when the kernel refused at once (no route, no IPv6 here).
int startConnect(const net::ResolvedAddress& address, const std::string& where,
                 std::string& error) {
  int fd = ::socket(address.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address.address), address.length) != 0 &&
      errno != EINPROGRESS) {
    int saved = errno;
    ::close(fd);
    error = "cannot connect to " + where + ": " + std::strerror(saved);
    return -1;
  }
  return fd;
}

// Connects, sends the upgrade request, checks the answer. Made with its descriptor when the
// URL names a literal address (connect() already started the TCP connect: no lookup, no wait);
// for a name, made without one, which comes once a net::Resolver lookup thread has looked the name
// up (getaddrinfo on the loop's thread would stall every socket and timer of the loop).
//
// handshakeTimeoutSeconds counts from connect(): resolution, the TCP connect (to each address
// tried), TLS and the HTTP exchange all come out of that one budget, as a caller waiting for
// open sees them.
class ClientConnection final : public WebSocket {
 public:
  // Connecting to a literal address already.
  ClientConnection(net::Loop& loop, int fd, const WebSocketUrl& url, ClientBehavior client,
                   std::unique_ptr<net::TlsSession> tls)
      : WebSocket(loop, fd, protocol::Role::Client), client_(std::move(client)), url_(url) {
    prepare(std::move(tls));
    // Queued now, sent by the end-of-iteration flush once the TCP connection is up.
    sendRequest();
  }

  // A name, looked up first.
  ClientConnection(net::Loop& loop, const WebSocketUrl& url, ClientBehavior client,
                   std::unique_ptr<net::TlsSession> tls)
      : WebSocket(loop, protocol::Role::Client), client_(std::move(client)), url_(url) {
    prepare(std::move(tls));
    resolver_ = std::make_unique<net::Resolver>(loop, std::move(client_.lookup));
    // Answered at a later iteration, never inside resolve(), so never inside connect().
    resolver_->resolve(url.host, url.port,
                       [this](net::Resolution&& resolution) { resolved(std::move(resolution)); });
  }

 private:
  void prepare(std::unique_ptr<net::TlsSession> tls) {
    pendingTls_ = std::move(tls);
    // The route-like behavior the shared WebSocket code runs on.
    routeBehavior_.message = client_.message;
    routeBehavior_.close = client_.close;
    routeBehavior_.drain = client_.drain;
    routeBehavior_.ping = client_.ping;
    routeBehavior_.pong = client_.pong;
    routeBehavior_.subprotocols = client_.subprotocols;  // where subprotocol() finds its answer
    static_cast<protocol::ConnectionLimits&>(routeBehavior_) = client_;

    uint8_t nonce[16];
    net::secureRandom(nonce, sizeof nonce);
    key_ = protocol::makeClientKey(std::span<const uint8_t, 16>(nonce, 16));
    std::string host = url_.hostHeader();
    protocol::ClientRequest request;
    request.host = host;
    request.path = url_.target;
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
    request_ = protocol::writeClientRequest(request);
    setDeadline(client_.handshakeTimeoutSeconds);
  }

  void sendRequest() {
    write(request_);
    request_.clear();
    request_.shrink_to_fit();
    // The request waits in the queue for the TLS handshake.
    if (pendingTls_) startTls(std::move(pendingTls_));
  }

  void resolved(net::Resolution&& resolution) {
    if (isClosed()) return;  // closed (or failed) while the lookup ran: the answer is dropped
    if (resolution.addresses.empty()) {
      return fail(resolution.error.empty() ? "cannot resolve " + url_.host + ": no address"
                                           : resolution.error);
    }
    addresses_ = std::move(resolution.addresses);
    connectNext({});
  }

  // The name's next address, in getaddrinfo's order (an IPv6 one that is refused, then the
  // IPv4 one, as with "localhost" on many systems). A connect that never completes (packets
  // dropped) is not cut short for the next: the handshake timeout ends the attempt.
  void connectNext(std::string lastError) {
    while (nextAddress_ < addresses_.size()) {
      const net::ResolvedAddress& address = addresses_[nextAddress_++];
      int fd = startConnect(address, url_.hostHeader(), lastError);
      if (fd < 0) continue;
      attachDescriptor(fd);
      // The request waits for the connect to complete (onHandshakeDrain). Sent at this
      // iteration's end, the send could consume the refusal ("Connection refused") that tells
      // us to try the next address, or that the error handler should say.
      awaitingConnect_ = true;
      requestDrain();
      return;
    }
    fail(lastError);
  }

  void onHandshakeDrain() override {
    if (!awaitingConnect_) return;
    awaitingConnect_ = false;  // connected
    sendRequest();
  }

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
    // parseUpgradeResponse checked that the server's subprotocol is one we offered (RFC 6455 4.1).
    // A copy: the response's views point into pending_, freed below.
    const std::string subprotocol(response.protocol);
    // Frames may follow the head in the same read: hand them back to the caller.
    size_t before = pending_.size() - data.size();
    data = data.subspan(end - before);
    pending_.clear();
    pending_.shrink_to_fit();
    open(routeBehavior_, subprotocol);
    if (client_.open) client_.open(*this);
    return !isClosed();
  }

  void onHandshakeTimeout() override {
    if (!hasDescriptor()) {
      return fail("cannot resolve " + url_.host + ": no answer within " +
                  std::to_string(client_.handshakeTimeoutSeconds) + " s");
    }
    fail("handshake timed out");
  }

  void onTlsError(std::string_view why) override {
    if (handshaking()) {
      fail(std::string(why));
    } else {
      net::Socket::onTlsError(why);  // an open connection ends with 1006, like a lost one
    }
  }

  void onHandshakeEnd(int error) override {
    if (awaitingConnect_) {
      // This address refused (or could not be reached): the next one.
      awaitingConnect_ = false;
      return connectNext(error ? std::string("connection failed: ") + std::strerror(error)
                               : std::string("connection closed while connecting"));
    }
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
  std::string request_;  // until it is written
  std::string pending_;
  protocol::DeflateOffer deflateOffer_;
  std::unique_ptr<net::TlsSession> pendingTls_;  // until the request is written
  // A name's lookup and its answer (none for a literal address).
  WebSocketUrl url_;
  std::unique_ptr<net::Resolver> resolver_;
  std::vector<net::ResolvedAddress> addresses_;
  size_t nextAddress_ = 0;
  bool awaitingConnect_ = false;  // connecting to one of a name's addresses
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
  net::ResolvedAddress literal;
  if (!net::literalAddress(parsed.host, parsed.port, literal)) {
    return new ClientConnection(loop, parsed, std::move(behavior), std::move(tls));
  }
  // A literal address connects at once, as fast as it can: no lookup, no thread.
  int fd = startConnect(literal, parsed.hostHeader(), error);
  if (fd < 0) return reportLater(error);
  return new ClientConnection(loop, fd, parsed, std::move(behavior), std::move(tls));
}

}  // namespace duplex
