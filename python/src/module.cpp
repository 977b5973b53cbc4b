// duplex._core: the C++ engine, server, client and connections that the pure-Python modules of
// the `duplex` package adapt to asyncio. Nothing of the WebSocket protocol is done in Python.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <vector>

#include "client.h"
#include "connection.h"
#include "engine.h"
#include "message.h"
#include "net/log.h"
#include "pubsub/broadcast.h"
#include "server.h"

namespace py = pybind11;
using namespace duplex::python;

namespace {

// duplex.broadcast(connections, message): one frame for all of them, built in C++.
size_t broadcast(py::iterable connections, py::handle message) {
  std::vector<duplex::WebSocket*> targets;
  Engine* engine = nullptr;
  for (py::handle item : connections) {
    auto* c = py::cast<Connection*>(item);
    if (c->webSocket() && c->isOpen()) {
      targets.push_back(c->webSocket());
      if (!engine) engine = c->engine();
    }
  }
  if (!engine) return 0;
  MessageView view(message);
  const size_t queued =
      duplex::pubsub::broadcast(engine->loop(), targets, view.data(), view.opcode());
  if (queued) engine->sent();
  return queued;
}

// One field of a settings object's ConnectionLimits as a Python attribute.
template <class Settings, class Field>
void bindLimit(py::class_<Settings>& settings, const char* name,
               Field duplex::protocol::ConnectionLimits::*field) {
  settings.def_property(
      name, [field](const Settings& s) { return s.limits.*field; },
      [field](Settings& s, Field value) { s.limits.*field = value; });
}

// The limits both roles share, under python-websockets' names (limits.h).
template <class Settings>
void bindLimits(py::class_<Settings>& settings) {
  using Limits = duplex::protocol::ConnectionLimits;
  bindLimit(settings, "max_message_size", &Limits::maxMessageSize);
  bindLimit(settings, "max_backpressure", &Limits::maxBackpressure);
  bindLimit(settings, "idle_timeout", &Limits::idleTimeoutSeconds);
  bindLimit(settings, "auto_ping", &Limits::autoPing);
  bindLimit(settings, "ping_timeout", &Limits::pingTimeoutSeconds);
  bindLimit(settings, "close_timeout", &Limits::closeTimeoutSeconds);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "duplex's C++ WebSocket engine (use the duplex package, not this module)";

  Connection::empty = py::module_::import("builtins").attr("object")();
  Connection::closedMarker = py::module_::import("builtins").attr("object")();
  m.attr("EMPTY") = Connection::empty;
  m.attr("CLOSED") = Connection::closedMarker;
  m.attr("QUEUED") = static_cast<int>(Connection::Queued);
  m.attr("NOT_OPEN") = static_cast<int>(Connection::NotOpen);
  m.attr("ABOVE_WRITE_LIMIT") = static_cast<int>(Connection::AboveWriteLimit);

  py::class_<Engine>(m, "Engine")
      .def(py::init<>())
      .def("attach", &Engine::attach)
      .def("fd", &Engine::fd)
      .def("poll", &Engine::poll)
      .def("flush", &Engine::flush)
      .def("on_timer", &Engine::onTimer);

  py::class_<Connection>(m, "Connection")
      .def(py::init<>())
      .def("_send", &Connection::send)
      .def("send", &Connection::sendNow, py::arg("message"),
           "Queues a message (str: text, bytes-like: binary); False if the connection is not open.")
      .def("close", &Connection::close, py::arg("code") = 1000, py::arg("reason") = "",
           "Starts the closing handshake.")
      .def("_close", &Connection::close)
      .def("_ping", &Connection::ping)
      .def("_abort", &Connection::abort)
      .def("_pop", &Connection::pop)
      .def("_set_waiter", &Connection::setWaiter)
      .def("_wait_drain", &Connection::waitDrain)
      .def("subscribe", &Connection::subscribe, py::arg("topic"),
           "Receive what the server publishes to `topic`; False if already subscribed.")
      .def("unsubscribe", &Connection::unsubscribe, py::arg("topic"))
      .def_property_readonly("_is_open", &Connection::isOpen)
      .def_property_readonly("_is_closed", &Connection::isClosed)
      .def_property_readonly("buffered_amount", &Connection::bufferedAmount,
                             "Bytes queued for this connection and not yet taken by the kernel.")
      .def_property_readonly("_remote_address", &Connection::remoteAddress)
      .def_property_readonly("_close_code", &Connection::closeCode)
      .def_property_readonly("_close_reason", &Connection::closeReason)
      .def_property_readonly("compressed", &Connection::compressed,
                             "permessage-deflate was agreed for this connection.")
      .def_readwrite("_write_limit", &Connection::writeLimit);

  py::class_<ServerSettings> serverSettings(m, "ServerSettings");
  bindLimits(serverSettings);
  serverSettings.def(py::init<>())
      .def_readwrite("callbacks", &ServerSettings::callbacks)
      .def_readwrite("compression", &ServerSettings::compression)
      .def_readwrite("handshake_timeout", &ServerSettings::handshakeTimeoutSeconds)
      .def_readwrite("shutdown_timeout", &ServerSettings::shutdownTimeoutSeconds)
      .def_readwrite("write_limit", &ServerSettings::writeLimit)
      .def_readwrite("max_queue", &ServerSettings::maxQueue)
      .def_readwrite("subprotocols", &ServerSettings::subprotocols);

  py::class_<Server>(m, "Server")
      .def(py::init<Engine&, py::object, py::object, py::object, py::object,
                    const ServerSettings&>())
      .def("listen", &Server::listen)
      .def_property_readonly("port", &Server::port)
      .def("shutdown", &Server::shutdown)
      .def("publish", &Server::publish)
      .def_property_readonly("connection_count", &Server::connectionCount)
      .def("release", &Server::release);

  py::class_<ClientSettings> clientSettings(m, "ClientSettings");
  bindLimits(clientSettings);
  clientSettings.def(py::init<>())
      .def_readwrite("compression", &ClientSettings::compression)
      .def_readwrite("handshake_timeout", &ClientSettings::handshakeTimeoutSeconds)
      .def_readwrite("write_limit", &ClientSettings::writeLimit)
      .def_readwrite("max_queue", &ClientSettings::maxQueue)
      .def_readwrite("subprotocols", &ClientSettings::subprotocols)
      .def_readwrite("headers", &ClientSettings::headers)
      .def_readwrite("origin", &ClientSettings::origin)
      .def_readwrite("tls_verify", &ClientSettings::tlsVerify)
      .def_readwrite("ca_file", &ClientSettings::caFile)
      .def_readwrite("server_name", &ClientSettings::serverName);

  m.def("connect", &duplex::python::connect);
  m.def("broadcast", &broadcast);
  m.def("set_log_level", [](const std::string& level) {
    duplex::log::Level parsed;
    if (!duplex::log::parseLevel(level, parsed)) throw py::value_error("unknown log level");
    duplex::log::setLevel(parsed);
  });
}
