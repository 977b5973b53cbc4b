// Fan-out: one publisher, S subscribers, a server that sends every message to every connection.
// Each subscriber (and the publisher, which hears itself) must receive every publish, in order.
#include <string>
#include <utility>
#include <vector>

#include "histogram.h"
#include "ordered_messages.h"
#include "scenarios.h"

namespace bench {
namespace {

class Fanout final : public Scenario {
 public:
  Fanout(const Options& o, const Target& t)
      : Scenario(o, t, o.bytes),
        messages_(o, o.subscribers + 1),
        publisher_(o.subscribers),
        publishedAt_(o.inFlight, 0),
        receipts_(o.inFlight, 0) {}

  bool run(JsonObject& result) override {
    const uint32_t all = options_.subscribers + 1;
    if (!openAll(0, all)) return false;
    // A server may register a connection just after its 101 is on the wire; let that settle
    // so that the first publish reaches everyone.
    if (!runFor(0.3)) return false;
    sending_ = true;
    for (uint32_t k = 0; k < options_.inFlight; ++k) publish();
    if (!warmUpThenMeasure()) return false;
    sending_ = false;
    if (!runUntil([&] { return outstanding_ == 0; }, "the last deliveries")) return false;
    if (!closeAll(0, all)) return false;

    result.add("subscribers", options_.subscribers)
        .add("in_flight", options_.inFlight)
        .add("bytes", static_cast<uint64_t>(options_.bytes))
        .add("type", options_.binary ? "binary" : "text");
    reportWindow(result, measured_, "deliveries");
    result.add("publishes", completedInWindow_)
        .add("p50_us", latency_.percentile(0.50) / 1e3)
        .add("p99_us", latency_.percentile(0.99) / 1e3)
        .add("checked", received_);
    return true;
  }

  void onOpen(Connection&) override { onOpened(); }

  void onMessage(Connection& c, duplex::Opcode opcode, std::string_view payload) override {
    uint32_t seq = 0;
    std::string why;
    if (!messages_.isNext(c.id(), publisher_, opcode, payload, seq, why)) {
      fail(std::move(why));
      return;
    }
    ++received_;
    const uint32_t slot = seq % options_.inFlight;
    if (measuring()) {
      latency_.record(loop_.now() - publishedAt_[slot]);
      ++measured_;
    }
    if (++receipts_[slot] == options_.subscribers + 1) {
      --outstanding_;
      if (measuring()) ++completedInWindow_;
      if (sending_) publish();
    }
  }

 private:
  void publish() {
    const uint32_t seq = nextPublish_++;
    const uint32_t slot = seq % options_.inFlight;
    publishedAt_[slot] = loop_.now();
    receipts_[slot] = 0;
    Connection& c = loop_.connection(publisher_);
    const PayloadCodec& codec = messages_.codec();
    loop_.sendFrame(c, messages_.opcode(), codec.size(),
                    [&](uint8_t* out) { codec.write(out, c.id(), seq); });
    ++outstanding_;
  }

  OrderedMessages messages_;
  uint32_t publisher_;  // its id; subscribers are 0 .. S-1
  uint32_t nextPublish_ = 0;
  // W slots, for publish seq % W: when it was sent, and how many connections have it so far.
  std::vector<uint64_t> publishedAt_;
  std::vector<uint32_t> receipts_;
  LatencyHistogram latency_;
  uint64_t outstanding_ = 0, received_ = 0, measured_ = 0, completedInWindow_ = 0;
  bool sending_ = false;
};

}  // namespace

std::unique_ptr<Scenario> makeFanout(const Options& o, const Target& t) {
  return std::make_unique<Fanout>(o, t);
}

}  // namespace bench
