#include "client_loop.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "clock.h"
#include "protocol/frame.h"
#include "protocol/handshake.h"
#include "protocol/http.h"
#include "protocol/mask.h"

namespace bench {
namespace {

namespace protocol = duplex::protocol;

constexpr size_t kReadBufferSize = 1 << 20;
constexpr int kMaxEvents = 1024;

uint64_t eventKey(const Connection& c, uint32_t generation) {
  return (static_cast<uint64_t>(generation) << 32) | c.id();
}

std::string errnoText(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

ClientLoop::ClientLoop(Target target, ClientHandler& handler, uint64_t maxMessageSize)
    : target_(std::move(target)), handler_(handler), readBuffer_(kReadBufferSize) {
  config_.role = protocol::Role::Client;
  config_.maxMessageSize = maxMessageSize;
  config_.maxFrameSize = maxMessageSize;
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) fail(errnoText("epoll_create1"));
  random_.seed(monotonicNs());
  now_ = monotonicNs();
}

ClientLoop::~ClientLoop() {
  for (auto& c : connections_) {
    if (c && c->fd_ >= 0) ::close(c->fd_);
  }
  if (epoll_ >= 0) ::close(epoll_);
}

Connection& ClientLoop::connection(uint32_t id) {
  if (id >= connections_.size()) connections_.resize(id + 1);
  if (!connections_[id]) {
    connections_[id] = std::make_unique<Connection>();
    connections_[id]->id_ = id;
  }
  return *connections_[id];
}

void ClientLoop::fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
}

void ClientLoop::open(Connection& c) {
  if (c.fd_ >= 0) close(c);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(errnoText("socket"));
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Lets bind() leave the port to connect(), which then only needs the 4-tuple to be unique.
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sockaddr_in source{};
  source.sin_family = AF_INET;
  const uint64_t sourceIndex = (opened_++ / kConnectionsPerSource) % kSources;
  source.sin_addr.s_addr = htonl(static_cast<uint32_t>(0x7F000002u + sourceIndex));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
    ::close(fd);
    return fail(errnoText("bind"));
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&target_.address), sizeof target_.address) !=
          0 &&
      errno != EINPROGRESS) {
    ::close(fd);
    return fail(errnoText("connect"));
  }
  c.fd_ = fd;
  ++c.generation_;
  c.state_ = Connection::State::Connecting;
  c.startedNs_ = monotonicNs();
  c.out_.clear();
  c.outSent_ = 0;
  c.head_.clear();
  c.receiver_ = protocol::Receiver();
  c.deflate_.reset();
  c.wantWritable_ = true;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u64 = eventKey(c, c.generation_);
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) fail(errnoText("epoll_ctl add"));
}

void ClientLoop::close(Connection& c) {
  if (c.fd_ < 0) return;
  ::close(c.fd_);  // also removes it from the epoll set
  c.fd_ = -1;
  ++c.generation_;
  c.state_ = Connection::State::Closed;
  c.out_.clear();
  c.outSent_ = 0;
  c.wantWritable_ = false;
}

uint8_t* ClientLoop::appendHeader(Connection& c, duplex::Opcode opcode, size_t size, bool rsv1) {
  const uint64_t r = random_();
  std::memcpy(mask_, &r, 4);
  protocol::FrameHeader header;
  header.opcode = opcode;
  header.rsv1 = rsv1;  // RFC 7692 6: "this message is compressed"
  header.payloadSize = size;
  header.maskKey = mask_;
  const size_t start = c.out_.size();
  c.out_.resize(start + protocol::kMaxFrameHeaderSize + size);
  const size_t headerSize = protocol::writeFrameHeader(c.out_.data() + start, header);
  c.out_.resize(start + headerSize + size);
  markDirty(c);
  return c.out_.data() + start + headerSize;
}

void ClientLoop::sendCompressible(Connection& c, duplex::Opcode opcode) {
  const bool compressed = deflate_->compress(*c.deflate_, plain_, compressed_);
  const std::string& bytes = compressed ? compressed_ : plain_;
  plainOut_ += plain_.size();
  wireOut_ += bytes.size();
  uint8_t* payload = appendHeader(c, opcode, bytes.size(), compressed);
  std::memcpy(payload, bytes.data(), bytes.size());
  maskLast(payload, bytes.size());
}

void ClientLoop::maskLast(uint8_t* payload, size_t size) {
  protocol::applyMask(payload, size, mask_);
}

void ClientLoop::sendClose(Connection& c, uint16_t code) {
  uint8_t payload[protocol::kMaxControlPayload];
  const size_t size = protocol::writeClosePayload(payload, code, "");
  sendFrame(c, duplex::Opcode::Close, size, [&](uint8_t* out) { std::memcpy(out, payload, size); });
  c.state_ = Connection::State::Closing;
}

void ClientLoop::markDirty(Connection& c) {
  if (c.dirty_) return;
  c.dirty_ = true;
  dirty_.push_back(&c);
}

void ClientLoop::setWritableInterest(Connection& c, bool on) {
  if (c.wantWritable_ == on) return;
  c.wantWritable_ = on;
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.u64 = eventKey(c, c.generation_);
  if (epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd_, &ev) != 0) fail(errnoText("epoll_ctl mod"));
}

void ClientLoop::turn(int timeoutMs) {
  std::array<epoll_event, kMaxEvents> events;
  const int n = epoll_wait(epoll_, events.data(), kMaxEvents, timeoutMs);
  now_ = monotonicNs();
  if (n < 0 && errno != EINTR) fail(errnoText("epoll_wait"));
  for (int i = 0; i < n && !failed(); ++i) {
    const uint32_t id = static_cast<uint32_t>(events[i].data.u64);
    const uint32_t generation = static_cast<uint32_t>(events[i].data.u64 >> 32);
    if (id >= connections_.size() || !connections_[id]) continue;
    Connection& c = *connections_[id];
    if (c.generation_ != generation || c.fd_ < 0) continue;  // closed (and maybe reopened) since
    if (events[i].events & (EPOLLOUT | EPOLLERR)) onWritable(c);
    if (c.generation_ == generation && c.fd_ >= 0 && (events[i].events & (EPOLLIN | EPOLLHUP)))
      onReadable(c);
  }
  // One send() per connection per turn, whatever the handlers queued.
  for (size_t i = 0; i < dirty_.size(); ++i) {
    Connection& c = *dirty_[i];
    c.dirty_ = false;
    if (c.fd_ >= 0 && !c.wantWritable_) flush(c);
  }
  dirty_.clear();
}

void ClientLoop::onWritable(Connection& c) {
  if (c.state_ == Connection::State::Connecting) {
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(c.fd_, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
      return fail("connection " + std::to_string(c.id_) + ": connect: " + std::strerror(error));
    }
    c.state_ = Connection::State::Upgrading;
    uint8_t nonce[16];
    for (int i = 0; i < 16; i += 8) {
      const uint64_t r = random_();
      std::memcpy(nonce + i, &r, 8);
    }
    c.key_ = protocol::makeClientKey(std::span<const uint8_t, 16>(nonce, 16));
    protocol::ClientRequest request;
    request.host = target_.hostHeader;
    request.path = target_.path;
    request.key = c.key_;
    if (deflate_) request.extensions = deflate_->offerHeader();
    const std::string text = protocol::writeClientRequest(request);
    c.out_.assign(text.begin(), text.end());
    c.wantWritable_ = false;  // flush() re-arms it if the kernel takes only part
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = eventKey(c, c.generation_);
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd_, &ev);
    markDirty(c);
    return;
  }
  flush(c);
}

void ClientLoop::flush(Connection& c) {
  if (c.outSent_ == c.out_.size()) {
    setWritableInterest(c, false);
    return;
  }
  const ssize_t n =
      ::send(c.fd_, c.out_.data() + c.outSent_, c.out_.size() - c.outSent_, MSG_NOSIGNAL);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return setWritableInterest(c, true);
    return serverGone(c, std::strerror(errno));
  }
  c.outSent_ += static_cast<size_t>(n);
  if (c.outSent_ == c.out_.size()) {
    c.out_.clear();
    c.outSent_ = 0;
    setWritableInterest(c, false);
  } else {
    setWritableInterest(c, true);
  }
}

void ClientLoop::onReadable(Connection& c) {
  const uint32_t generation = c.generation_;
  for (;;) {
    const ssize_t n = ::recv(c.fd_, readBuffer_.data(), readBuffer_.size(), 0);
    now_ = monotonicNs();
    if (n == 0) return serverGone(c, "server closed TCP");
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      return serverGone(c, std::strerror(errno));
    }
    if (c.state_ == Connection::State::Upgrading) {
      onHeadBytes(c, readBuffer_.data(), static_cast<size_t>(n));
    } else {
      deliver(c, readBuffer_.data(), static_cast<size_t>(n));
    }
    // A full buffer may mean more is waiting; anything less and epoll will say so again.
    if (static_cast<size_t>(n) < readBuffer_.size() || c.generation_ != generation || failed())
      return;
  }
}

void ClientLoop::onHeadBytes(Connection& c, const uint8_t* data, size_t size) {
  c.head_.append(reinterpret_cast<const char*>(data), size);
  const size_t headSize = protocol::findHeadEnd(c.head_);
  if (headSize == 0) {
    if (c.head_.size() > protocol::kMaxHeadSize)
      fail("connection " + std::to_string(c.id_) + ": upgrade response head too large");
    return;
  }
  static const std::vector<std::string_view> kNoProtocols;
  protocol::UpgradeResponse response;
  std::string why;
  if (!protocol::parseUpgradeResponse(std::string_view(c.head_).substr(0, headSize), c.key_,
                                      kNoProtocols, response, why)) {
    return fail("connection " + std::to_string(c.id_) + ": bad upgrade response: " + why);
  }
  if (deflate_) {
    if (!deflate_->accept(response.extensions, c.deflate_, why))
      return fail("connection " + std::to_string(c.id_) + ": " + why);
    c.receiver_.allowCompression(true);
  }
  // Frames may follow the head in the same read; keep them, then free the handshake strings
  // (an idle connection should cost the generator little too).
  std::string rest = c.head_.substr(headSize);
  c.head_ = std::string();
  c.key_ = std::string();
  c.state_ = Connection::State::Open;
  const uint32_t generation = c.generation_;
  handler_.onOpen(c);
  if (!rest.empty() && c.generation_ == generation)
    deliver(c, reinterpret_cast<uint8_t*>(rest.data()), rest.size());
}

void ClientLoop::deliver(Connection& c, uint8_t* data, size_t size) {
  std::span<uint8_t> input(data, size);
  const uint32_t generation = c.generation_;
  while (c.generation_ == generation && !failed()) {
    const protocol::Event event = c.receiver_.next(input, config_);
    switch (event.kind) {
      case protocol::Event::Kind::NeedMore:
        return;
      case protocol::Event::Kind::Message:
        ++messagesIn_;
        if (event.compressed) {
          // The Receiver only lets RSV1 through once deflate was agreed, so c.deflate_ is set.
          ++compressedIn_;
          std::string why;
          if (deflate_->inflate(*c.deflate_, event.payload, inflated_, config_.maxMessageSize,
                                why) != protocol::InflateStatus::Ok) {
            fail("connection " + std::to_string(c.id_) +
                 ": compressed message does not inflate: " + why);
            return;
          }
          handler_.onMessage(c, event.opcode, inflated_);
        } else {
          handler_.onMessage(c, event.opcode, event.payload);
        }
        break;
      case protocol::Event::Kind::Ping:
        // Some servers keep connections alive with pings; answer as any client would.
        sendFrame(c, duplex::Opcode::Pong, event.payload.size(), [&](uint8_t* out) {
          std::memcpy(out, event.payload.data(), event.payload.size());
        });
        break;
      case protocol::Event::Kind::Pong:
        break;
      case protocol::Event::Kind::Close:
        if (!handler_.onServerClose(c, event.code)) {
          fail("connection " + std::to_string(c.id_) + ": server sent close " +
               std::to_string(event.code) + " '" + std::string(event.payload) + "'");
        }
        return;
      case protocol::Event::Kind::Error:
        fail("connection " + std::to_string(c.id_) + ": server broke RFC 6455 (" +
             std::to_string(event.code) + "): " + std::string(event.payload));
        return;
    }
  }
}

void ClientLoop::serverGone(Connection& c, std::string_view why) {
  const bool closing = c.state_ == Connection::State::Closing;
  const uint32_t id = c.id_;
  close(c);
  if (closing && handler_.onServerClose(c, 1006)) return;
  fail("connection " + std::to_string(id) + " lost: " + std::string(why));
}

}  // namespace bench
