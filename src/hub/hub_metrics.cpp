// The hub's gauges, counted when /metrics is scraped rather than kept up to date on every
// subscribe and close: a scrape every few seconds walks the clients once, the fast path does
// nothing.
#include <algorithm>
#include <string_view>
#include <unordered_set>

#include "hub/hub.h"
#include "hub/hub_client.h"

namespace duplex::hub {

HubGauges Hub::gauges() const {
  HubGauges gauges;
  gauges.clients = clients_.size();
  gauges.users = users_.size();
  std::unordered_set<std::string_view> channels;
  for (WebSocket* ws : clients_) {
    const Client& client = clientOf(*ws);
    gauges.subscriptions += client.channels.size();
    channels.insert(client.channels.begin(), client.channels.end());
  }
  gauges.channels = channels.size();
  return gauges;
}

std::vector<ChannelSummary> Hub::channelSummaries() {
  std::unordered_set<std::string_view> seen;
  std::vector<ChannelSummary> summaries;
  for (WebSocket* ws : clients_) {
    for (const std::string& channel : clientOf(*ws).channels) {
      if (!seen.insert(channel).second) continue;
      auto position = store_.position(channel);
      summaries.push_back(
          {channel, topics_.subscriberCount(channel), position.ok() ? position->top : 0});
    }
  }
  std::sort(summaries.begin(), summaries.end(),
            [](const ChannelSummary& a, const ChannelSummary& b) { return a.channel < b.channel; });
  return summaries;
}

}  // namespace duplex::hub
