#include "metrics_hub.h"

#include <cstdio>

#include "flags.h"
#include "metrics_process.h"
#include "metrics_text.h"

namespace duplexd {
namespace {

using duplex::hub::HubMetrics;
using duplex::hub::LatencyHistogram;

void writeHistogram(PrometheusText& out, std::string_view name, std::string_view help,
                    const LatencyHistogram& histogram) {
  out.family(name, "histogram", help);
  const std::string bucket = std::string(name) + "_bucket";
  char label[32];
  for (size_t i = 0; i < LatencyHistogram::kBounds.size(); ++i) {
    std::snprintf(label, sizeof label, "le=\"%g\"", LatencyHistogram::kBounds[i]);
    out.sample(bucket, label, histogram.cumulative(i));
  }
  out.sample(bucket, "le=\"+Inf\"", histogram.count());
  out.sample(std::string(name) + "_sum", {}, histogram.sum());
  out.sample(std::string(name) + "_count", {}, histogram.count());
}

}  // namespace

std::string renderHubMetrics(const duplex::App& app, const ServerNumbers& numbers) {
  PrometheusText out;
  out.family("duplex_build_info", "gauge", "Always 1; the labels say which duplexd this is.");
  out.sample("duplex_build_info",
             std::string("version=\"") + duplex::cli::version() + "\",program=\"duplexd\"",
             uint64_t{1});

  const duplex::App::ConnectionCounts connections = app.connectionCounts();
  out.family("duplex_server_connections", "gauge",
             "TCP connections by phase: handshaking (HTTP, before any upgrade) and open "
             "(WebSocket).");
  out.sample("duplex_server_connections", "state=\"handshaking\"",
             uint64_t{connections.handshaking});
  out.sample("duplex_server_connections", "state=\"open\"", uint64_t{connections.open});

  const duplex::hub::HubGauges& gauges = numbers.hub.gauges;
  out.single("duplex_hub_clients", "gauge", "Open WebSockets on the hub's path (/connection).",
             gauges.clients);
  out.single("duplex_hub_subscriptions", "gauge", "Channel subscriptions of all clients.",
             gauges.subscriptions);
  out.single("duplex_hub_channels", "gauge", "Channels with at least one subscriber.",
             gauges.channels);
  out.single("duplex_hub_users", "gauge", "Distinct authenticated users connected.", gauges.users);

  const HubMetrics& m = numbers.hub.metrics;
  const duplex::hub::HubStats& stats = numbers.hub.stats;
  out.single("duplex_hub_publishes_total", "counter",
             "Publications stored (where the namespace keeps history) and broadcast.",
             stats.published);
  out.single("duplex_hub_publish_acks_total", "counter",
             "Publishes acknowledged to the WebSocket client that sent them.", m.acks);
  out.single("duplex_hub_duplicate_publishes_total", "counter",
             "Retried publishes answered from the store (same idempotency key).", stats.duplicates);

  if (numbers.proxy) {
    out.single("duplex_hub_proxy_requests_total", "counter",
               "Requests to the application's back end (every proxy: docs/protocol.md).",
               numbers.proxy->requests);
    out.single("duplex_hub_proxy_unavailable_total", "counter",
               "Back end requests that timed out, could not connect or got a status other than "
               "200: their commands were answered unavailable.",
               numbers.proxy->unavailable);
  }

  out.family("duplex_hub_errors_total", "counter",
             "Error replies by code (docs/protocol.md), over WebSocket and the server API.");
  for (duplex::hub::ErrorCode code : duplex::hub::kAllErrorCodes) {
    out.sample("duplex_hub_errors_total",
               "code=\"" + std::string(duplex::hub::errorCodeName(code)) + "\"",
               m.errors[static_cast<size_t>(code)]);
  }

  out.family("duplex_hub_recoveries_total", "counter",
             "Subscribes with `since`: what was missed sent (recovered), or recovered:false.");
  out.sample("duplex_hub_recoveries_total", "result=\"recovered\"", m.recovered);
  out.sample("duplex_hub_recoveries_total", "result=\"not_recovered\"", m.notRecovered);

  out.family("duplex_hub_api_calls_total", "counter", "Server API calls by endpoint and status.");
  for (const HubMetrics::ApiCalls& row : m.apiCalls) {
    out.sample("duplex_hub_api_calls_total",
               "endpoint=\"" + labelValue(row.endpoint) + "\",status=\"" +
                   std::to_string(row.status) + "\"",
               row.count);
  }

  out.family("duplex_hub_rate_limited_total", "counter",
             "Refusals by a rate limit: a connection's commands, or a namespace's publishes.");
  out.sample("duplex_hub_rate_limited_total", "limit=\"commands\"", m.commandsRateLimited);
  out.sample("duplex_hub_rate_limited_total", "limit=\"publishes\"", m.publishesRateLimited);

  writeHistogram(out, "duplex_hub_store_commit_seconds",
                 "Time to store a batch of publications (one SQLite transaction).", m.storeCommit);

  const duplex::pubsub::TopicsStats& delivered = numbers.delivered;
  out.single("duplex_hub_messages_in_total", "counter",
             "WebSocket messages (commands) received by the hub.", m.commandsIn);
  out.single("duplex_hub_bytes_in_total", "counter", "Payload bytes of those messages.",
             m.commandBytesIn);
  out.single("duplex_hub_messages_out_total", "counter",
             "WebSocket messages sent: replies, and publications to each subscriber.",
             m.repliesOut + delivered.delivered);
  out.single("duplex_hub_bytes_out_total", "counter",
             "Payload bytes of those messages (before compression).",
             m.replyBytesOut + delivered.deliveredBytes);
  out.single("duplex_hub_slow_subscribers_closed_total", "counter",
             "Subscribers closed because they did not read fast enough.", delivered.slowClosed);

  writeProcessMetrics(out);
  return std::move(out.text());
}

}  // namespace duplexd
