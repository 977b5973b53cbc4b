#include "connection/websocket.h"

#include <cstdint>
#include <string>
#include <utility>

#include "net/log.h"
#include "net/random.h"

namespace duplex {

using protocol::ConnectionEvent;
using protocol::Phase;

class WebSocket::Sink final : public protocol::ConnectionSink {
 public:
  explicit Sink(WebSocket& ws) : ws_(ws) {}
  uint8_t* reserveOutput(size_t size) override { return ws_.reserveOutput(size); }
  void maskKey(uint8_t key[4]) override { net::secureRandom(key, 4); }

 private:
  WebSocket& ws_;
};

// Thousands of idle ones are the common case (docs/performance.md, "memory per idle
// connection", which breaks the bytes down; 64-bit).
static_assert(sizeof(void*) != 8 || sizeof(WebSocket) <= 152,
              "WebSocket is per-connection state; keep it small");

WebSocket::WebSocket(net::Loop& loop, int fd, protocol::Role role)
    : net::Socket(loop, fd), connection_(role) {}

WebSocket::WebSocket(net::Loop& loop, protocol::Role role) : net::Socket(loop), connection_(role) {}

WebSocket::~WebSocket() = default;

void WebSocket::enableCompression(const protocol::DeflateParams& agreed,
                                  const protocol::PerMessageDeflateConfig& config) {
  connection_.enableCompression(agreed, config);
}

void WebSocket::open(const WebSocketBehavior& behavior, std::string_view subprotocol) {
  if (!subprotocol.empty()) {
    for (size_t i = 0; i < behavior.subprotocols.size() && i <= INT8_MAX; ++i) {
      if (behavior.subprotocols[i] == subprotocol) subprotocolIndex_ = static_cast<int8_t>(i);
    }
  }
  connection_.open(behavior);
  followConnection();
}

void WebSocket::followConnection() {
  if (isClosed()) return;
  if (connection_.phase() == Phase::Ended) {
    closeNow();
    return;
  }
  std::optional<uint32_t> seconds = connection_.takeDeadline();
  if (!seconds) return;
  if (connection_.phase() == Phase::Closed && connection_.closesTransportFirst()) {
    closeGracefully(*seconds);
  } else {
    setDeadline(*seconds);
  }
}

uint8_t* WebSocket::reserveOutput(size_t size) {
  if (isClosed() || stalledAmount() > behavior().maxBackpressure) return nullptr;
  return reserve(size);
}

void WebSocket::onData(std::span<uint8_t> data) {
  if (handshaking()) {
    if (!onHandshakeData(data)) return;
    if (data.empty() || isClosed()) return;
  }
  processFrames(data);
}

void WebSocket::processFrames(std::span<uint8_t> data) {
  const WebSocketBehavior& handlers = behavior();
  Sink sink(*this);
  for (;;) {
    ConnectionEvent event = connection_.receive(data, sink);
    switch (event.kind) {
      case ConnectionEvent::Kind::NeedMore:
      case ConnectionEvent::Kind::Closed:
        followConnection();
        return;
      case ConnectionEvent::Kind::Message:
        if (handlers.message) handlers.message(*this, event.payload, event.opcode);
        break;
      case ConnectionEvent::Kind::Ping:
        if (handlers.ping) handlers.ping(*this, event.payload);
        break;
      case ConnectionEvent::Kind::Pong:
        if (handlers.pong) handlers.pong(*this, event.payload);
        break;
    }
    if (isClosed()) return;  // a handler terminated the connection
  }
}

bool WebSocket::send(std::string_view data, Opcode opcode) {
  Sink sink(*this);
  if (connection_.send(sink, data, opcode)) return true;
  followConnection();  // a refused write ended the connection
  return false;
}

bool WebSocket::sendFragment(std::string_view data, Opcode opcode, bool fin) {
  Sink sink(*this);
  if (connection_.sendFragment(sink, data, opcode, fin)) return true;
  followConnection();
  return false;
}

bool WebSocket::ping(std::string_view payload) {
  Sink sink(*this);
  if (connection_.ping(sink, payload)) return true;
  followConnection();
  return false;
}

bool WebSocket::sendShared(const SharedFrame& frame) {
  if (!connection_.canSend() || isClosed() || connection_.role() != protocol::Role::Server) {
    return false;
  }
  if (stalledAmount() > behavior().maxBackpressure) {
    connection_.abort(protocol::Error::SendQueueFull);
    closeNow();
    return false;
  }
  writeShared(frame.chunk, frame.offset, frame.size);
  return true;
}

void WebSocket::close(uint16_t code, std::string_view reason) {
  if (handshaking()) return closeNow();
  Sink sink(*this);
  connection_.close(sink, code, reason);
  followConnection();
}

void WebSocket::terminate(std::string_view reason) {
  if (isClosed()) return;
  // Aborting would end the phase as if the connection had opened (its close handler would run,
  // with no behavior yet to find it in).
  if (handshaking()) return closeNow();
  connection_.abort(protocol::Error::Terminated, reason);
  closeNow();
}

void WebSocket::onEnd(int error) {
  if (handshaking()) {
    onHandshakeEnd(error);
    return;
  }
  connection_.transportEnded();
  closeNow();
}

void WebSocket::onTimeout() {
  if (handshaking()) {
    onHandshakeTimeout();
    return;
  }
  Sink sink(*this);
  connection_.expire(sink);
  followConnection();
}

void WebSocket::onDrain() {
  if (handshaking()) return onHandshakeDrain();
  if (isOpen() && behavior().drain) behavior().drain(*this);
}

void WebSocket::onClosed() {
  const bool opened = !handshaking();
  connection_.transportEnded();
  if (opened && log::enabled(log::Level::Debug)) {
    uint16_t code = connection_.closeCode();
    std::string_view reason = connection_.closeReason();
    DUPLEX_LOG(Debug, "websocket closed: %u %s%s%.*s%s%s", code,
               std::string(protocol::closeCodeName(code)).c_str(), reason.empty() ? "" : ": ",
               static_cast<int>(reason.size()), reason.data(),
               error() == protocol::Error::None ? "" : " error=",
               std::string(protocol::errorName(error())).c_str());
  }
  if (opened && behavior().close) {
    uint16_t code = connection_.closeCode();
    std::string reason = connection_.takeCloseReason();
    behavior().close(*this, code, reason);
  }
  // Each observer may delete itself when told: take the next link first.
  ConnectionObserver* observer = std::exchange(observers_, nullptr);
  while (observer) {
    ConnectionObserver* next = std::exchange(observer->next_, nullptr);
    observer->connectionClosed(*this);
    observer = next;
  }
}

void WebSocket::addObserver(ConnectionObserver* observer) {
  observer->next_ = observers_;
  observers_ = observer;
}

void WebSocket::removeObserver(ConnectionObserver* observer) {
  for (ConnectionObserver** link = &observers_; *link; link = &(*link)->next_) {
    if (*link == observer) {
      *link = observer->next_;
      observer->next_ = nullptr;
      return;
    }
  }
}

}  // namespace duplex
