// The hub's gauges, counted when /metrics is scraped rather than kept up to date on every
// subscribe and close: a scrape every few seconds walks the clients once, the fast path does
// nothing.
#include <algorithm>
#include <string_view>
#include <unordered_map>
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

void Hub::channelSummaries(std::function<void(std::vector<ChannelSummary>)> done) {
  // Subscribers counted here (this Hub's connections); the offsets read through the engine,
  // which owns the store: one position read per channel, answered on this loop.
  struct Gathering {
    std::vector<ChannelSummary> summaries;
    size_t waiting = 0;
    std::function<void(std::vector<ChannelSummary>)> done;
  };
  auto gathering = std::make_shared<Gathering>();
  gathering->done = std::move(done);
  std::unordered_map<std::string_view, size_t> index;
  for (WebSocket* ws : clients_) {
    for (const std::string& channel : clientOf(*ws).channels) {
      auto [it, fresh] = index.try_emplace(channel, gathering->summaries.size());
      if (fresh) gathering->summaries.push_back({channel, 0, 0});
      ++gathering->summaries[it->second].subscribers;
    }
  }
  auto finish = [](Gathering& g) {
    std::sort(
        g.summaries.begin(), g.summaries.end(),
        [](const ChannelSummary& a, const ChannelSummary& b) { return a.channel < b.channel; });
    g.done(std::move(g.summaries));
  };
  gathering->waiting = gathering->summaries.size();
  if (gathering->waiting == 0) return finish(*gathering);
  for (size_t i = 0; i < gathering->summaries.size(); ++i) {
    ReadRequest read;
    read.channel = gathering->summaries[i].channel;  // historySize 0: read, never created
    read.nowMs = options_.nowMs();
    engine_.read(loop_, std::move(read), [gathering, i, finish](ReadResult&& result) {
      if (result.ok) gathering->summaries[i].offset = result.position.top;
      if (--gathering->waiting == 0) finish(*gathering);
    });
  }
}

}  // namespace duplex::hub
