// Idle: N connections opened and left alone; what does each cost the server in memory? After
// the reading, one message on every connection proves they were all still alive.
//
// What the server spends once, not per connection, must stay out of the figure: the first
// handshake pulls in libcrypto's SHA-1 (its provider tables and some 2 MB of code pages), and
// a burst of handshakes leaves the loop's chunk pool at its high-water mark. So a warm-up
// batch of connections (as many as handshake at once) is opened and kept open before the
// baseline is read, and the N measured ones come after it. The figure is also taken twice,
// after N/2 and after N: the slope between the two is the cost of one more connection, which
// is what "per connection" means; the average over N agrees with it when nothing fixed is left.
#include <algorithm>
#include <vector>

#include "payload.h"
#include "scenarios.h"

namespace bench {
namespace {

class Idle final : public Scenario {
 public:
  Idle(const Options& o, const Target& t)
      : Scenario(o, t, o.bytes),
        codec_(o.bytes, o.payload),
        warmup_(std::max<uint32_t>(1, std::min(o.parallelHandshakes, o.connections))),
        echoed_(o.connections + warmup_, false) {}

  bool run(JsonObject& result) override {
    const uint32_t n = options_.connections;
    const uint32_t half = n / 2;
    const uint32_t total = n + warmup_;
    // Ids [n, n + warmup) are the warm-up batch, held open until the end like the others.
    if (!openAll(n, warmup_)) return false;
    // Let the server finish what the warm-up started (lazy imports, deferred frees).
    if (!runFor(0.2)) return false;
    const auto rssBefore = probe_.residentBytes();
    const uint64_t kernelBefore = kernelSocketBytes();
    if (!openAll(0, half)) return false;
    if (!runFor(std::min(options_.hold, 0.2))) return false;
    const auto rssHalf = probe_.residentBytes();
    if (!openAll(half, n - half)) return false;
    if (!runFor(options_.hold)) return false;
    const auto rssAfter = probe_.residentBytes();
    const uint64_t kernelAfter = kernelSocketBytes();

    for (uint32_t id = 0; id < total; ++id) {
      Connection& c = loop_.connection(id);
      loop_.sendFrame(c, duplex::Opcode::Text, codec_.size(),
                      [&](uint8_t* out) { codec_.write(out, id, 0); });
    }
    if (!runUntil([&] { return echoes_ == total; }, "one echo on every idle connection"))
      return false;
    if (!closeAll(0, total)) return false;

    result.add("connections", n).add("warmup_connections", warmup_).add("checked", echoes_);
    if (rssBefore && rssHalf && rssAfter) {
      const auto bytes = [](uint64_t v) { return static_cast<double>(v); };
      result.add("server_rss_before", *rssBefore)
          .add("server_rss_half", *rssHalf)
          .add("server_rss_after", *rssAfter)
          .add("server_bytes_per_conn", (bytes(*rssAfter) - bytes(*rssBefore)) / n)
          .add("server_bytes_per_conn_slope",
               (bytes(*rssAfter) - bytes(*rssHalf)) / static_cast<double>(n - half));
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
  uint32_t warmup_;
  std::vector<bool> echoed_;
  uint32_t echoes_ = 0;
};

}  // namespace

std::unique_ptr<Scenario> makeIdle(const Options& o, const Target& t) {
  return std::make_unique<Idle>(o, t);
}

}  // namespace bench
