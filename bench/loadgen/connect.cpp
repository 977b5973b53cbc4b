// Connect: C slots, each looping open -> upgrade -> close handshake -> TCP close -> reopen.
// A handshake counts when the server's close frame arrives; its latency is connect() to 101.
#include <vector>

#include "histogram.h"
#include "scenarios.h"

namespace bench {
namespace {

class Connect final : public Scenario {
 public:
  Connect(const Options& o, const Target& t) : Scenario(o, t, 1024) {}

  bool run(JsonObject& result) override {
    const uint32_t slots = options_.connections;
    reopening_ = true;
    for (uint32_t id = 0; id < slots && !loop_.failed(); ++id) {
      loop_.open(loop_.connection(id));
      ++active_;
    }
    if (!warmUpThenMeasure()) return false;
    reopening_ = false;
    if (!runUntil([&] { return active_ == 0; }, "the last handshakes")) return false;

    result.add("parallel", slots);
    reportWindow(result, measured_, "handshakes");
    result.add("p50_us", latency_.percentile(0.50) / 1e3)
        .add("p99_us", latency_.percentile(0.99) / 1e3)
        .add("checked", completed_);
    return true;
  }

  void onOpen(Connection& c) override {
    if (measuring()) latency_.record(loop_.now() - c.startedNs());
    loop_.sendClose(c, 1000);
  }

  void onMessage(Connection& c, duplex::Opcode, std::string_view) override {
    fail("connection " + std::to_string(c.id()) + ": unexpected message before close");
  }

  bool onServerClose(Connection& c, uint16_t code) override {
    // 1006: the server closed TCP right after (or instead of) its close frame.
    if (code != 1000 && code != 1005 && code != 1006) return false;
    loop_.close(c);
    ++completed_;
    if (measuring()) ++measured_;
    if (reopening_) {
      loop_.open(c);
    } else {
      --active_;
    }
    return true;
  }

 private:
  LatencyHistogram latency_;
  uint32_t active_ = 0;
  uint64_t completed_ = 0, measured_ = 0;
  bool reopening_ = false;
};

}  // namespace

std::unique_ptr<Scenario> makeConnect(const Options& o, const Target& t) {
  return std::make_unique<Connect>(o, t);
}

}  // namespace bench
