// The run: churn for the given time, then drain (every reply in, every subscriber up to date),
// then close every connection with a close handshake and report.
#include <cmath>

#include "clock.h"
#include "soak.h"

namespace soak {
namespace {

constexpr uint64_t kMaxErrors = 50;  // enough to see a pattern; the run stops there

uint64_t secondsToNs(double s) {
  return static_cast<uint64_t>(s * static_cast<double>(bench::kNsPerSecond));
}

}  // namespace

bool Soak::run(bench::JsonObject& result) {
  const bool bounded = options_.serverBackpressure > 0;
  const bool broadcast = options_.broadcast;
  // Churn kinds (churn.cpp's ChurnKind order) and their relative weights.
  churnKinds_ = std::discrete_distribution<int>({15, 8, 10, 15, 12, 15, 8, bounded ? 2.0 : 0.0,
                                                 broadcast ? 10.0 : 0.0, broadcast ? 6.0 : 0.0,
                                                 broadcast ? 5.0 : 0.0});
  // Size classes (soak.cpp's kSizes): mostly small, some at every length-encoding edge.
  sizeClasses_ = std::discrete_distribution<int>({30, 15, 15, 20, 10, 4, 4, 2});

  sample();
  const uint64_t start = loop_.now();
  const uint64_t end = start + secondsToNs(options_.seconds);
  double nextChurn = static_cast<double>(start) + exponential(options_.churnRate) * 1e9;
  double messageDebt = 0, publishDebt = 0;
  uint64_t last = start, nextSample = start + bench::kNsPerSecond;
  while (loop_.now() < end && errors_ < kMaxErrors) {
    maintain();
    loop_.turn(5);
    const uint64_t now = loop_.now();
    while (nextChurn <= static_cast<double>(now)) {
      churn();
      nextChurn += exponential(options_.churnRate) * 1e9;
    }
    const double elapsed = static_cast<double>(now - last) / 1e9;
    last = now;
    messageDebt += elapsed * options_.messageRate;
    sendEchoes(static_cast<uint64_t>(messageDebt));
    messageDebt -= std::floor(messageDebt);
    if (broadcast) {
      publishDebt += elapsed * options_.publishRate;
      for (; publishDebt >= 1; publishDebt -= 1) publish();
    }
    if (now >= nextSample) {
      sample();
      nextSample += bench::kNsPerSecond;
    }
  }
  const double churned = static_cast<double>(loop_.now() - start) / 1e9;
  const uint64_t openAtEnd = loop_.openSockets();
  drain();
  report(result, churned);
  result.add("open_at_end_of_churn", openAtEnd);
  return errors_ == 0;
}

void Soak::drain() {
  draining_ = true;
  // Slow readers read again; cut frames and handshakes finish on their own timers.
  for (const auto& owned : conns_) {
    Conn& c = *owned;
    if (c.fd >= 0 && c.paused && c.role != Role::Overflow) {
      loop_.setPaused(c, false);
      c.busy = false;
    }
  }
  uint64_t deadline = loop_.now() + secondsToNs(options_.drainTimeout);
  std::string waiting = unsettled();
  while (!waiting.empty() && loop_.now() < deadline && errors_ < kMaxErrors) {
    loop_.turn(5);
    waiting = unsettled();
  }
  if (!waiting.empty())
    error("drain: after " + std::to_string(options_.drainTimeout) + " s, " + waiting);

  // Every connection left ends with a close handshake, which the server must complete.
  for (const auto& owned : conns_) {
    Conn& c = *owned;
    if (c.fd < 0) continue;
    if (c.phase == Phase::Open) {
      sendClose(c, 1000);
    } else if (c.phase != Phase::Closing) {
      loop_.reset(c);
      finish(c);
    }
  }
  deadline = loop_.now() + secondsToNs(options_.drainTimeout);
  while (loop_.openSockets() > 0 && loop_.now() < deadline) loop_.turn(5);
  if (loop_.openSockets() > 0) {
    error("close: " + std::to_string(loop_.openSockets()) +
          " connections still open after the close handshake: " + unsettled());
  }
  sample();
}

void Soak::report(bench::JsonObject& result, double seconds) {
  result.add("ok", errors_ == 0)
      .add("seed", options_.seed)
      .add("seconds", seconds)
      .add("sources", options_.sources)
      .add("connections_target", options_.connections)
      .add("connections_opened", opened_)
      .add("handshakes", handshakes_)
      .add("max_open", maxOpen_)
      .add("closed_by_close_handshake", closedClean_)
      .add("churn_events", churnEvents_)
      .add("churn_per_second", seconds > 0 ? static_cast<double>(churnEvents_) / seconds : 0.0)
      .add("echoes_checked", echoesChecked_)
      .add("pongs_checked", pongsChecked_);
  if (options_.broadcast) {
    result.add("publishes", publishNext_).add("broadcasts_checked", broadcastsChecked_);
  }
  for (const auto& [name, n] : events_) result.add(name, n);
  if (probe_.enabled()) {
    result.add("server_rss_start_kib", rssStart_)
        .add("server_rss_peak_kib", rssPeak_)
        .add("server_fds_peak", fdsPeak_);
  }
  result.add("errors", errors_);
  if (!firstErrors_.empty()) result.add("first_errors", firstErrors_);
}

}  // namespace soak
