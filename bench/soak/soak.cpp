#include "soak.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "clock.h"
#include "protocol/frame.h"
#include "protocol/handshake.h"
#include "protocol/http.h"
#include "protocol/mask.h"

namespace soak {
namespace {

namespace protocol = duplex::protocol;
using duplex::Opcode;

// The three length encodings of RFC 6455 5.2 and their edges: 7-bit (<= 125), 16-bit
// (126 .. 65535), 64-bit (>= 65536).
constexpr size_t kSizes[] = {16, 125, 126, 1000, 4096, 65535, 65536, 200000};

constexpr uint64_t kMs = 1'000'000;
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

std::string hex8(uint32_t v) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", v);
  return text;
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
      if (c.variant != 2) {
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

void Soak::onMessage(Conn& c, Opcode opcode, std::string_view payload) {
  if (c.role == Role::Subscriber || c.role == Role::Publisher) return onPublish(c, payload);
  const std::string who = "connection " + std::to_string(c.serial);
  if (c.echoes.empty()) return error(who + ": a message nobody sent");
  const Expected e = c.echoes.front();
  c.echoes.pop_front();
  uint32_t serial = 0, seq = 0;
  std::string why;
  if (opcode != (e.binary ? Opcode::Binary : Opcode::Text)) return error(who + ": wrong type");
  if (!codecs_[e.sizeClass].read(payload, serial, seq, why)) return error(who + ": " + why);
  if (serial != c.serial || seq != e.seq) {
    return error(who + ": expected echo " + std::to_string(e.seq) + ", got message " +
                 std::to_string(seq) + " of connection " + std::to_string(serial));
  }
  ++echoesChecked_;
  if (c.echoes.empty() && c.closeWhenDone && c.phase == Phase::Open) sendClose(c, 1000);
}

void Soak::onPublish(Conn& c, std::string_view payload) {
  const std::string who =
      (c.role == Role::Publisher ? "publisher " : "subscriber ") + std::to_string(c.serial);
  const size_t* size = std::find(std::begin(kSizes), std::end(kSizes), payload.size());
  if (size == std::end(kSizes)) return error(who + ": publish of an unknown size");
  uint32_t serial = 0, seq = 0;
  std::string why;
  if (!codecs_[static_cast<size_t>(size - kSizes)].read(payload, serial, seq, why)) {
    return error(who + ": " + why);
  }
  if (c.lastPublish < 0 ? seq > c.mustStartBy : seq != c.lastPublish + 1) {
    return error(who + ": got publish " + std::to_string(seq) + " after " +
                 std::to_string(c.lastPublish) + " (first expected by " +
                 std::to_string(c.mustStartBy) + ")");
  }
  c.lastPublish = seq;
  ++broadcastsChecked_;
}

void Soak::onServerClose(Conn& c, uint16_t code) {
  const std::string who = "connection " + std::to_string(c.serial);
  c.closeReceived = true;
  if (c.phase == Phase::Closing) {
    // RFC 6455 5.5.1: the server answers with our code, after everything it sent before.
    if (code != c.closeCode) {
      error(who + ": closed with " + std::to_string(c.closeCode) + ", answered " +
            std::to_string(code));
    }
    if (!c.echoes.empty() || !c.pongs.empty()) {
      error(who + ": close answered before " + std::to_string(c.echoes.size()) + " echoes and " +
            std::to_string(c.pongs.size()) + " pongs");
    }
    return;
  }
  if (c.mayBeDropped && code == 1013) {
    count(c.role == Role::Overflow ? "outcome_overflow_closed_1013" : "outcome_slow_closed_1013");
  } else {
    error(who + ": server closed it with " + std::to_string(code));
  }
  c.echoes.clear();
  c.closeCode = code;
  leaveHeld(c);
  c.phase = Phase::Closing;
  uint8_t payload[protocol::kMaxControlPayload];
  const size_t n = protocol::writeClosePayload(payload, code, "");
  writeFrame(c, Opcode::Close, true, payload, n);
}

void Soak::onGone(Socket& s, int err) {
  Conn& c = static_cast<Conn&>(s);
  const std::string who = "connection " + std::to_string(c.serial);
  const std::string how = err ? std::strerror(err) : "EOF";
  if (c.role == Role::Cut && c.phase == Phase::Upgrading) {
    // The server sweeps its deadlines once a second: a handshake still incomplete goes between
    // T and T + 1 s after the connection was accepted, and not before.
    const uint64_t waited = loop_.now() - c.startedNs;
    const uint64_t limit = options_.handshakeTimeout * 1000 * kMs;
    const bool finished = c.rest.empty();
    if (!limit || waited + bench::kNsPerSecond < limit) {
      error(who + ": server closed a cut handshake after " + std::to_string(waited / kMs) +
            " ms (" + how + ")");
    } else if (c.variant == 2) {
      count("outcome_stalled_handshake_closed_by_server");
    } else if (finished && c.finishedNs - c.startedNs + bench::kNsPerSecond < limit) {
      error(who + ": no answer to a handshake completed after " +
            std::to_string((c.finishedNs - c.startedNs) / kMs) + " ms, closed after " +
            std::to_string(waited / kMs) + " ms");
    } else {
      // Our own timer came late (a busy machine): the server's timeout rightly came first.
      count("outcome_cut_handshake_timed_out_late");
    }
  } else if (c.phase == Phase::Closing && c.closeReceived) {
    if (err)
      error(who + ": reset after the close handshake (" + how + ")");
    else
      ++closedClean_;
  } else if (c.mayBeDropped) {
    count(c.role == Role::Overflow ? "outcome_overflow_dropped" : "outcome_slow_dropped");
  } else {
    error(who + ": server dropped it (" + how + ") while " +
          (c.phase == Phase::Upgrading ? "upgrading"
           : c.phase == Phase::Open    ? "open"
                                       : "closing, before answering our close"));
  }
  finish(c);
}

void Soak::writeFrame(Conn& c, Opcode opcode, bool fin, const uint8_t* payload, size_t size) {
  uint8_t key[4];
  const uint64_t r = random_();
  std::memcpy(key, &r, 4);
  protocol::FrameHeader header;
  header.opcode = opcode;
  header.fin = fin;
  header.payloadSize = size;
  header.maskKey = key;
  uint8_t head[protocol::kMaxFrameHeaderSize];
  const size_t headSize = protocol::writeFrameHeader(head, header);
  uint8_t* out = loop_.append(c, headSize + size);
  std::memcpy(out, head, headSize);
  if (size) std::memcpy(out + headSize, payload, size);
  protocol::applyMask(out + headSize, size, key);
}

void Soak::sendMessage(Conn& c, uint8_t sizeClass, bool binary, bool fragment) {
  const bench::PayloadCodec& codec = codecs_[sizeClass];
  scratch_.resize(codec.size());
  codec.write(scratch_.data(), c.serial, c.nextSeq);
  c.echoes.push_back({c.nextSeq++, sizeClass, binary});
  const Opcode opcode = binary ? Opcode::Binary : Opcode::Text;
  if (!fragment) return writeFrame(c, opcode, true, scratch_.data(), scratch_.size());
  // Two or three fragments (the payload is ASCII, so any cut keeps text valid UTF-8), with a
  // ping between them half the time (RFC 6455 5.4: control frames may be interleaved).
  const size_t size = scratch_.size();
  size_t a = 1 + random_() % (size - 1);
  size_t b = random_() % 2 ? a + (random_() % (size - a)) : size;
  writeFrame(c, opcode, false, scratch_.data(), a);
  if (random_() % 2) sendPing(c);
  if (b < size)
    writeFrame(c, Opcode::Continuation, false, scratch_.data() + a, b - a);
  else
    b = a;
  writeFrame(c, Opcode::Continuation, true, scratch_.data() + b, size - b);
}

void Soak::sendPing(Conn& c) {
  const std::string payload = hex8(pingCounter_);
  c.pongs.push_back(pingCounter_++);
  writeFrame(c, Opcode::Ping, true, reinterpret_cast<const uint8_t*>(payload.data()),
             payload.size());
}

void Soak::sendClose(Conn& c, uint16_t code) {
  // A reason too, cut to fit: the server must answer with the code whatever the reason.
  uint8_t payload[protocol::kMaxControlPayload];
  const size_t n = protocol::writeClosePayload(payload, code, "soak: going away");
  writeFrame(c, Opcode::Close, true, payload, n);
  c.closeCode = code;
  leaveHeld(c);
  c.phase = Phase::Closing;
}

void Soak::publish() {
  if (!publisher_ || publisher_->phase != Phase::Open) return;
  Conn& p = *publisher_;
  const uint8_t sizeClass = randomSizeClass();
  const bench::PayloadCodec& codec = codecs_[sizeClass];
  scratch_.resize(codec.size());
  codec.write(scratch_.data(), p.serial, publishNext_);
  writeFrame(p, publishNext_ % 2 ? Opcode::Binary : Opcode::Text, true, scratch_.data(),
             scratch_.size());
  ++publishNext_;
}

std::string Soak::unsettled() const {
  uint64_t upgrading = 0, busy = 0, closing = 0, echoes = 0, pongs = 0, behind = 0;
  for (const auto& owned : conns_) {
    const Conn& c = *owned;
    if (c.fd < 0) continue;
    upgrading += c.phase == Phase::Upgrading;
    closing += c.phase == Phase::Closing;
    busy += c.busy;
    echoes += c.echoes.size();
    pongs += c.pongs.size();
    if ((c.role == Role::Subscriber || c.role == Role::Publisher) && c.phase == Phase::Open &&
        (c.lastPublish < 0 ? c.mustStartBy < publishNext_ : c.lastPublish + 1 < publishNext_)) {
      ++behind;
    }
  }
  if (!(upgrading | busy | closing | echoes | pongs | behind)) return {};
  return std::to_string(upgrading) + " upgrading, " + std::to_string(closing) + " closing, " +
         std::to_string(busy) + " busy, " + std::to_string(echoes) + " echoes and " +
         std::to_string(pongs) + " pongs missing, " + std::to_string(behind) +
         " subscribers without the last publish";
}

void Soak::sample() {
  if (!probe_.enabled()) return;
  const uint64_t rss = probe_.residentBytes().value_or(0) / 1024;
  if (!rssStart_) rssStart_ = rss;
  rssPeak_ = std::max(rssPeak_, rss);
  fdsPeak_ = std::max<uint64_t>(fdsPeak_, countFds(options_.serverPid));
}

}  // namespace soak
