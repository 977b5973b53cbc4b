#include "connection.h"

#include <utility>

#include "engine.h"
#include "message.h"
#include "pubsub/topics.h"

namespace duplex::python {

py::object Connection::empty;
py::object Connection::closedMarker;

namespace {

// Text arrives validated as UTF-8 by the C++ core.
PyObject* toPython(std::string_view data, Opcode opcode) {
  if (opcode == Opcode::Text) return PyUnicode_DecodeUTF8(data.data(), data.size(), nullptr);
  return PyBytes_FromStringAndSize(data.data(), static_cast<Py_ssize_t>(data.size()));
}

}  // namespace

Connection::~Connection() {
  for (size_t i = inboxHead_; i < inbox_.size(); ++i) Py_DECREF(inbox_[i]);
  if (engine_ && drainWaiter_) engine_->forgetDrain(this);
  // A Python object only dies once its connection has ended (self_ holds it until then), or
  // when the whole engine goes away.
}

void Connection::bind(Engine& engine, py::object engineRef, WebSocket& ws, py::handle self,
                      Mode mode, pubsub::Topics* topics) {
  engine_ = &engine;
  engineRef_ = std::move(engineRef);
  ws_ = &ws;
  topics_ = topics;
  mode_ = mode;
  self_ = py::reinterpret_borrow<py::object>(self);
  if (mode == Mode::Callback) onMessage_ = self_.attr("on_message");
}

void Connection::setPending(Engine& engine, py::object engineRef, WebSocket* ws, py::handle self) {
  engine_ = &engine;
  engineRef_ = std::move(engineRef);
  ws_ = ws;
  self_ = py::reinterpret_borrow<py::object>(self);
}

void Connection::connected(WebSocket& ws) {
  ws_ = &ws;
  mode_ = Mode::Queue;
}

void Connection::connectFailed() {
  ws_ = nullptr;
  closed_ = true;
  closeCode_ = static_cast<uint16_t>(CloseCode::Abnormal);
  releaseSelf();
}

int Connection::send(py::handle message) {
  if (!ws_ || closed_) return NotOpen;
  MessageView view(message);
  const bool queued = ws_->send(view.data(), view.opcode());
  if (!queued) return NotOpen;
  engine_->sent();
  if (mode_ == Mode::Queue && ws_ && ws_->bufferedAmount() > writeLimit) {
    // Most of that may be this iteration's corked bytes, which the kernel would take at once:
    // send them now, and make the caller wait only for what the peer has not read.
    if (!engine_->inIteration()) engine_->flushNow();
    if (ws_ && ws_->bufferedAmount() > writeLimit) return AboveWriteLimit;
  }
  return Queued;
}

void Connection::close(int code, std::string_view reason) {
  if (!ws_ || closed_) return;
  ws_->setReading(true);  // the peer's close frame must be read, however full the inbox
  ws_->close(static_cast<uint16_t>(code), reason);
  if (engine_) engine_->sent();
}

bool Connection::ping(py::bytes payload) {
  if (!ws_ || closed_) return false;
  std::string_view data = payload;
  bool queued = ws_->ping(data);
  if (queued) engine_->sent();
  return queued;
}

void Connection::abort() {
  if (!ws_ || closed_) return;
  WebSocket* ws = ws_;
  if (!ws->isOpen()) {
    // Still connecting: no close handler will run for it.
    ws_ = nullptr;
    ws->terminate("connection aborted");
    releaseSelf();
    return;
  }
  ws->terminate("connection aborted");
  if (engine_) engine_->sent();
}

py::object Connection::pop() {
  if (inboxHead_ == inbox_.size()) return empty;
  PyObject* message = inbox_[inboxHead_++];
  if (inboxHead_ == inbox_.size()) {
    inbox_.clear();
    inboxHead_ = 0;
  }
  if (ws_ && !ws_->isReading() && inbox_.size() - inboxHead_ <= maxQueue / 4) {
    ws_->setReading(true);
  }
  return py::reinterpret_steal<py::object>(message);
}

void Connection::setWaiter(py::object future) {
  waiter_ = future.is_none() ? py::object() : std::move(future);
}

bool Connection::sendNow(py::handle message) {
  return send(message) != NotOpen;
}

void Connection::waitDrain(py::object future) {
  drainWaiter_ = std::move(future);
  if (drainWaiter_.is_none()) {
    drainWaiter_ = py::object();
    if (engine_) engine_->forgetDrain(this);
    return;
  }
  engine_->waitDrain(this);
}

bool Connection::subscribe(std::string_view topic) {
  if (!topics_) throw py::type_error("only server connections can subscribe to topics");
  return ws_ && !closed_ && topics_->subscribe(*ws_, topic);
}

bool Connection::unsubscribe(std::string_view topic) {
  if (!topics_) throw py::type_error("only server connections can subscribe to topics");
  return ws_ && !closed_ && topics_->unsubscribe(*ws_, topic);
}

void Connection::message(std::string_view data, Opcode opcode) {
  PyObject* object = toPython(data, opcode);
  if (!object) {
    py::error_already_set error;
    failed(error);
    return;
  }
  if (mode_ == Mode::Callback) {
    PyObject* result = PyObject_CallOneArg(onMessage_.ptr(), object);
    Py_DECREF(object);
    if (!result) {
      py::error_already_set error;
      failed(error);
      return;
    }
    Py_DECREF(result);
    return;
  }
  if (waiter_) {
    py::object waiter = std::exchange(waiter_, py::object());
    static PyObject* setResult = PyUnicode_InternFromString("set_result");
    PyObject* result = PyObject_CallMethodOneArg(waiter.ptr(), setResult, object);
    if (result) {
      Py_DECREF(result);
      Py_DECREF(object);
      return;
    }
    PyErr_Clear();  // the waiting recv() was cancelled: keep the message for the next one
  }
  inbox_.push_back(object);
  if (maxQueue && inbox_.size() - inboxHead_ >= maxQueue && ws_) ws_->setReading(false);
}

void Connection::closed(uint16_t code, std::string_view reason) {
  closed_ = true;
  closeCode_ = code;
  closeReason_ = std::string(reason);
  ws_ = nullptr;
  onMessage_ = py::object();
  if (waiter_) {
    py::object waiter = std::exchange(waiter_, py::object());
    try {
      waiter.attr("set_result")(closedMarker);
    } catch (py::error_already_set&) {
      PyErr_Clear();  // cancelled meanwhile
    }
  }
  resolveDrain();
  if (self_) {
    try {
      self_.attr("_on_close")(code, closeReason_);
    } catch (py::error_already_set& error) {
      failed(error);
    }
  }
  releaseSelf();
}

void Connection::pong(std::string_view payload) {
  if (!self_) return;
  try {
    self_.attr("_on_pong")(py::bytes(payload.data(), payload.size()));
  } catch (py::error_already_set& error) {
    failed(error);
  }
}

void Connection::checkDrain() {
  if (!drainWaiter_) return;
  // python-websockets resumes writers at a quarter of the high-water mark.
  if (closed_ || !ws_ || ws_->bufferedAmount() <= writeLimit / 4) resolveDrain();
}

void Connection::resolveDrain() {
  if (!drainWaiter_) return;
  py::object waiter = std::exchange(drainWaiter_, py::object());
  if (engine_) engine_->forgetDrain(this);
  try {
    if (!waiter.attr("done")().cast<bool>()) waiter.attr("set_result")(py::none());
  } catch (py::error_already_set&) {
    PyErr_Clear();
  }
}

void Connection::failed(py::error_already_set& error) {
  // A handler raised: log it and close 1011 (RFC 6455 7.4.1: an unexpected condition).
  py::object self = self_ ? self_ : py::none();
  // KeyboardInterrupt and SystemExit stop the whole server (raised again from poll()); this
  // connection then closes with the others, 1001.
  bool handlerBug = error.matches(PyExc_Exception);
  if (engine_) engine_->handlerFailed(self, error);
  if (handlerBug && ws_ && !closed_) {
    ws_->close(static_cast<uint16_t>(CloseCode::InternalError), "internal error");
    if (engine_) engine_->sent();
  }
}

void Connection::releaseSelf() {
  // Last: dropping self_ may destroy the Python object and this with it.
  py::object self = std::exchange(self_, py::object());
  py::object engine = std::exchange(engineRef_, py::object());
}

}  // namespace duplex::python
