#pragma once
// The duplex loop, driven by asyncio's: the Python side watches fd() with loop.add_reader(fd,
// poll); poll() runs one non-blocking iteration (events, timers, then the corked flush), and the
// engine asks asyncio to call it back when the next duplex timer is due (call_later). Sends made
// from coroutines, outside an iteration, are flushed together by one call_soon(flush) per asyncio
// iteration, so corking holds for them too. One thread, the GIL held throughout.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "net/loop.h"

namespace duplex::python {

namespace py = pybind11;

class Connection;

class Engine {
 public:
  Engine();
  ~Engine();

  // The asyncio loop's call_soon / call_later, and the function that logs a handler's exception:
  // report(connection, exception).
  void attach(py::object callSoon, py::object callLater, py::object report);

  int fd() const { return loop_->fd(); }
  net::Loop& loop() { return *loop_; }

  // asyncio callbacks.
  void poll();
  void flush();
  void onTimer();

  // After a send made from Python: outside an iteration, make sure a flush comes soon.
  void sent() {
    if (!inIteration_ && !flushScheduled_) scheduleFlush();
  }
  // Sends what is queued now (a send that found the queue above its write limit).
  void flushNow();
  bool inIteration() const { return inIteration_; }

  // A Python callback raised: an Exception is logged (with the connection), anything else
  // (KeyboardInterrupt, SystemExit) is raised again from poll() once the iteration is over.
  void handlerFailed(py::object connection, py::error_already_set& error);

  // Connections whose send() waits for their queue to drain (API 1's write_limit): checked after
  // every flush.
  void waitDrain(Connection* connection);
  void forgetDrain(Connection* connection);

 private:
  void scheduleFlush();
  void afterIteration();
  void checkDrains();

  std::unique_ptr<net::Loop> loop_;
  py::object callSoon_;
  py::object callLater_;
  py::object report_;
  py::object pollCallback_;
  py::object flushCallback_;
  py::object timerCallback_;
  py::object pendingBaseException_;
  std::vector<Connection*> drainWaiters_;
  uint64_t timerDueMs_ = UINT64_MAX;  // when the call_later asked for is due
  bool inIteration_ = false;
  bool flushScheduled_ = false;
};

}  // namespace duplex::python
