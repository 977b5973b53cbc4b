#include "scenario.h"

#include <algorithm>

#include "clock.h"

namespace bench {

Scenario::Scenario(const Options& options, const Target& target, uint64_t maxMessageSize)
    : options_(options), loop_(target, *this, maxMessageSize), probe_(options.serverPid) {
  if (options.deflate) loop_.enableDeflate(options.deflateTakeover);
}

bool Scenario::openAll(uint32_t first, uint32_t count) {
  toOpen_ = first;
  openEnd_ = first + count;
  openedCount_ = 0;
  const uint32_t burst = std::min(count, options_.parallelHandshakes);
  for (uint32_t i = 0; i < burst && !loop_.failed(); ++i) loop_.open(loop_.connection(toOpen_++));
  return runUntil([&] { return openedCount_ == count; }, "connections to open");
}

void Scenario::onOpened() {
  ++openedCount_;
  if (toOpen_ < openEnd_) loop_.open(loop_.connection(toOpen_++));
}

bool Scenario::runFor(double seconds) {
  const uint64_t end = monotonicNs() + static_cast<uint64_t>(seconds * kNsPerSecond);
  while (!loop_.failed() && loop_.now() < end) {
    const uint64_t left = (end - loop_.now()) / 1'000'000;
    loop_.turn(static_cast<int>(std::min<uint64_t>(left, 10)));
  }
  return !loop_.failed();
}

bool Scenario::runUntil(const std::function<bool()>& done, const char* what) {
  const uint64_t deadline = monotonicNs() + static_cast<uint64_t>(options_.timeout * kNsPerSecond);
  while (!loop_.failed() && !done()) {
    if (loop_.now() > deadline) {
      return fail(std::string("timed out after ") + std::to_string(options_.timeout) +
                  " s waiting for " + what);
    }
    loop_.turn(10);
  }
  return !loop_.failed();
}

bool Scenario::warmUpThenMeasure() {
  if (!runFor(options_.warmup)) return false;
  measuring_ = true;
  cpuStart_ = probe_.cpu();
  windowStart_ = monotonicNs();
  const bool ran = runFor(options_.duration);
  windowEnd_ = monotonicNs();
  cpuEnd_ = probe_.cpu();
  measuring_ = false;
  return ran;
}

void Scenario::reportWindow(JsonObject& result, uint64_t count, const char* countName) const {
  const double seconds = static_cast<double>(windowEnd_ - windowStart_) / kNsPerSecond;
  const double serverCpu = cpuEnd_.server - cpuStart_.server;
  const double generatorCpu = cpuEnd_.generator - cpuStart_.generator;
  result.add("duration_s", seconds)
      .add(countName, count)
      .add("rate", static_cast<double>(count) / seconds)
      .add("generator_cpu_share", generatorCpu / seconds)
      .add("payload", options_.payload);
  if (options_.deflate) {
    // How much the server really compressed (it may send some or all messages plain, which
    // RFC 7692 allows), and how well this workload compresses (what the generator sent).
    const auto share = [](uint64_t part, uint64_t whole) {
      return whole ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
    };
    result.add("deflate", options_.deflateTakeover ? "context_takeover" : "no_context_takeover")
        .add("received_compressed_share",
             share(loop_.compressedReceived(), loop_.messagesReceived()))
        .add("sent_compression_ratio", share(loop_.compressedBytesSent(), loop_.plainBytesSent()));
  }
  if (probe_.enabled()) {
    result.add("server_cpu_s", serverCpu)
        .add("server_cpu_share", serverCpu / seconds)
        .add("server_cpu_us_per_msg", count ? serverCpu * 1e6 / static_cast<double>(count) : 0.0);
  }
}

bool Scenario::closeAll(uint32_t first, uint32_t count) {
  closing_ = true;
  closesPending_ = 0;
  for (uint32_t id = first; id < first + count; ++id) {
    Connection& c = loop_.connection(id);
    if (!c.open()) continue;
    loop_.sendClose(c, 1000);
    ++closesPending_;
  }
  return runUntil([&] { return closesPending_ == 0; }, "close handshakes");
}

bool Scenario::onServerClose(Connection& c, uint16_t) {
  if (!closing_) return false;
  loop_.close(c);
  --closesPending_;
  return true;
}

}  // namespace bench
