#pragma once
// The four workloads of the benchmark (bench/README.md describes them), one file each.
#include <memory>

#include "scenario.h"

namespace bench {

// C connections, W messages of B bytes in flight on each; the server echoes. Rate and RTT.
std::unique_ptr<Scenario> makeEcho(const Options&, const Target&);
// S subscribers and one publisher on a broadcasting server; W publishes in flight, each one
// complete when all S + 1 connections (the publisher hears itself) have received it.
std::unique_ptr<Scenario> makeFanout(const Options&, const Target&);
// Handshakes per second: connect, upgrade, close handshake, TCP close; C at a time.
std::unique_ptr<Scenario> makeConnect(const Options&, const Target&);
// N connections held open; the server's resident memory before and after.
std::unique_ptr<Scenario> makeIdle(const Options&, const Target&);

}  // namespace bench
