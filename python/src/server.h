#pragma once
// A duplex App on the engine's loop, serving every path with one Python connection class: API 1
// (queue mode, a coroutine handler per connection) or API 2 (callback mode, a WebSocketHandler
// subclass). Owns the server's topics, so subscribe/publish frame once in C++.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "connection.h"
#include "limits.h"
#include "pubsub/topics.h"
#include "server/app.h"

namespace duplex::python {

namespace py = pybind11;

class Engine;

struct ServerSettings {
  bool callbacks = false;  // API 2
  bool compression = true;
  PythonConnectionLimits limits;
  uint32_t handshakeTimeoutSeconds = 10;
  uint32_t shutdownTimeoutSeconds = 5;
  size_t writeLimit = 32 * 1024;
  size_t maxQueue = 16;
  std::vector<std::string> subprotocols;
};

class Server {
 public:
  // `opened(connection, path, headers, subprotocol)` runs when a connection opens, after it was
  // made from `connectionClass`; `accept(path, headers)` (or None) returns 0 to accept the
  // upgrade or an HTTP status to refuse it.
  Server(Engine& engine, py::object engineRef, py::object connectionClass, py::object opened,
         py::object accept, const ServerSettings& settings);
  ~Server();

  void listen(const std::string& host, uint16_t port, const std::string& certFile,
              const std::string& keyFile);
  uint16_t port() const { return app_->port(); }
  // Stops listening and closes every connection with 1001; stragglers are dropped after
  // shutdownTimeoutSeconds.
  void shutdown();
  size_t publish(std::string_view topic, py::handle message);
  size_t connectionCount() const { return app_->connectionCount(); }
  // Forgets the Python callbacks (they refer back to the Python server object).
  void release();

 private:
  void open(WebSocket& ws, const Request& request);
  int accept(const Request& request);

  Engine& engine_;
  py::object engineRef_;
  py::object connectionClass_;
  py::object opened_;
  py::object accept_;
  ServerSettings settings_;
  std::unique_ptr<App> app_;
  std::unique_ptr<pubsub::Topics> topics_;
};

}  // namespace duplex::python
