// The hub's numbers over every loop. Counters are plain integers each loop bumps on its own
// thread; gauges are counted when asked rather than kept up to date on every subscribe and
// close: a scrape every few seconds walks the clients once, the fast path does nothing. A
// running server asks each loop on its own thread (report(), net/every_loop.h).
#include <algorithm>
#include <map>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "hub/hub.h"
#include "hub/hub_client.h"
#include "net/every_loop.h"

namespace duplex::hub {

void HubStats::add(const HubStats& other) {
  commands += other.commands;
  errors += other.errors;
  published += other.published;
  duplicates += other.duplicates;
  unavailable += other.unavailable;
}

void HubMetrics::add(const HubMetrics& other) {
  for (size_t i = 0; i < errors.size(); ++i) errors[i] += other.errors[i];
  acks += other.acks;
  recovered += other.recovered;
  notRecovered += other.notRecovered;
  commandsRateLimited += other.commandsRateLimited;
  publishesRateLimited += other.publishesRateLimited;
  commandsIn += other.commandsIn;
  commandBytesIn += other.commandBytesIn;
  repliesOut += other.repliesOut;
  replyBytesOut += other.replyBytesOut;
  storeCommit.add(other.storeCommit);
  for (const ApiCalls& row : other.apiCalls) countApiCall(row.endpoint, row.status, row.count);
}

void HubReport::add(const HubReport& other) {
  stats.add(other.stats);
  metrics.add(other.metrics);
  gauges.clients += other.gauges.clients;
  gauges.subscriptions += other.gauges.subscriptions;
  users.insert(other.users.begin(), other.users.end());
  channels.insert(other.channels.begin(), other.channels.end());
  gauges.users = users.size();
  gauges.channels = channels.size();
}

HubReport Hub::reportOf(const net::Loop& loop) const {
  const LoopPart& part = partOf(loop);
  HubReport report;
  report.stats = part.stats;
  report.metrics = part.metrics;
  report.gauges.clients = part.clients.size();
  for (const auto& [user, connections] : part.users) report.users.insert(user);
  for (WebSocket* ws : part.clients) {
    const Client& client = clientOf(*ws);
    report.gauges.subscriptions += client.channels.size();
    report.channels.insert(client.channels.begin(), client.channels.end());
  }
  report.gauges.users = report.users.size();
  report.gauges.channels = report.channels.size();
  return report;
}

void Hub::report(std::function<void(HubReport)> done) {
  net::askEveryLoop<HubReport>(
      loopList_,
      [life = lifeline_.handle()](net::Loop& loop) {
        const Hub* hub = life.get();
        return hub ? hub->reportOf(loop) : HubReport{};
      },
      [done = std::move(done)](std::vector<HubReport> reports) {
        HubReport total;
        for (const HubReport& r : reports) total.add(r);
        done(std::move(total));
      });
}

HubStats Hub::stats() const {
  HubStats total;
  for (const auto& part : parts_) total.add(part->stats);
  return total;
}

HubMetrics Hub::metrics() const {
  HubMetrics total;
  for (const auto& part : parts_) total.add(part->metrics);
  return total;
}

HubGauges Hub::gauges() const {
  HubReport total;
  for (const auto& part : parts_) total.add(reportOf(*part->loop));
  return total.gauges;
}

size_t Hub::clientCount() const {
  size_t count = 0;
  for (const auto& part : parts_) count += part->clients.size();
  return count;
}

void Hub::channelSummaries(std::function<void(std::vector<ChannelSummary>)> done) {
  // Subscribers counted on each loop (its connections); the offsets read through the engine,
  // which owns the store: one position read per channel, answered on the calling loop.
  using Counts = std::map<std::string, size_t>;
  net::askEveryLoop<Counts>(
      loopList_,
      [life = lifeline_.handle()](net::Loop& loop) {
        Counts counts;
        const Hub* hub = life.get();
        if (!hub) return counts;
        for (WebSocket* ws : hub->partOf(loop).clients) {
          for (const std::string& channel : clientOf(*ws).channels) ++counts[channel];
        }
        return counts;
      },
      [life = lifeline_.handle(), done = std::move(done)](std::vector<Counts> perLoop) mutable {
        Hub* hub = life.get();
        Counts all;
        for (const Counts& counts : perLoop) {
          for (const auto& [channel, n] : counts) all[channel] += n;
        }
        struct Gathering {
          std::vector<ChannelSummary> summaries;  // sorted by channel: `all` is a map
          size_t waiting = 0;
          std::function<void(std::vector<ChannelSummary>)> done;
        };
        auto gathering = std::make_shared<Gathering>();
        gathering->done = std::move(done);
        for (const auto& [channel, n] : all) gathering->summaries.push_back({channel, n, 0});
        gathering->waiting = gathering->summaries.size();
        if (gathering->waiting == 0 || !hub)
          return gathering->done(std::move(gathering->summaries));
        for (size_t i = 0; i < gathering->summaries.size(); ++i) {
          ReadRequest read;
          read.channel = gathering->summaries[i].channel;  // historySize 0: read, never created
          read.nowMs = hub->options_.nowMs();
          hub->engine_.read(*hub->here().loop, std::move(read),
                            [gathering, i](ReadResult&& result) {
                              if (result.ok) gathering->summaries[i].offset = result.position.top;
                              if (--gathering->waiting == 0) {
                                gathering->done(std::move(gathering->summaries));
                              }
                            });
        }
      });
}

}  // namespace duplex::hub
