#include "redis/link.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/log.h"
#include "net/random.h"
#include "net/socket.h"
#include "net/tls_context.h"
#include "net/tls_session.h"

namespace duplex::redis {

// The loop owns sockets (it deletes them after they close); the Link holds one while it is
// connected and detaches it before closing it, so a closing socket never calls back into a
// Link that is failing or gone.
class LinkSocket final : public net::Socket {
 public:
  LinkSocket(net::Loop& loop, int fd, Link& link) : Socket(loop, fd), link_(&link) {}
  void detach() { link_ = nullptr; }

 private:
  void onData(std::span<uint8_t> data) override {
    if (link_) link_->received(data);
  }
  void onEnd(int error) override {
    if (link_)
      link_->ended(error);
    else
      closeNow();
  }
  void onTlsError(std::string_view why) override {
    if (link_)
      link_->tlsFailed(why);
    else
      closeNow();
  }
  // Only reached with a Link attached when someone else closed the socket: the loop, as it is
  // destroyed.
  // The first time: the connect completed (the socket became writable).
  void onDrain() override {
    if (link_) link_->connected();
  }
  void onClosed() override {
    if (Link* link = link_) {
      link_ = nullptr;
      link->socketClosed();
    }
  }

  Link* link_;
};

namespace {

// hiredis copies what it is fed and memmoves its buffer's tail as it consumes replies: feeding
// a large read in slices, and draining replies between them, bounds that work.
constexpr size_t kFeedSlice = 16 * 1024;

std::string errorText(int error) {
  return std::strerror(error);
}

}  // namespace

Link::Link(net::Loop& loop, Endpoint endpoint, const Options& options, Owner& owner)
    : loop_(&loop),
      endpoint_(std::move(endpoint)),
      options_(options),
      owner_(owner),
      resolver_(loop, options.lookup) {}

Link::~Link() {
  lifeline_.cut();
  if (reconnectTimer_) loop_->cancelTimer(reconnectTimer_);
  if (sweepTimer_) loop_->cancelTimer(sweepTimer_);
  if (idleTimer_) loop_->cancelTimer(idleTimer_);
  closeSocket();
}

void Link::start() {
  reconnectTimer_ = loop_->setTimeout(0, [this] { attempt(); });
}

void Link::closeSocket() {
  if (!socket_) return;
  LinkSocket* socket = socket_;
  socket_ = nullptr;
  socket->detach();
  socket->closeNow();
}

void Link::attempt() {
  reconnectTimer_ = 0;
  state_ = State::Connecting;
  connectDeadlineMs_ = loop_->nowMs() + options_.connectTimeoutMs;
  reader_.reset();
  handshake_.clear();
  handshakeDone_ = 0;
  pendingTls_.reset();
  watch();

  if (endpoint_.tls) {
    try {
      // The CA file is read once; a Link keeps its context across reconnects.
      if (!tls_) tls_ = net::TlsContext::forClient({true, options_.tlsCaFile});
      // Started once the TCP connect completes (connected()).
      pendingTls_ = net::TlsSession::connect(*tls_, *loop_, endpoint_.host);
    } catch (const net::TlsError& e) {
      return fail(std::string("TLS setup for ") + endpoint_.text() + " failed: " + e.what());
    }
  }
  addresses_.clear();
  nextAddress_ = 0;
  net::ResolvedAddress literal;
  if (net::literalAddress(endpoint_.host, endpoint_.port, literal)) {
    addresses_.push_back(literal);
    return connectNext({});
  }
  // A name: looked up on a lookup thread (net::Resolver), the attempt going on in resolved(). The
  // lookup has connectTimeoutMs (sweep()), then the connect its own. A lookup slower than that
  // still runs (one at a time: Resolver), and its answer serves the attempt after.
  resolving_ = true;
  if (earlyAnswer_) {
    net::Resolution answer = std::move(*earlyAnswer_);
    earlyAnswer_.reset();
    return resolved(std::move(answer));
  }
  resolver_.resolve(endpoint_.host, endpoint_.port,
                    [this](net::Resolution&& resolution) { resolved(std::move(resolution)); });
}

void Link::resolved(net::Resolution&& resolution) {
  if (state_ == State::Waiting) {
    earlyAnswer_ = std::move(resolution);
    return;
  }
  if (state_ != State::Connecting || !resolving_) return;
  resolving_ = false;
  if (resolution.addresses.empty()) {
    return fail(resolution.error + " (" + endpoint_.text() + ")");
  }
  connectDeadlineMs_ = loop_->nowMs() + options_.connectTimeoutMs;
  addresses_ = std::move(resolution.addresses);
  connectNext({});
}

void Link::connectNext(const std::string& lastError) {
  if (nextAddress_ == addresses_.size()) return fail(lastError);
  const net::ResolvedAddress& address = addresses_[nextAddress_++];
  int fd = ::socket(address.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return connectNext("socket: " + errorText(errno));  // no IPv6 here, say
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // A Redis whose host vanished (no RST ever comes) is noticed by the keepalive probes within
  // about 20 s even on a connection with nothing pending, such as an idle subscriber's.
  int idle = 10, interval = 5, count = 2;
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address.address), address.length) != 0 &&
      errno != EINPROGRESS) {
    int saved = errno;
    ::close(fd);
    return connectNext("cannot connect to " + endpoint_.text() + ": " + errorText(saved));
  }
  socket_ = new LinkSocket(*loop_, fd, *this);
  // Nothing is queued until the connection is made: a write to a socket whose connect failed
  // would consume the error ("Connection refused") that the read then reports.
  socket_->requestDrain();
}

void Link::connected() {
  if (state_ != State::Connecting || !handshake_.empty()) return;
  // Redis never speaks first, so TLS may start now: the ClientHello leaves at this iteration's
  // flush, and the handshake below waits behind it.
  if (pendingTls_) socket_->startTls(std::move(pendingTls_));
  // Pipelined: AUTH, SELECT and PING leave in one write.
  if (!endpoint_.password.empty()) {
    handshake_.push_back(Step::Auth);
    socket_->write(endpoint_.user.empty()
                       ? encodeCommand({"AUTH", endpoint_.password})
                       : encodeCommand({"AUTH", endpoint_.user, endpoint_.password}));
  }
  if (endpoint_.db != 0) {
    handshake_.push_back(Step::Select);
    socket_->write(encodeCommand({"SELECT", std::to_string(endpoint_.db)}));
  }
  handshake_.push_back(Step::Ping);
  socket_->write(encodeCommand({"PING"}));
}

void Link::handshakeReply(const Reply& reply) {
  Step step = handshake_[handshakeDone_++];
  if (reply.isError()) {
    switch (step) {
      case Step::Auth:
        return fail("authentication to " + endpoint_.text() + " failed: " + reply.string);
      case Step::Select:
        return fail("SELECT " + std::to_string(endpoint_.db) + " on " + endpoint_.text() +
                    " failed: " + reply.string);
      case Step::Ping:
        // NOAUTH (a password is needed), LOADING (still reading its data), MASTERDOWN...
        return fail(endpoint_.text() + " is not ready: " + reply.string);
    }
  }
  if (handshakeDone_ < handshake_.size()) return;
  state_ = State::Ready;
  failures_ = 0;
  lastReceivedMs_ = loop_->nowMs();
  if (!idleTimer_) armIdleCheck(options_.idlePingMs);
  DUPLEX_LOG(Debug, "redis: connected to %s", endpoint_.text().c_str());
  owner_.linkReady();
}

void Link::send(std::span<const std::string> args) {
  uint8_t* out = socket_->reserve(encodedSize(args));
  encodeCommand(args, out);
}

void Link::received(std::span<const uint8_t> data) {
  auto alive = lifeline_.handle();
  LinkSocket* socket = socket_;
  lastReceivedMs_ = loop_->nowMs();
  for (size_t offset = 0; offset < data.size(); offset += kFeedSlice) {
    if (!reader_.feed(data.subspan(offset, std::min(kFeedSlice, data.size() - offset)))) {
      return fail("bad reply from " + endpoint_.text() + ": " + reader_.error());
    }
    for (;;) {
      ReplyReader::Next next = reader_.next(reply_);
      if (next == ReplyReader::Next::NeedMore) break;
      if (next == ReplyReader::Next::Error) {
        return fail("bad reply from " + endpoint_.text() + ": " + reader_.error());
      }
      if (state_ == State::Connecting && handshakeDone_ < handshake_.size())
        handshakeReply(reply_);
      else if (state_ == State::Connecting)
        // An error sent on accept: maxclients reached, protected mode.
        return fail(endpoint_.text() + " refused the connection: " +
                    (reply_.isError() ? reply_.string : "it spoke before it was asked"));
      else
        owner_.linkReply(std::move(reply_));
      // The owner may have failed the link, or been destroyed with it.
      if (!alive.get() || socket_ != socket) return;
    }
  }
}

void Link::ended(int error) {
  if (state_ == State::Ready) {
    fail(error ? "connection to " + endpoint_.text() + " lost: " + errorText(error)
               : endpoint_.text() + " closed the connection");
  } else if (handshake_.empty() && nextAddress_ < addresses_.size()) {
    // The connect failed, and the name gave another address (IPv4 after IPv6): that one next,
    // within the same attempt.
    closeSocket();
    connectNext({});
  } else {
    // Refused, unreachable, or closed during the handshake (protected mode, maxclients).
    fail(error ? "cannot connect to " + endpoint_.text() + ": " + errorText(error)
               : endpoint_.text() + " closed the connection during the handshake");
  }
}

void Link::tlsFailed(std::string_view why) {
  fail("TLS with " + endpoint_.text() + " failed: " + std::string(why));
}

void Link::socketClosed() {
  // The loop is going away: nothing will run again, so nothing is scheduled.
  socket_ = nullptr;
  state_ = State::Waiting;
}

void Link::fail(const std::string& why) {
  if (state_ == State::Waiting) return;
  bool wasReady = state_ == State::Ready;
  state_ = State::Waiting;
  resolving_ = false;  // a lookup still running answers the next attempt
  closeSocket();
  ++failures_;
  DUPLEX_LOG(Debug, "redis: %s", why.c_str());
  scheduleReconnect();
  owner_.linkLost(why, wasReady);  // last: it may destroy us
}

void Link::scheduleReconnect() {
  // Doubling from the minimum up to the maximum, then a random point in the upper half of
  // that ("equal jitter"): nodes that lost the same Redis do not all come back at once.
  uint32_t exponent = std::min<uint32_t>(failures_ - 1, 20);
  uint64_t ceiling =
      std::min<uint64_t>(uint64_t{options_.reconnectMinMs} << exponent, options_.reconnectMaxMs);
  ceiling = std::max<uint64_t>(ceiling, 1);
  uint32_t random = 0;
  net::secureRandom(&random, sizeof random);
  uint64_t delay = ceiling / 2 + random % (ceiling - ceiling / 2 + 1);
  reconnectTimer_ = loop_->setTimeout(delay, [this] { attempt(); });
}

void Link::watch() {
  if (sweepTimer_) return;
  // A tenth of the shortest timeout, within 5..100 ms: a deadline is seen at most that late.
  uint64_t shortest = std::min(options_.connectTimeoutMs, options_.commandTimeoutMs);
  uint64_t period = std::clamp<uint64_t>(shortest / 10, 5, 100);
  sweepTimer_ = loop_->setTimeout(period, [this] { sweep(); });
}

void Link::sweep() {
  sweepTimer_ = 0;
  uint64_t now = loop_->nowMs();
  if (state_ == State::Connecting) {
    if (now >= connectDeadlineMs_ && resolving_) {
      return fail("cannot resolve " + endpoint_.host + " (" + endpoint_.text() +
                  "): no answer from the resolver within " +
                  std::to_string(options_.connectTimeoutMs) + " ms");
    }
    if (now >= connectDeadlineMs_) {
      return fail("no answer from " + endpoint_.text() + " within " +
                  std::to_string(options_.connectTimeoutMs) + " ms of connecting");
    }
    return watch();
  }
  if (state_ != State::Ready) return;
  auto alive = lifeline_.handle();
  bool again = owner_.linkSweep(now);
  if (alive.get() && again) watch();
}

void Link::armIdleCheck(uint64_t delayMs) {
  if (options_.idlePingMs == 0) return;
  idleTimer_ = loop_->setTimeout(std::max<uint64_t>(delayMs, 1), [this] { idleCheck(); });
}

void Link::idleCheck() {
  idleTimer_ = 0;
  // Not ready: the next handshake re-arms it (and has its own deadline).
  if (state_ != State::Ready) return;
  uint64_t now = loop_->nowMs();
  uint64_t silentFor = now - lastReceivedMs_;
  if (silentFor < options_.idlePingMs) return armIdleCheck(options_.idlePingMs - silentFor);
  auto alive = lifeline_.handle();
  owner_.linkIdle(now);
  if (!alive.get() || state_ != State::Ready) return;
  // The PING's answer moves lastReceivedMs_; no answer fails the link at its deadline (and if
  // that is longer than idlePingMs, the owner sees its PING still awaited and sends no other).
  armIdleCheck(options_.idlePingMs);
}

}  // namespace duplex::redis
