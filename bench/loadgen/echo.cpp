// Echo: every reply must come back on the connection that sent it, in order, byte for byte.
#include <vector>

#include "histogram.h"
#include "payload.h"
#include "scenarios.h"

namespace bench {
namespace {

class Echo final : public Scenario {
 public:
  Echo(const Options& o, const Target& t)
      : Scenario(o, t, o.bytes),
        codec_(o.bytes, o.payload),
        opcode_(o.binary ? duplex::Opcode::Binary : duplex::Opcode::Text),
        nextSend_(o.connections, 0),
        nextReceive_(o.connections, 0),
        sentAt_(static_cast<size_t>(o.connections) * o.inFlight, 0) {}

  bool run(JsonObject& result) override {
    const uint32_t n = options_.connections;
    if (!openAll(0, n)) return false;
    sending_ = true;
    for (uint32_t id = 0; id < n; ++id) {
      for (uint32_t k = 0; k < options_.inFlight; ++k) sendOne(loop_.connection(id));
    }
    if (!warmUpThenMeasure()) return false;
    // Every message sent must come back, or the server lost one.
    sending_ = false;
    if (!runUntil([&] { return outstanding_ == 0; }, "the last echoes")) return false;
    if (!closeAll(0, n)) return false;

    result.add("connections", n)
        .add("in_flight", options_.inFlight)
        .add("bytes", static_cast<uint64_t>(options_.bytes))
        .add("type", options_.binary ? "binary" : "text");
    reportWindow(result, measured_, "messages");
    result.add("p50_us", latency_.percentile(0.50) / 1e3)
        .add("p99_us", latency_.percentile(0.99) / 1e3)
        .add("checked", received_);
    return true;
  }

  void onOpen(Connection&) override { onOpened(); }

  void onMessage(Connection& c, duplex::Opcode opcode, std::string_view payload) override {
    uint32_t sender = 0, seq = 0;
    std::string why;
    if (opcode != opcode_) {
      fail("connection " + std::to_string(c.id()) + ": got a message of the wrong type");
      return;
    }
    if (!codec_.read(payload, sender, seq, why)) {
      fail("connection " + std::to_string(c.id()) + ": " + why);
      return;
    }
    const uint32_t expected = nextReceive_[c.id()]++;
    if (sender != c.id() || seq != expected) {
      fail("connection " + std::to_string(c.id()) + ": expected its message " +
           std::to_string(expected) + ", got message " + std::to_string(seq) + " of connection " +
           std::to_string(sender));
      return;
    }
    ++received_;
    --outstanding_;
    if (measuring()) {
      latency_.record(loop_.now() - sentAt_[slot(c.id(), seq)]);
      ++measured_;
    }
    if (sending_) sendOne(c);
  }

 private:
  size_t slot(uint32_t id, uint32_t seq) const {
    return static_cast<size_t>(id) * options_.inFlight + seq % options_.inFlight;
  }

  void sendOne(Connection& c) {
    const uint32_t seq = nextSend_[c.id()]++;
    sentAt_[slot(c.id(), seq)] = loop_.now();
    loop_.sendFrame(c, opcode_, codec_.size(),
                    [&](uint8_t* out) { codec_.write(out, c.id(), seq); });
    ++outstanding_;
  }

  PayloadCodec codec_;
  duplex::Opcode opcode_;
  std::vector<uint32_t> nextSend_, nextReceive_;
  std::vector<uint64_t> sentAt_;  // W slots per connection: send time of seq % W
  LatencyHistogram latency_;
  uint64_t outstanding_ = 0, received_ = 0, measured_ = 0;
  bool sending_ = false;
};

}  // namespace

std::unique_ptr<Scenario> makeEcho(const Options& o, const Target& t) {
  return std::make_unique<Echo>(o, t);
}

}  // namespace bench
