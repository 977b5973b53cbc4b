#include "server.h"

#include <system_error>
#include <utility>

#include "engine.h"
#include "message.h"
#include "server/request.h"

namespace duplex::python {
namespace {

Connection* connectionOf(WebSocket& ws) {
  return std::any_cast<Connection*>(ws.data());
}

// The headers as one string, "Name: value\r\n" each: one Python object per connection instead
// of two per header; duplex.Headers splits it when first read.
py::str headerBlock(const Request& request) {
  std::string block;
  for (const protocol::Header& h : request.headers()) {
    block.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  return py::str(block);
}

py::str targetOf(const Request& request) {
  std::string_view target = request.http().target;
  return py::str(target.data(), target.size());
}

}  // namespace

Server::Server(Engine& engine, py::object engineRef, py::object connectionClass, py::object opened,
               py::object accept, const ServerSettings& settings)
    : engine_(engine),
      engineRef_(std::move(engineRef)),
      connectionClass_(std::move(connectionClass)),
      opened_(std::move(opened)),
      accept_(std::move(accept)),
      settings_(settings) {
  AppOptions options;
  options.handleSignals = false;  // asyncio owns the signals
  options.handshakeTimeoutSeconds = settings.handshakeTimeoutSeconds;
  options.shutdownTimeoutSeconds = settings.shutdownTimeoutSeconds;
  app_ = std::make_unique<App>(engine.loop(), options);
  topics_ = std::make_unique<pubsub::Topics>(engine.loop());

  WebSocketBehavior behavior;
  static_cast<protocol::ConnectionLimits&>(behavior) = settings.limits;
  behavior.subprotocols = settings.subprotocols;
  behavior.compression.enabled = settings.compression;
  if (!accept_.is_none()) {
    behavior.accept = [this](const Request& request) { return this->accept(request); };
  }
  behavior.open = [this](WebSocket& ws, const Request& request) { this->open(ws, request); };
  behavior.message = [](WebSocket& ws, std::string_view data, Opcode opcode) {
    connectionOf(ws)->message(data, opcode);
  };
  behavior.close = [](WebSocket& ws, uint16_t code, std::string_view reason) {
    if (ws.data().has_value()) connectionOf(ws)->closed(code, reason);
  };
  behavior.drain = [](WebSocket& ws) { connectionOf(ws)->checkDrain(); };
  behavior.pong = [](WebSocket& ws, std::string_view payload) { connectionOf(ws)->pong(payload); };
  app_->ws("/*", std::move(behavior));
}

Server::~Server() {
  // The App closes what is still open; its close handlers call into Python objects.
  topics_.reset();
  app_.reset();
}

void Server::listen(const std::string& host, uint16_t port, const std::string& certFile,
                    const std::string& keyFile) {
  try {
    if (certFile.empty()) {
      app_->listen(host, port);
    } else {
      app_->listen(host, port, TlsOptions{certFile, keyFile});
    }
  } catch (const std::system_error& error) {
    // OSError(errno, message), as asyncio's create_server raises for a port in use.
    py::object oserror = py::reinterpret_borrow<py::object>(PyExc_OSError);
    PyErr_SetObject(PyExc_OSError, oserror(error.code().value(), error.what()).ptr());
    throw py::error_already_set();
  }
}

void Server::shutdown() {
  // Connections paused by a full inbox must read the peers' answers to our close frames.
  for (net::Socket* socket : engine_.loop().sockets()) socket->setReading(true);
  app_->shutdown();
  engine_.sent();
}

void Server::release() {
  opened_ = py::none();
  accept_ = py::none();
}

size_t Server::publish(std::string_view topic, py::handle message) {
  MessageView view(message);
  const size_t queued = topics_->publish(topic, view.data(), view.opcode());
  if (queued) engine_.sent();
  return queued;
}

int Server::accept(const Request& request) {
  try {
    return accept_(targetOf(request), headerBlock(request)).cast<int>();
  } catch (py::error_already_set& error) {
    engine_.handlerFailed(py::none(), error);
    return 500;
  }
}

void Server::open(WebSocket& ws, const Request& request) {
  py::object connection;
  try {
    connection = connectionClass_();
  } catch (py::error_already_set& error) {
    engine_.handlerFailed(py::none(), error);
    ws.close(CloseCode::InternalError, "internal error");
    return;
  }
  Connection* c = connection.cast<Connection*>();
  c->writeLimit = settings_.writeLimit;
  c->maxQueue = settings_.maxQueue;
  ws.data() = c;
  c->bind(engine_, engineRef_, ws, connection,
          settings_.callbacks ? Connection::Mode::Callback : Connection::Mode::Queue,
          topics_.get());
  try {
    std::string_view subprotocol = request.subprotocol();
    py::object chosen = subprotocol.empty()
                            ? py::object(py::none())
                            : py::object(py::str(subprotocol.data(), subprotocol.size()));
    opened_(connection, targetOf(request), headerBlock(request), chosen);
  } catch (py::error_already_set& error) {
    engine_.handlerFailed(connection, error);
    if (ws.isOpen()) ws.close(CloseCode::InternalError, "internal error");
  }
}

}  // namespace duplex::python
