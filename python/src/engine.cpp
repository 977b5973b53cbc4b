#include "engine.h"

#include <ctime>
#include <utility>

#include "connection.h"

namespace duplex::python {
namespace {

uint64_t monotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

// True while the C++ loop calls into Python: marks the iteration so that sends from callbacks
// are left to the iteration's own flush.
class IterationScope {
 public:
  explicit IterationScope(bool& flag) : flag_(flag), was_(flag) { flag_ = true; }
  ~IterationScope() { flag_ = was_; }

 private:
  bool& flag_;
  bool was_;
};

}  // namespace

// epoll whatever DUPLEX_IO_BACKEND says: asyncio polls fd() and the engine flushes per callback,
// so io_uring's one submission per iteration would buy nothing here.
Engine::Engine() : loop_(std::make_unique<net::Loop>(net::IoBackend::Epoll)) {}

Engine::~Engine() = default;

void Engine::attach(py::object callSoon, py::object callLater, py::object report) {
  callSoon_ = std::move(callSoon);
  callLater_ = std::move(callLater);
  report_ = std::move(report);
  py::object self = py::cast(this, py::return_value_policy::reference);
  flushCallback_ = self.attr("flush");
  timerCallback_ = self.attr("on_timer");
  afterIteration();
}

void Engine::poll() {
  {
    IterationScope scope(inIteration_);
    loop_->runOnce(0);
  }
  afterIteration();
}

void Engine::flush() {
  flushScheduled_ = false;
  {
    IterationScope scope(inIteration_);
    loop_->flush();
  }
  afterIteration();
}

void Engine::flushNow() {
  IterationScope scope(inIteration_);
  loop_->flush();
}

void Engine::onTimer() {
  timerDueMs_ = UINT64_MAX;
  poll();
}

void Engine::scheduleFlush() {
  flushScheduled_ = true;
  callSoon_(flushCallback_);
}

void Engine::afterIteration() {
  if (!drainWaiters_.empty()) checkDrains();
  if (callLater_) {
    int timeout = loop_->nextTimeoutMs();
    if (timeout >= 0) {
      uint64_t due = monotonicMs() + static_cast<uint64_t>(timeout);
      // One call_later at a time; the loop's timers are few (the once-a-second deadline sweep).
      if (due < timerDueMs_) {
        timerDueMs_ = due;
        callLater_(static_cast<double>(timeout) / 1000.0, timerCallback_);
      }
    }
  }
  if (pendingBaseException_) {
    py::object error = std::exchange(pendingBaseException_, py::object());
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
    throw py::error_already_set();
  }
}

void Engine::handlerFailed(py::object connection, py::error_already_set& error) {
  if (!error.matches(PyExc_Exception)) {
    if (!pendingBaseException_) pendingBaseException_ = error.value();
    return;
  }
  try {
    report_(connection, error.value());
  } catch (py::error_already_set&) {
    PyErr_Clear();  // the logger itself failed: nothing better to do than go on
  }
}

void Engine::waitDrain(Connection* connection) {
  for (Connection* c : drainWaiters_) {
    if (c == connection) return;
  }
  drainWaiters_.push_back(connection);
}

void Engine::forgetDrain(Connection* connection) {
  std::erase(drainWaiters_, connection);
}

void Engine::checkDrains() {
  // A waiter may be resolved (and its connection forgotten) while we walk: walk a copy.
  std::vector<Connection*> waiting = drainWaiters_;
  for (Connection* c : waiting) c->checkDrain();
}

}  // namespace duplex::python
