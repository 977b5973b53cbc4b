#pragma once
// What every scenario shares: opening many connections a few at a time, running the loop for a
// while or until something holds, a measured window with the server's CPU time at its edges,
// and closing everything with a proper close handshake at the end.
#include <cstdint>
#include <functional>
#include <string>

#include "client_loop.h"
#include "json.h"
#include "options.h"
#include "probe.h"

namespace bench {

class Scenario : public ClientHandler {
 public:
  Scenario(const Options& options, const Target& target, uint64_t maxMessageSize);
  // Runs the whole scenario and fills `result` (its own keys; main adds the common ones).
  // False when the run failed; loop().error() says why.
  virtual bool run(JsonObject& result) = 0;
  const ClientLoop& loop() const { return loop_; }

 protected:
  // Opens connections [first, first + count) with at most parallelHandshakes in progress (a
  // burst beyond a server's listen backlog would only measure SYN retries), and waits for all.
  bool openAll(uint32_t first, uint32_t count);
  // Handlers call this from onOpen while openAll() runs.
  void onOpened();

  bool runFor(double seconds);
  bool runUntil(const std::function<bool()>& done, const char* what);

  // Runs the warm-up (options.warmup seconds), then the measured window (options.duration),
  // taking the server's and the generator's CPU time and the clock at both of its edges.
  // measuring() holds during the window only: what handlers count then is the result.
  bool warmUpThenMeasure();
  bool measuring() const { return measuring_; }
  // Adds duration, CPU figures and `rate` = count / duration to the result.
  void reportWindow(JsonObject& result, uint64_t count, const char* countName) const;

  // Sends a close frame on every open connection in [first, first + count) and waits (briefly)
  // for the server's close frames.
  bool closeAll(uint32_t first, uint32_t count);
  bool onServerClose(Connection& c, uint16_t code) override;

  bool fail(std::string why) {
    loop_.fail(std::move(why));
    return false;
  }

  const Options& options_;
  ClientLoop loop_;
  ServerProbe probe_;

 private:
  uint32_t toOpen_ = 0;       // next id to open
  uint32_t openEnd_ = 0;      // one past the last id to open
  uint32_t openedCount_ = 0;  // handshakes completed in this openAll()
  uint32_t closesPending_ = 0;
  bool closing_ = false;
  bool measuring_ = false;
  CpuSample cpuStart_, cpuEnd_;
  uint64_t windowStart_ = 0, windowEnd_ = 0;
};

}  // namespace bench
