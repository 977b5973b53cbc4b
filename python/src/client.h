#pragma once
// Connecting a Python client connection (API 1's ClientConnection) with duplex's C++ client.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "limits.h"

namespace duplex::python {

namespace py = pybind11;

class Engine;

struct ClientSettings {
  bool compression = true;
  PythonConnectionLimits limits;
  uint32_t handshakeTimeoutSeconds = 10;
  size_t writeLimit = 32 * 1024;
  size_t maxQueue = 16;
  std::vector<std::string> subprotocols;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string origin;
  bool tlsVerify = true;
  std::string caFile;
  std::string serverName;
};

// Starts connecting `connection` (a duplex._core.Connection subclass) to `url`. When the
// handshake ends it calls connection._on_connect() or connection._on_connect_error(message);
// later, connection._on_close(code, reason). Throws ValueError for a malformed URL.
void connect(Engine& engine, py::object engineRef, const std::string& url, py::object connection,
             const ClientSettings& settings);

}  // namespace duplex::python
