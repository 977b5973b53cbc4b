#include "soak.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "clock.h"
#include "protocol/handshake.h"
#include "protocol/http.h"

namespace soak {
namespace {

namespace protocol = duplex::protocol;
using duplex::Opcode;

constexpr uint64_t kHandshakeLimitNs = 15 * bench::kNsPerSecond;

size_t countFds(pid_t pid) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace

Soak::Soak(const Options& options, sockaddr_in target, std::string hostHeader)
    : options_(options),
      hostHeader_(std::move(hostHeader)),
      loop_(target, options.sources, *this),
      probe_(options.serverPid),
      random_(options.seed) {
  for (size_t size : kSizes) codecs_.emplace_back(size);
  receiverConfig_.role = protocol::Role::Client;
  receiverConfig_.maxMessageSize = 16 << 20;
  receiverConfig_.maxFrameSize = 16 << 20;
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  fdLimit_ = static_cast<size_t>(limit.rlim_cur);
}

void Soak::error(std::string what) {
  ++errors_;
  if (errors_ <= 20) std::fprintf(stderr, "duplex-soak: %s\n", what.c_str());
  if (errors_ <= 3) firstErrors_ += (firstErrors_.empty() ? "" : " | ") + what;
}

Conn* Soak::start(Role role, int receiveBuffer) {
  // Stay clear of our own open-files cap: the server's behaviour is what is tested.
  if (loop_.openSockets() + 32 >= fdLimit_) {
    count("skipped_fd_cap");
    return nullptr;
  }
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<uint32_t>(conns_.size());
    conns_.push_back(std::make_unique<Conn>());
    loop_.adopt(*conns_.back(), slot);
  }
  Conn& c = *conns_[slot];
  c.role = role;
  c.phase = Phase::Upgrading;
  c.variant = 0;
  c.busy = c.mayBeDropped = c.closeWhenDone = c.closeReceived = false;
  c.serial = serials_++;
  c.nextSeq = 0;
  c.closeCode = 0;
  c.mustStartBy = 0;
  c.lastPublish = -1;
  c.startedNs = loop_.now();
  c.head.clear();
  c.request.clear();
  c.rest.clear();
  c.receiver = protocol::Receiver();
  c.echoes.clear();
  c.pongs.clear();
  if (const int err = loop_.open(c, receiveBuffer)) {
    error(std::string("connect: ") + std::strerror(err));
    c.phase = Phase::Idle;
    free_.push_back(slot);
    return nullptr;
  }
  ++opened_;
  maxOpen_ = std::max<uint64_t>(maxOpen_, loop_.openSockets());
  c.live = role == Role::Echo || role == Role::Subscriber;
  if (role == Role::Echo) ++echoLive_;
  if (role == Role::Subscriber) ++subscribersLive_;
  c.transient = role == Role::Cut || role == Role::Overflow;
  if (c.transient) ++transient_;
  c.inHandshake = role != Role::Cut;
  if (c.inHandshake) {
    ++handshaking_;
    loop_.at(c, loop_.now() + kHandshakeLimitNs, kHandshakeWatchdog);
  }
  return &c;
}

void Soak::leaveHeld(Conn& c) {
  if (c.live) {
    c.live = false;
    if (c.role == Role::Echo) --echoLive_;
    if (c.role == Role::Subscriber) --subscribersLive_;
  }
  if (c.phase != Phase::Open) return;
  std::vector<uint32_t>* list = c.role == Role::Echo         ? &heldEcho_
                                : c.role == Role::Subscriber ? &heldSubscribers_
                                                             : nullptr;
  if (!list || c.listIndex >= list->size() || (*list)[c.listIndex] != c.slot) return;
  const uint32_t last = list->back();
  (*list)[c.listIndex] = last;
  conns_[last]->listIndex = c.listIndex;
  list->pop_back();
}

void Soak::finish(Conn& c) {
  loop_.close(c);
  leaveHeld(c);
  if (c.inHandshake) {
    c.inHandshake = false;
    --handshaking_;
  }
  if (c.transient) {
    c.transient = false;
    --transient_;
  }
  if (&c == publisher_) publisher_ = nullptr;
  c.phase = Phase::Idle;
  c.echoes.clear();
  c.pongs.clear();
  c.rest = std::vector<uint8_t>();
  free_.push_back(c.slot);
}

void Soak::onConnected(Socket& s) {
  Conn& c = static_cast<Conn&>(s);
  uint8_t nonce[16];
  for (int i = 0; i < 16; i += 8) {
    const uint64_t r = random_();
    std::memcpy(nonce + i, &r, 8);
  }
  c.key = protocol::makeClientKey(std::span<const uint8_t, 16>(nonce, 16));
  // On a --broadcast server every path is a topic: echo connections take a path of their own
  // (a topic of one, created and destroyed with it), subscribers share /room.
  std::string path = c.role == Role::Subscriber || c.role == Role::Publisher ? "/room"
                     : options_.broadcast ? "/p/" + std::to_string(c.serial)
                                          : "/e";
  protocol::ClientRequest request;
  request.host = hostHeader_;
  request.path = path;
  request.key = c.key;
  c.request = protocol::writeClientRequest(request);
  if (c.role != Role::Cut) return loop_.send(c, c.request.data(), c.request.size());
  // Somewhere strictly inside the request: a byte, half a header line, all but the last CRLF.
  const size_t cut = 1 + random_() % (c.request.size() - 1);
  loop_.send(c, c.request.data(), cut);
  c.rest.assign(c.request.begin() + static_cast<std::ptrdiff_t>(cut), c.request.end());
  scheduleCut(c);
}

void Soak::onBytes(Socket& s, uint8_t* data, size_t size) {
  Conn& c = static_cast<Conn&>(s);
  if (c.phase == Phase::Upgrading) {
    if (c.role == Role::Cut && !c.rest.empty()) {
      // A stalled handshake may be answered (408) as the server drops it; any other cut
      // handshake is answered before it was complete: a parser that guesses.
      if (c.variant != kCutStall) {
        error("server answered a handshake cut after " +
              std::to_string(c.request.size() - c.rest.size()) + " of " +
              std::to_string(c.request.size()) + " bytes");
        finish(c);
      }
      return;
    }
    return onHead(c, data, size);
  }
  deliver(c, data, size);
}

void Soak::onHead(Conn& c, uint8_t* data, size_t size) {
  c.head.append(reinterpret_cast<const char*>(data), size);
  const size_t headSize = protocol::findHeadEnd(c.head);
  if (headSize == 0) {
    if (c.head.size() > protocol::kMaxHeadSize) {
      error("upgrade response head too large");
      finish(c);
    }
    return;
  }
  static const std::vector<std::string_view> kNoProtocols;
  protocol::UpgradeResponse response;
  std::string why;
  if (!protocol::parseUpgradeResponse(std::string_view(c.head).substr(0, headSize), c.key,
                                      kNoProtocols, response, why)) {
    error("bad upgrade response: " + why + ": " + c.head.substr(0, c.head.find('\r')));
    return finish(c);
  }
  std::string rest = c.head.substr(headSize);
  c.head = std::string();
  c.key = std::string();
  c.request = std::string();
  const uint32_t generation = c.generation;
  becomeOpen(c);
  if (!rest.empty() && c.generation == generation && c.fd >= 0) {
    deliver(c, reinterpret_cast<uint8_t*>(rest.data()), rest.size());
  }
}

void Soak::becomeOpen(Conn& c) {
  if (c.inHandshake) {
    c.inHandshake = false;
    --handshaking_;
  }
  ++handshakes_;
  if (c.role == Role::Cut) {
    count("outcome_cut_handshake_completed");
    c.role = Role::Echo;
    c.transient = false;
    --transient_;
    c.live = true;
    ++echoLive_;
  }
  c.phase = Phase::Open;
  c.busy = false;
  if (c.role == Role::Echo) {
    c.listIndex = static_cast<uint32_t>(heldEcho_.size());
    heldEcho_.push_back(c.slot);
  } else if (c.role == Role::Subscriber) {
    // Any publish we send from now on must reach it: the server subscribed it before its 101.
    c.mustStartBy = publishNext_;
    c.listIndex = static_cast<uint32_t>(heldSubscribers_.size());
    heldSubscribers_.push_back(c.slot);
  } else if (c.role == Role::Overflow) {
    // Stop reading and send far more than the server may queue for us: it must drop us (or,
    // if the kernel's buffers absorbed it all, echo every byte correctly once we read).
    c.busy = true;
    c.mayBeDropped = true;
    loop_.setPaused(c, true);
    const size_t flood = 2 * options_.serverBackpressure + (8 << 20);
    for (size_t sent = 0; sent < flood; sent += kSizes[6]) {
      sendMessage(c, 6, (sent / kSizes[6]) % 2 == 1, false);
    }
    loop_.at(c, loop_.now() + 2 * bench::kNsPerSecond, kOverflowEnd);
  }
}

void Soak::deliver(Conn& c, uint8_t* data, size_t size) {
  std::span<uint8_t> input(data, size);
  const uint32_t generation = c.generation;
  while (c.generation == generation && c.fd >= 0) {
    const protocol::Event event = c.receiver.next(input, receiverConfig_);
    switch (event.kind) {
      case protocol::Event::Kind::NeedMore:
        return;
      case protocol::Event::Kind::Message:
        onMessage(c, event.opcode, event.payload);
        break;
      case protocol::Event::Kind::Ping:
        writeFrame(c, Opcode::Pong, true, reinterpret_cast<const uint8_t*>(event.payload.data()),
                   event.payload.size());
        break;
      case protocol::Event::Kind::Pong:
        if (c.pongs.empty() || event.payload != hex8(c.pongs.front())) {
          error("connection " + std::to_string(c.serial) + ": pong '" + std::string(event.payload) +
                "' does not answer the oldest ping");
        } else {
          c.pongs.pop_front();
          ++pongsChecked_;
        }
        break;
      case protocol::Event::Kind::Close:
        return onServerClose(c, event.code);
      case protocol::Event::Kind::Error:
        error("connection " + std::to_string(c.serial) + ": server broke RFC 6455 (" +
              std::to_string(event.code) + "): " + std::string(event.payload));
        loop_.reset(c);
        return finish(c);
    }
  }
}

void Soak::sample() {
  if (!probe_.enabled()) return;
  const uint64_t rss = probe_.residentBytes().value_or(0) / 1024;
  if (!rssStart_) rssStart_ = rss;
  rssPeak_ = std::max(rssPeak_, rss);
  fdsPeak_ = std::max<uint64_t>(fdsPeak_, countFds(options_.serverPid));
}

}  // namespace soak
