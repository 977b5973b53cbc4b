#include "admin.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "hub/hub_protocol_writer.h"
#include "net/log.h"
#include "server/websocket.h"

namespace duplexd {

using duplex::WebSocket;

struct AdminPage::State {
  // The watchers of one loop and its timer, touched on that loop's thread only.
  struct OnLoop {
    duplex::net::Loop* loop;
    std::unordered_set<WebSocket*> watchers;  // logged in
    duplex::net::Loop::TimerId timer = 0;
  };

  duplex::App& app;
  duplex::hub::Hub& hub;
  LoopTopics& topics;
  std::string secret;
  std::vector<std::unique_ptr<OnLoop>> loops;  // fixed once the loops run

  OnLoop& on(const duplex::net::Loop& loop) {
    for (auto& l : loops) {
      if (l->loop == &loop) return *l;
    }
    return *loops.front();  // unreachable: connections are on the App's loops
  }

  // Same comparison as the API key's: time independent of where the strings differ.
  bool accepts(std::string_view given) const {
    if (secret.empty() || given.size() != secret.size()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < given.size(); ++i) {
      diff |= static_cast<unsigned char>(given[i] ^ secret[i]);
    }
    return diff == 0;
  }

  // {"type":"stats","at":MS,"connections":N,...,"channels":[{"channel","subscribers","offset"}]},
  // handed to `send` once the channels' offsets have been read (through the hub's engine).
  void snapshot(std::function<void(const std::string&)> send) {
    gatherNumbers(hub, topics, [this, send = std::move(send)](ServerNumbers numbers) mutable {
      const duplex::hub::HubMetrics& m = numbers.hub.metrics;
      const duplex::hub::HubGauges& gauges = numbers.hub.gauges;
      const duplex::App::ConnectionCounts connections = app.connectionCounts();
      const duplex::pubsub::TopicsStats& delivered = numbers.delivered;
      const auto at = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
      std::string out = "{\"type\":\"stats\",\"at\":" + std::to_string(at);
      auto field = [&out](std::string_view name, auto value) {
        out.append(",\"").append(name).append("\":").append(std::to_string(value));
      };
      field("connections", connections.open + connections.handshaking);
      field("clients", gauges.clients);
      field("subscriptions", gauges.subscriptions);
      field("messagesIn", m.commandsIn);
      field("messagesOut", m.repliesOut + delivered.delivered);
      field("publishes", numbers.hub.stats.published);
      field("commits", m.storeCommit.count());
      field("commitSeconds", m.storeCommit.sum());
      hub.channelSummaries([out = std::move(out), send = std::move(send)](
                               std::vector<duplex::hub::ChannelSummary> channels) mutable {
        out += ",\"channels\":[";
        bool first = true;
        for (const duplex::hub::ChannelSummary& channel : channels) {
          out += first ? "{\"channel\":" : ",{\"channel\":";
          first = false;
          duplex::hub::appendJsonString(out, channel.channel);
          out += ",\"subscribers\":" + std::to_string(channel.subscribers) +
                 ",\"offset\":" + std::to_string(channel.offset) + "}";
        }
        out += "]}";
        send(out);
      });
    });
  }

  // To this loop's watchers (on its thread), when it has any.
  void push(std::shared_ptr<State> self, OnLoop& here) {
    if (here.watchers.empty()) return;
    snapshot([weak = std::weak_ptr<State>(self), &here](const std::string& text) {
      if (auto state = weak.lock()) {
        for (WebSocket* ws : here.watchers) ws->send(text);
      }
    });
  }
};

namespace {

// The first message is {"login": "SECRET"}; this takes the value without a JSON library, since
// nothing else is ever read from these sockets.
std::string_view loginOf(std::string_view message) {
  constexpr std::string_view kLead = "{\"login\":\"";
  if (!message.starts_with(kLead) || !message.ends_with("\"}")) return {};
  return message.substr(kLead.size(), message.size() - kLead.size() - 2);
}

}  // namespace

AdminPage::AdminPage(duplex::App& app, duplex::hub::Hub& hub, LoopTopics& topics,
                     std::string secret, const std::string& webDir, duplex::WebSocketBehavior route)
    : state_(std::make_shared<State>(State{app, hub, topics, std::move(secret), {}})) {
  for (duplex::net::Loop* loop : app.loops()) {
    state_->loops.push_back(std::make_unique<State::OnLoop>(State::OnLoop{loop, {}, 0}));
  }
  const std::filesystem::path root = std::filesystem::path(webDir) / "admin";
  app.get("/admin", duplex::files(root));
  app.get("/admin/*", duplex::files(root));

  duplex::WebSocketBehavior live = std::move(route);
  live.maxMessageSize = std::min<uint64_t>(live.maxMessageSize, 4096);  // a login is all it reads
  std::weak_ptr<State> weak = state_;
  live.open = [](WebSocket& ws, const duplex::Request&) { ws.data() = false; };
  live.message = [weak](WebSocket& ws, std::string_view data, duplex::Opcode) {
    auto state = weak.lock();
    if (!state || std::any_cast<bool>(ws.data())) return;  // logged in: nothing more to say
    if (!state->accepts(loginOf(data))) {
      DUPLEX_LOG(Warn, "admin: refused login from %s", ws.remoteAddress().c_str());
      ws.send(
          state->secret.empty()
              ? R"({"type":"refused","message":"the admin page is off: start duplexd with --admin-password or DUPLEX_API_KEY"})"
              : R"({"type":"refused","message":"wrong password"})");
      ws.close(4001, "refused");
      return;
    }
    ws.data() = true;
    State::OnLoop& here = state->on(ws.loop());
    here.watchers.insert(&ws);
    ws.send(R"({"type":"welcome"})");
    // The first snapshot to this loop's watchers there are when it is ready (this one among
    // them, unless it has gone meanwhile).
    state->push(state, here);
  };
  live.close = [weak](WebSocket& ws, uint16_t, std::string_view) {
    if (auto state = weak.lock()) state->on(ws.loop()).watchers.erase(&ws);
  };
  app.ws("/admin/live", std::move(live));
  for (auto& onLoop : state_->loops) {
    State::OnLoop* here = onLoop.get();
    here->timer = here->loop->setInterval(1000, [weak, here] {
      if (auto state = weak.lock()) state->push(state, *here);
    });
  }
}

AdminPage::~AdminPage() {
  for (auto& onLoop : state_->loops) onLoop->loop->cancelTimer(onLoop->timer);
}

}  // namespace duplexd
