// Idle: N connections opened and left alone; what does each cost the server in memory? After
// the reading, one message on every connection proves they were all still alive.
#include <vector>

#include "payload.h"
#include "scenarios.h"

namespace bench {
namespace {

class Idle final : public Scenario {
 public:
  Idle(const Options& o, const Target& t)
      : Scenario(o, t, o.bytes), codec_(o.bytes, o.payload), echoed_(o.connections, false) {}

  bool run(JsonObject& result) override {
    const uint32_t n = options_.connections;
    // Let the server finish starting up (lazy imports, first allocations) before the baseline.
    if (!runFor(0.2)) return false;
    const auto rssBefore = probe_.residentBytes();
    const uint64_t kernelBefore = kernelSocketBytes();
    if (!openAll(0, n)) return false;
    if (!runFor(options_.hold)) return false;
    const auto rssAfter = probe_.residentBytes();
    const uint64_t kernelAfter = kernelSocketBytes();

    for (uint32_t id = 0; id < n; ++id) {
      Connection& c = loop_.connection(id);
      loop_.sendFrame(c, duplex::Opcode::Text, codec_.size(),
                      [&](uint8_t* out) { codec_.write(out, id, 0); });
    }
    if (!runUntil([&] { return echoes_ == n; }, "one echo on every idle connection")) return false;
    if (!closeAll(0, n)) return false;

    result.add("connections", n).add("checked", echoes_);
    if (rssBefore && rssAfter) {
      const double delta = static_cast<double>(*rssAfter) - static_cast<double>(*rssBefore);
      result.add("server_rss_before", *rssBefore)
          .add("server_rss_after", *rssAfter)
          .add("server_bytes_per_conn", delta / n);
    }
    // Machine-wide, so both ends of each loopback connection (ours and the server's) count.
    result.add("kernel_bytes_per_conn_both_ends",
               (static_cast<double>(kernelAfter) - static_cast<double>(kernelBefore)) / n);
    return true;
  }

  void onOpen(Connection&) override { onOpened(); }

  void onMessage(Connection& c, duplex::Opcode opcode, std::string_view payload) override {
    uint32_t sender = 0, seq = 0;
    std::string why;
    if (opcode != duplex::Opcode::Text || !codec_.read(payload, sender, seq, why) ||
        sender != c.id() || seq != 0 || echoed_[c.id()]) {
      fail("connection " + std::to_string(c.id()) + ": wrong echo " + why);
      return;
    }
    echoed_[c.id()] = true;
    ++echoes_;
  }

 private:
  PayloadCodec codec_;
  std::vector<bool> echoed_;
  uint32_t echoes_ = 0;
};

}  // namespace

std::unique_ptr<Scenario> makeIdle(const Options& o, const Target& t) {
  return std::make_unique<Idle>(o, t);
}

}  // namespace bench
