// The churn events: what happens to connections at random while the soak runs, and the timers
// that finish what an event started.
#include <cmath>
#include <cstring>

#include "protocol/frame.h"
#include "protocol/mask.h"
#include "soak.h"

namespace soak {
namespace {

namespace protocol = duplex::protocol;

// Close codes a client may send (RFC 6455 7.4.1; 1004-1006 and 1015 are never sent).
constexpr uint16_t kCloseCodes[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011};

}  // namespace

// The churn table. Weights are relative; kinds the server was not set up for weigh 0.
enum ChurnKind : int {
  kChurnClose,            // close handshake with a random valid code and a reason
  kChurnAbort,            // TCP close (FIN) without a close frame, maybe with a message in flight
  kChurnReset,            // RST (SO_LINGER 0), maybe with a message in flight
  kChurnCutHandshake,     // part of an upgrade request, then hang-up, reset, stall or the rest
  kChurnCutFrame,         // part of a frame (header or payload), then hang-up, reset or the rest
  kChurnPing,             // pings, each to be answered by a pong with its payload, in order
  kChurnSlowReader,       // stop reading for 0.3-3 s with echoes coming back
  kChurnOverflow,         // a reader that never reads and floods past the server's send bound
  kChurnUnsubscribe,      // a subscriber leaves with a close handshake (another one comes)
  kChurnResetSubscriber,  // a subscriber vanishes with RST
  kChurnSlowSubscriber,   // a subscriber stops reading for 0.3-3 s while publishes go on
  kChurnKinds
};

double Soak::exponential(double rate) {
  if (rate <= 0) return INFINITY;
  return -std::log(1.0 - std::uniform_real_distribution<double>(0, 1)(random_)) / rate;
}

uint8_t Soak::randomSizeClass() {
  return static_cast<uint8_t>(sizeClasses_(random_));
}

bool Soak::roomForTransient() const {
  return transient_ < options_.maxTransient;
}

Conn* Soak::pickHeld(std::vector<uint32_t>& list) {
  for (int attempt = 0; attempt < 8 && !list.empty(); ++attempt) {
    Conn& c = *conns_[list[random_() % list.size()]];
    if (!c.busy && c.phase == Phase::Open) return &c;
  }
  return nullptr;
}

void Soak::maintain() {
  if (draining_) return;
  if (options_.broadcast && !publisherStarted_) {
    publisherStarted_ = true;
    publisher_ = start(Role::Publisher);
  }
  const uint32_t echoTarget =
      options_.connections - (options_.broadcast ? options_.subscribers + 1 : 0);
  while (handshaking_ < options_.parallelHandshakes &&
         (options_.broadcast && subscribersLive_ < options_.subscribers)) {
    if (!start(Role::Subscriber)) return;
  }
  while (handshaking_ < options_.parallelHandshakes && echoLive_ < echoTarget) {
    if (!start(Role::Echo)) return;
  }
}

void Soak::sendEchoes(uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    Conn* c = pickHeld(heldEcho_);
    if (!c || c->echoes.size() >= 16) continue;
    sendMessage(*c, randomSizeClass(), random_() % 2, random_() % 4 == 0);
  }
}

void Soak::churn() {
  ++churnEvents_;
  switch (churnKinds_(random_)) {
    case kChurnClose:
      return churnClose(heldEcho_, "churn_close");
    case kChurnAbort:
      return churnAbort();
    case kChurnReset:
      return churnReset(heldEcho_, "churn_reset");
    case kChurnCutHandshake:
      return churnCutHandshake();
    case kChurnCutFrame:
      return churnCutFrame();
    case kChurnPing:
      return churnPing();
    case kChurnSlowReader:
      return churnSlowReader(heldEcho_, "churn_slow_reader");
    case kChurnOverflow:
      return churnOverflow();
    case kChurnUnsubscribe:
      return churnClose(heldSubscribers_, "churn_unsubscribe");
    case kChurnResetSubscriber:
      return churnReset(heldSubscribers_, "churn_reset_subscriber");
    case kChurnSlowSubscriber:
      return churnSlowReader(heldSubscribers_, "churn_slow_subscriber");
  }
}

void Soak::churnClose(std::vector<uint32_t>& list, const char* name) {
  Conn* c = pickHeld(list);
  if (!c) return count("churn_skipped");
  const size_t pick = random_() % (std::size(kCloseCodes) + 1);
  const uint16_t code = pick < std::size(kCloseCodes)
                            ? kCloseCodes[pick]
                            : static_cast<uint16_t>(3000 + random_() % 2000);  // registered/private
  sendClose(*c, code);
  count(name);
}

void Soak::churnAbort() {
  Conn* c = pickHeld(heldEcho_);
  if (!c) return count("churn_skipped");
  c->busy = true;
  if (random_() % 2) sendMessage(*c, randomSizeClass(), false, false);
  loop_.at(*c, loop_.now() + random_() % (20 * kMs), kHangUp);
  count("churn_abort");
}

void Soak::churnReset(std::vector<uint32_t>& list, const char* name) {
  Conn* c = pickHeld(list);
  if (!c) return count("churn_skipped");
  c->busy = true;
  if (c->role == Role::Echo && random_() % 2) sendMessage(*c, randomSizeClass(), true, false);
  loop_.at(*c, loop_.now() + random_() % (20 * kMs), kReset);
  count(name);
}

void Soak::churnCutHandshake() {
  if (!roomForTransient()) return count("churn_skipped");
  Conn* c = start(Role::Cut);
  if (!c) return;
  const uint8_t variants = options_.handshakeTimeout ? 4 : 3;
  const uint8_t v = static_cast<uint8_t>(random_() % variants);
  c->variant = v == 2 && variants == 3 ? static_cast<uint8_t>(kCutResume)
                                       : v;  // stall only with a known timeout
  static const char* const kNames[] = {"churn_cut_handshake_hangup", "churn_cut_handshake_reset",
                                       "churn_cut_handshake_stall", "churn_cut_handshake_resume"};
  count(kNames[c->variant]);
}

void Soak::scheduleCut(Conn& c) {
  const uint64_t now = loop_.now();
  switch (c.variant) {
    case kCutHangUp:
      return loop_.at(c, now + random_() % (300 * kMs), kHangUp);
    case kCutReset:
      return loop_.at(c, now + random_() % (300 * kMs), kReset);
    case kCutStall:
      return loop_.at(c, now + (options_.handshakeTimeout + 3) * 1000 * kMs, kStallExpired);
    default: {
      // Well inside the server's handshake timeout, which must not cut a slow client short.
      uint64_t most = 500 * kMs;
      if (options_.handshakeTimeout) {
        most = std::min<uint64_t>(most, (options_.handshakeTimeout - 1) * 1000 * kMs / 2 + kMs);
      }
      return loop_.at(c, now + 20 * kMs + random_() % most, kFinishHandshake);
    }
  }
}

void Soak::churnCutFrame() {
  Conn* c = pickHeld(heldEcho_);
  if (!c) return count("churn_skipped");
  c->busy = true;
  const uint8_t sizeClass = randomSizeClass();
  const bench::PayloadCodec& codec = codecs_[sizeClass];
  const bool binary = random_() % 2;
  const uint8_t variant = static_cast<uint8_t>(random_() % 3);
  // The whole frame, masked, into `rest`; then the first part of it goes out now.
  scratch_.resize(codec.size());
  codec.write(scratch_.data(), c->serial, c->nextSeq);
  if (variant == kFrameResume) c->echoes.push_back({c->nextSeq, sizeClass, binary});
  ++c->nextSeq;
  uint8_t key[4];
  const uint64_t r = random_();
  std::memcpy(key, &r, 4);
  protocol::FrameHeader header;
  header.opcode = binary ? duplex::Opcode::Binary : duplex::Opcode::Text;
  header.payloadSize = scratch_.size();
  header.maskKey = key;
  c->rest.resize(protocol::kMaxFrameHeaderSize + scratch_.size());
  const size_t headSize = protocol::writeFrameHeader(c->rest.data(), header);
  std::memcpy(c->rest.data() + headSize, scratch_.data(), scratch_.size());
  protocol::applyMask(c->rest.data() + headSize, scratch_.size(), key);
  c->rest.resize(headSize + scratch_.size());
  const size_t cut = 1 + random_() % (c->rest.size() - 1);
  loop_.send(*c, c->rest.data(), cut);
  c->rest.erase(c->rest.begin(), c->rest.begin() + static_cast<std::ptrdiff_t>(cut));
  const uint64_t now = loop_.now();
  static const char* const kNames[] = {"churn_cut_frame_hangup", "churn_cut_frame_reset",
                                       "churn_cut_frame_resume"};
  count(kNames[variant]);
  if (variant == kFrameHangUp) return loop_.at(*c, now + random_() % (300 * kMs), kHangUp);
  if (variant == kFrameReset) return loop_.at(*c, now + random_() % (300 * kMs), kReset);
  loop_.at(*c, now + 10 * kMs + random_() % (1000 * kMs), kFinishFrame);
}

void Soak::churnPing() {
  Conn* c = pickHeld(options_.broadcast && random_() % 2 ? heldSubscribers_ : heldEcho_);
  if (!c) return count("churn_skipped");
  for (uint64_t n = 1 + random_() % 3; n > 0; --n) sendPing(*c);
  count("churn_ping");
}

void Soak::churnSlowReader(std::vector<uint32_t>& list, const char* name) {
  Conn* c = pickHeld(list);
  if (!c) return count("churn_skipped");
  c->busy = true;
  loop_.setPaused(*c, true);
  if (c->role == Role::Echo) {
    // What comes back while we do not read stays well under the server's send bound: none of
    // it may be lost, however long the pause.
    size_t budget = 256 << 10;
    if (options_.serverBackpressure) budget = std::min(budget, options_.serverBackpressure / 4);
    for (int i = 0; i < 64; ++i) {
      const uint8_t sizeClass = randomSizeClass();
      if (codecs_[sizeClass].size() > budget) continue;
      budget -= codecs_[sizeClass].size();
      sendMessage(*c, sizeClass, random_() % 2, random_() % 4 == 0);
    }
  } else {
    // A subscriber that falls behind by more than the topic allows is closed with 1013.
    c->mayBeDropped = true;
  }
  loop_.at(*c, loop_.now() + 300 * kMs + random_() % (2700 * kMs), kResumeReading);
  count(name);
}

void Soak::churnOverflow() {
  if (!roomForTransient()) return count("churn_skipped");
  // A 4 KiB receive window: the kernel cannot hide the flood from the server's send queue.
  if (start(Role::Overflow, 4096)) count("churn_overflow_reader");
}

void Soak::onTimer(Socket& s, uint8_t action) {
  Conn& c = static_cast<Conn&>(s);
  switch (action) {
    case kResumeReading:
      loop_.setPaused(c, false);
      c.busy = false;
      return;
    case kFinishFrame:
      loop_.send(c, c.rest.data(), c.rest.size());
      c.rest.clear();
      c.busy = false;
      return;
    case kFinishHandshake:
      loop_.send(c, c.rest.data(), c.rest.size());
      c.rest.clear();
      c.finishedNs = loop_.now();
      loop_.at(c, loop_.now() + 15'000 * kMs, kHandshakeWatchdog);
      return;
    case kHangUp:
      loop_.close(c);
      return finish(c);
    case kReset:
      loop_.reset(c);
      return finish(c);
    case kStallExpired:
      error("connection " + std::to_string(c.serial) + ": a handshake stalled for " +
            std::to_string(options_.handshakeTimeout + 3) + " s is still open (timeout " +
            std::to_string(options_.handshakeTimeout) + " s)");
      loop_.reset(c);
      return finish(c);
    case kHandshakeWatchdog:
      if (c.phase != Phase::Upgrading) return;
      error("connection " + std::to_string(c.serial) + ": no 101 within 15 s");
      loop_.reset(c);
      return finish(c);
    case kOverflowEnd:
      // Not dropped: everything the server echoed must now arrive, intact and in order.
      count("outcome_overflow_not_dropped_in_2s");
      loop_.setPaused(c, false);
      c.busy = false;
      c.closeWhenDone = true;
      if (c.echoes.empty() && c.phase == Phase::Open) sendClose(c, 1000);
      return;
  }
}

}  // namespace soak
