// What the server sends back, judged: echoes, publishes, close frames and the end of each
// connection (expected or not), and what is still missing when the run ends.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "clock.h"
#include "protocol/frame.h"
#include "soak.h"

namespace soak {

namespace protocol = duplex::protocol;
using duplex::Opcode;

std::string hex8(uint32_t v) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", v);
  return text;
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
    } else if (c.variant == kCutStall) {
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

}  // namespace soak
