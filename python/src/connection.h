#pragma once
// One WebSocket as Python sees it: the base class of duplex's Python connection classes (API 1's
// ServerConnection / ClientConnection, API 2's WebSocketHandler). It forwards sends, closes and
// subscriptions to the C++ WebSocket, and delivers what arrives in one of two ways:
//   queue mode (API 1): a message resolves the future recv() waits on, or waits in the inbox;
//   callback mode (API 2): a message calls self.on_message(message) at once, with no Task,
//   Future or coroutine per message.
// Events that are rare (close, pong) call the Python methods _on_close / _on_pong.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/websocket.h"

namespace duplex::pubsub {
class Topics;
}

namespace duplex::python {

namespace py = pybind11;

class Engine;

class Connection {
 public:
  enum class Mode : uint8_t { Queue, Callback };
  // What send() tells Python.
  enum SendResult : int { Queued = 0, NotOpen = 1, AboveWriteLimit = 2 };

  Connection() = default;
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The C++ connection is open: from now on `self` (the Python object holding this) stays alive
  // until the connection ends.
  void bind(Engine& engine, py::object engineRef, WebSocket& ws, py::handle self, Mode mode,
            pubsub::Topics* topics);
  // A client connection between connect() and its handshake's end (see abort()).
  void setPending(Engine& engine, py::object engineRef, WebSocket* ws, py::handle self);
  // The pending client connection opened (queue mode) or failed before opening.
  void connected(WebSocket& ws);
  void connectFailed();

  // Python API.
  int send(py::handle message);
  bool sendNow(py::handle message);  // API 2: queued or not, nothing to wait for
  void close(int code, std::string_view reason);
  bool ping(py::bytes payload);
  void abort();  // drops the connection without a closing handshake (or a pending connect)
  py::object pop();
  void setWaiter(py::object future);
  void waitDrain(py::object future);
  bool subscribe(std::string_view topic);
  bool unsubscribe(std::string_view topic);
  bool isOpen() const { return ws_ && ws_->isOpen(); }
  bool isClosed() const { return closed_; }
  size_t bufferedAmount() const { return ws_ ? ws_->bufferedAmount() : 0; }
  std::string remoteAddress() const { return ws_ ? ws_->remoteAddress() : std::string(); }
  int closeCode() const { return closed_ ? closeCode_ : -1; }
  const std::string& closeReason() const { return closeReason_; }
  bool compressed() const { return ws_ && ws_->isCompressed(); }
  size_t writeLimit = 32 * 1024;  // API 1's high-water mark; send() reports AboveWriteLimit
  // API 1's max_queue: with this many messages waiting for recv(), reading pauses until they
  // are down to a quarter (python-websockets' flow control). 0: never pause.
  size_t maxQueue = 16;

  // Events from the C++ connection.
  void message(std::string_view data, Opcode opcode);
  void closed(uint16_t code, std::string_view reason);
  void pong(std::string_view payload);
  void checkDrain();

  WebSocket* webSocket() const { return ws_; }
  Engine* engine() const { return engine_; }

  // Sentinels pop() returns and recv()'s future may be resolved with.
  static py::object empty;
  static py::object closedMarker;

 private:
  void failed(py::error_already_set& error);
  void resolveDrain();
  void releaseSelf();

  Engine* engine_ = nullptr;
  py::object engineRef_;  // the engine outlives every open connection
  WebSocket* ws_ = nullptr;
  pubsub::Topics* topics_ = nullptr;
  py::object self_;       // held while open: the C++ side may call back into it
  py::object onMessage_;  // callback mode: the bound on_message
  py::object waiter_;     // queue mode: the future recv() awaits
  py::object drainWaiter_;
  std::vector<PyObject*> inbox_;  // queue mode: messages nobody awaited yet (owned references)
  size_t inboxHead_ = 0;
  std::string closeReason_;
  uint16_t closeCode_ = 0;
  Mode mode_ = Mode::Queue;
  bool closed_ = false;
};

}  // namespace duplex::python
