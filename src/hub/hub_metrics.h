#pragma once
// What the hub counts for /metrics (docs/deploy.md lists the Prometheus names). Plain integers
// bumped on the loop thread of the connection: no locks, no atomics, no allocation per message.
// Each loop keeps its own; a scrape reads each loop's on that loop's thread and adds them up
// (Hub::report). Gauges (connections, subscriptions, channels) are
// not kept here: they are counted when scraped (Hub::gauges()), which costs the fast path
// nothing.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hub/hub_protocol_error.h"

namespace duplex::hub {

// A Prometheus histogram of durations in seconds with fixed buckets (cumulative when written).
class LatencyHistogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                     0.01,   0.025,   0.05,   0.1,   0.25,   1.0};
  void observe(double seconds) {
    size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    ++counts_[i];  // counts_[kBounds.size()]: above the last bound (+Inf only)
    sum_ += seconds;
    ++count_;
  }
  // Observations <= kBounds[i] (i < kBounds.size()), or all of them (i == kBounds.size()).
  uint64_t cumulative(size_t i) const {
    uint64_t total = 0;
    for (size_t j = 0; j <= i; ++j) total += counts_[j];
    return total;
  }
  double sum() const { return sum_; }
  uint64_t count() const { return count_; }
  void add(const LatencyHistogram& other) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    sum_ += other.sum_;
    count_ += other.count_;
  }

 private:
  std::array<uint64_t, kBounds.size() + 1> counts_{};
  double sum_ = 0;
  uint64_t count_ = 0;
};

struct HubMetrics {
  std::array<uint64_t, kAllErrorCodes.size()> errors{};  // by code, WebSocket and API replies
  uint64_t acks = 0;                  // publishes acknowledged to a WebSocket client
  uint64_t recovered = 0;             // subscribes with `since` answered with what was missed
  uint64_t notRecovered = 0;          // ... answered recovered:false (the client reloads)
  uint64_t commandsRateLimited = 0;   // commands refused by the per-connection command rate
  uint64_t publishesRateLimited = 0;  // publishes refused by a namespace's publish rate
  uint64_t commandsIn = 0;            // WebSocket messages received on the hub's path
  uint64_t commandBytesIn = 0;
  uint64_t repliesOut = 0;  // replies and disconnect pushes (publications: Topics)
  uint64_t replyBytesOut = 0;
  LatencyHistogram storeCommit;  // ChannelStore::append, the group commit and the API's

  // The server API by endpoint and HTTP status; a handful of rows, found by a short scan.
  struct ApiCalls {
    std::string endpoint;
    int status;
    uint64_t count;
  };
  std::vector<ApiCalls> apiCalls;

  void countError(ErrorCode code) { ++errors[static_cast<size_t>(code)]; }
  // Another loop's counters added to these (a scrape over several loops).
  void add(const HubMetrics& other);
  void countApiCall(std::string_view endpoint, int status, uint64_t count = 1) {
    for (ApiCalls& row : apiCalls) {
      if (row.status == status && row.endpoint == endpoint) {
        row.count += count;
        return;
      }
    }
    apiCalls.push_back({std::string(endpoint), status, count});
  }
};

struct ChannelSummary {
  std::string channel;
  size_t subscribers = 0;
  uint64_t offset = 0;  // the latest publication's; 0 without history
};

// Counted at scrape time.
struct HubGauges {
  size_t clients = 0;        // open WebSockets on the hub's path
  size_t subscriptions = 0;  // channel subscriptions over all clients (personal ones included)
  size_t channels = 0;       // channels with at least one subscriber
  size_t users = 0;          // distinct authenticated users connected
};

}  // namespace duplex::hub
