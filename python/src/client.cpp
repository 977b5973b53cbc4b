#include "client.h"

#include <stdexcept>

#include "client/client.h"
#include "connection.h"
#include "engine.h"

namespace duplex::python {

void connect(Engine& engine, py::object engineRef, const std::string& url, py::object connection,
             const ClientSettings& settings) {
  Connection* c = connection.cast<Connection*>();
  c->writeLimit = settings.writeLimit;
  c->maxQueue = settings.maxQueue;
  Engine* e = &engine;
  ClientBehavior behavior;
  behavior.subprotocols = settings.subprotocols;
  behavior.headers = settings.headers;
  behavior.origin = settings.origin;
  behavior.handshakeTimeoutSeconds = settings.handshakeTimeoutSeconds;
  static_cast<protocol::ConnectionLimits&>(behavior) = settings.limits;
  behavior.compression.enabled = settings.compression;
  behavior.tls.verify = settings.tlsVerify;
  behavior.tls.caFile = settings.caFile;
  behavior.tls.serverName = settings.serverName;
  behavior.open = [c, e](WebSocket& ws) {
    py::object self = py::cast(c);
    c->connected(ws);
    try {
      // The one the server chose, checked to be among those offered (RFC 6455 4.1).
      std::string_view subprotocol = ws.subprotocol();
      if (!subprotocol.empty()) {
        self.attr("subprotocol") = py::str(subprotocol.data(), subprotocol.size());
      }
      self.attr("_on_connect")();
    } catch (py::error_already_set& error) {
      e->handlerFailed(self, error);
      ws.close(CloseCode::InternalError, "internal error");
    }
  };
  behavior.message = [c](WebSocket&, std::string_view data, Opcode opcode) {
    c->message(data, opcode);
  };
  behavior.close = [c](WebSocket&, uint16_t code, std::string_view reason) {
    c->closed(code, reason);
  };
  behavior.drain = [c](WebSocket&) { c->checkDrain(); };
  behavior.pong = [c](WebSocket&, std::string_view payload) { c->pong(payload); };
  behavior.error = [c, e](std::string_view error) {
    py::object self = py::cast(c);
    c->connectFailed();
    try {
      self.attr("_on_connect_error")(py::str(error.data(), error.size()));
    } catch (py::error_already_set& failure) {
      e->handlerFailed(self, failure);
    }
  };
  WebSocket* ws;
  try {
    ws = duplex::connect(engine.loop(), url, std::move(behavior));
  } catch (const std::invalid_argument& invalid) {
    throw py::value_error(invalid.what());
  }
  c->setPending(engine, engineRef, ws, connection);
  engine.sent();  // the upgrade request waits in the socket's queue for a flush
}

}  // namespace duplex::python
