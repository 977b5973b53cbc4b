// Echo: every reply must come back on the connection that sent it, in order, byte for byte.
#include <string>
#include <utility>
#include <vector>

#include "histogram.h"
#include "ordered_messages.h"
#include "scenarios.h"

namespace bench {
namespace {

class Echo final : public Scenario {
 public:
  Echo(const Options& o, const Target& t)
      : Scenario(o, t, o.bytes),
        messages_(o, o.connections),
        nextSend_(o.connections, 0),
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
    // Each connection hears its own messages back.
    uint32_t seq = 0;
    std::string why;
    if (!messages_.isNext(c.id(), c.id(), opcode, payload, seq, why)) {
      fail(std::move(why));
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
    const PayloadCodec& codec = messages_.codec();
    loop_.sendFrame(c, messages_.opcode(), codec.size(),
                    [&](uint8_t* out) { codec.write(out, c.id(), seq); });
    ++outstanding_;
  }

  OrderedMessages messages_;
  std::vector<uint32_t> nextSend_;
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
