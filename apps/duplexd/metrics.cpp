#include "metrics.h"

namespace duplexd {
namespace {

void metric(std::string& out, const char* name, const char* type, const char* help,
            uint64_t value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

}  // namespace

std::string renderMetrics(const duplex::App& app, const duplex::pubsub::Topics& topics,
                          const ThrowRoom& room, duplex::hub::HistoryStore& store) {
  const RoomStats& r = room.stats();
  const duplex::pubsub::TopicsStats& t = topics.stats();
  auto stored = store.size();
  std::string out;
  metric(out, "duplex_connections", "gauge", "Open connections (HTTP and WebSocket).",
         app.connectionCount());
  metric(out, "duplex_subscribers", "gauge", "WebSockets receiving live throws.",
         topics.subscriberCount(ThrowRoom::kTopic));
  metric(out, "duplex_messages_in_total", "counter", "WebSocket messages received.", r.messagesIn);
  metric(out, "duplex_bytes_in_total", "counter", "Payload bytes received.", r.bytesIn);
  metric(out, "duplex_messages_out_total", "counter",
         "WebSocket messages queued for sending (broadcast deliveries, history, errors).",
         t.delivered + r.directOut);
  metric(out, "duplex_direct_bytes_out_total", "counter",
         "Payload bytes of history and error messages sent.", r.directBytesOut);
  metric(out, "duplex_throws_total", "counter", "Throws stored and broadcast.", r.throws);
  metric(out, "duplex_rejected_total", "counter", "Messages answered with an error.", r.rejected);
  metric(out, "duplex_history_items", "gauge", "Throws in the history store.",
         stored.ok() ? stored.value() : 0);
  metric(out, "duplex_history_commits_total", "counter", "History transactions committed.",
         store.commits());
  metric(out, "duplex_slow_consumers_dropped_total", "counter",
         "Subscribers closed because they did not read fast enough.", t.slowClosed);
  return out;
}

}  // namespace duplexd
