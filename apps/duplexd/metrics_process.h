#pragma once
// The process's own numbers under the names every Prometheus client library uses
// (process_resident_memory_bytes, process_open_fds, process_max_fds,
// process_cpu_seconds_total, process_start_time_seconds), so dashboards made for them work.
#include "metrics_text.h"

namespace duplexd {

// Reads /proc/self and getrusage(2) now.
void writeProcessMetrics(PrometheusText& out);

}  // namespace duplexd
