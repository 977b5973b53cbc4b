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

std::string renderMetrics(const duplex::App& app, const duplex::pubsub::Topics& topics) {
  const duplex::pubsub::TopicsStats& t = topics.stats();
  std::string out;
  metric(out, "duplex_connections", "gauge", "Open connections (HTTP and WebSocket).",
         app.connectionCount());
  metric(out, "duplex_messages_out_total", "counter",
         "Messages queued for subscribers by pub/sub (one per subscriber per publication).",
         t.delivered);
  metric(out, "duplex_slow_consumers_dropped_total", "counter",
         "Subscribers closed because they did not read fast enough.", t.slowClosed);
  return out;
}

}  // namespace duplexd
