#include "server/websocket.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "net/log.h"
#include "net/random.h"
#include "protocol/frame.h"
#include "protocol/mask.h"
#include "protocol/utf8.h"

namespace duplex {

using protocol::Event;

WebSocket::WebSocket(net::Loop& loop, int fd, protocol::Role role)
    : net::Socket(loop, fd), role_(role) {}

WebSocket::~WebSocket() = default;

namespace {

// Per-thread scratch for inflated messages and compressed sends: a loop handles one message at
// a time, and a handler that sends while holding an inflated message uses the other buffer.
std::string& inflateScratch() {
  thread_local std::string buffer;
  return buffer;
}
std::string& deflateScratch() {
  thread_local std::string buffer;
  return buffer;
}

}  // namespace

void WebSocket::enableCompression(const protocol::DeflateParams& agreed,
                                  const protocol::PerMessageDeflateConfig& config) {
  compression_ = std::make_unique<Compression>(agreed, role_, config);
  receiver_.allowCompression(true);
}

void WebSocket::open(const WebSocketBehavior& behavior) {
  behavior_ = &behavior;
  state_ = State::Open;
  refreshIdleDeadline();
}

void WebSocket::refreshIdleDeadline() {
  pingOutstanding_ = false;
  setDeadline(behavior_->idleTimeoutSeconds);
}

void WebSocket::onData(std::span<uint8_t> data) {
  if (state_ == State::Handshake) {
    if (!onHandshakeData(data)) return;
    if (data.empty() || isClosed()) return;
  }
  processFrames(data);
}

void WebSocket::processFrames(std::span<uint8_t> data) {
  // RFC 6455 5.5.1: after a close frame the peer sends nothing we need to read.
  if (closeReceived_ || isClosed()) return;
  if (state_ == State::Open) refreshIdleDeadline();
  protocol::ReceiverConfig config;
  config.role = role_;
  config.maxMessageSize = behavior_->maxMessageSize;
  config.maxFrameSize =
      behavior_->maxFrameSize ? behavior_->maxFrameSize : behavior_->maxMessageSize;
  for (;;) {
    Event event = receiver_.next(data, config);
    switch (event.kind) {
      case Event::Kind::NeedMore:
        return;
      case Event::Kind::Message:
        if (!deliver(event)) return;
        break;
      case Event::Kind::Ping:
        if (!closeSent_) writeFrame(Opcode::Pong, event.payload, true);
        if (behavior_->ping && state_ == State::Open) behavior_->ping(*this, event.payload);
        break;
      case Event::Kind::Pong:
        if (behavior_->pong && state_ == State::Open) behavior_->pong(*this, event.payload);
        break;
      case Event::Kind::Close:
        handleClose(event.code, event.payload);
        return;
      case Event::Kind::Error:
        fail(event.code, event.payload);
        return;
    }
    if (isClosed() || closeReceived_) return;
  }
}

bool WebSocket::deliver(const Event& event) {
  // After we sent a close, messages still arrive until the peer sees it; the application asked
  // to stop, so they are read (to find the peer's close) but not delivered.
  if (state_ != State::Open) return true;
  if (!event.compressed) {
    if (behavior_->message) behavior_->message(*this, event.payload, event.opcode);
    return true;
  }
  // The Receiver's limits counted compressed bytes; the inflated message has the same limit.
  std::string& inflated = inflateScratch();
  inflated.clear();
  std::string error;
  protocol::InflateStatus status =
      compression_->inflate(event.payload, inflated, behavior_->maxMessageSize, error);
  if (status != protocol::InflateStatus::Ok) {
    fail(protocol::closeCodeFor(status),
         status == protocol::InflateStatus::TooBig ? "message too big" : "cannot inflate message");
    return false;
  }
  // RFC 7692 leaves UTF-8 to after inflation; the Receiver could not check compressed bytes.
  if (event.opcode == Opcode::Text && !protocol::isValidUtf8(inflated)) {
    fail(static_cast<uint16_t>(CloseCode::InvalidPayload), "invalid UTF-8 in text message");
    return false;
  }
  // Inflated even without a handler: with context takeover every message feeds the window.
  if (behavior_->message) behavior_->message(*this, inflated, event.opcode);
  return true;
}

bool WebSocket::send(std::string_view data, Opcode opcode) {
  if (state_ != State::Open || closeSent_) return false;
  if (compression_) {
    std::string& compressed = deflateScratch();
    compressed.clear();
    if (compression_->compress(data, compressed)) return writeFrame(opcode, compressed, true, true);
  }
  return writeFrame(opcode, data, true);
}

bool WebSocket::sendFragment(std::string_view data, Opcode opcode, bool fin) {
  if (state_ != State::Open || closeSent_) return false;
  return writeFrame(opcode, data, fin);
}

bool WebSocket::ping(std::string_view payload) {
  if (state_ != State::Open || closeSent_ || payload.size() > protocol::kMaxControlPayload) {
    return false;
  }
  return writeFrame(Opcode::Ping, payload, true);
}

bool WebSocket::sendShared(const SharedFrame& frame) {
  if (state_ != State::Open || closeSent_ || isClosed() || role_ != protocol::Role::Server) {
    return false;
  }
  if (stalledAmount() > behavior_->maxBackpressure) {
    terminate("send queue over maxBackpressure");
    return false;
  }
  writeShared(frame.chunk, frame.offset, frame.size);
  return true;
}

bool WebSocket::writeFrame(Opcode opcode, std::string_view payload, bool fin, bool compressed) {
  if (isClosed()) return false;
  if (stalledAmount() > behavior_->maxBackpressure) {
    // The peer has not read the last maxBackpressure bytes: it is not going to. Dropping it
    // bounds our memory; queueing a close frame behind a full queue would be pointless.
    terminate("send queue over maxBackpressure");
    return false;
  }
  bool masked = role_ == protocol::Role::Client;
  uint8_t key[4];
  protocol::FrameHeader header;
  header.opcode = opcode;
  header.fin = fin;
  header.rsv1 = compressed;  // RFC 7692 6: set on the first frame of a compressed message
  header.payloadSize = payload.size();
  if (masked) {
    net::secureRandom(key, sizeof key);
    header.maskKey = key;
  }
  size_t headerSize = protocol::frameHeaderSize(payload.size(), masked);
  uint8_t* out = reserve(headerSize + payload.size());
  protocol::writeFrameHeader(out, header);
  if (!payload.empty()) {
    std::memcpy(out + headerSize, payload.data(), payload.size());
    if (masked) protocol::applyMask(out + headerSize, payload.size(), key);
  }
  return true;
}

bool WebSocket::writeCloseFrame(uint16_t code, std::string_view reason) {
  uint8_t payload[protocol::kMaxControlPayload];
  size_t size = 0;
  // 1005 means "no code": RFC 6455 7.4.1 forbids sending it, so the frame goes out empty.
  if (code != static_cast<uint16_t>(CloseCode::NoStatus)) {
    size = protocol::writeClosePayload(payload, code, reason);
  }
  closeSent_ = true;
  return writeFrame(Opcode::Close, std::string_view(reinterpret_cast<const char*>(payload), size),
                    true);
}

void WebSocket::close(uint16_t code, std::string_view reason) {
  if (state_ != State::Open || closeSent_) return;
  // How the connection ends is what the peer answers (RFC 6455 7.1.5), or 1006 if it never
  // does; the reason we gave is kept for the close handler (peers echo the code alone).
  if (!reason.empty() && !closeReason_) closeReason_ = std::make_unique<std::string>(reason);
  writeCloseFrame(code, reason);
  if (isClosed()) return;
  state_ = State::Closing;
  // 0 would mean "no deadline": a peer that never answers must not hold us forever.
  setDeadline(std::max<uint32_t>(behavior_->closeTimeoutSeconds, 1));
}

void WebSocket::handleClose(uint16_t code, std::string_view reason) {
  closeReceived_ = true;
  // RFC 6455 7.1.5: the connection's close code is the one in the peer's close frame.
  setCloseInfo(code, reason);
  // RFC 6455 5.5.1: answer with a close frame, echoing the status code.
  if (!closeSent_) writeCloseFrame(code, {});
  finish();
}

void WebSocket::fail(uint16_t code, std::string_view reason) {
  // RFC 6455 7.1.7 "Fail the WebSocket Connection": send a close frame with the reason, then
  // close without waiting for the peer's answer.
  setCloseInfo(code, reason);
  if (!closeSent_) writeCloseFrame(code, reason);
  closeReceived_ = true;  // read nothing more
  finish();
}

void WebSocket::finish() {
  if (isClosed()) return;
  state_ = State::Finished;
  if (role_ == protocol::Role::Server) {
    // RFC 6455 7.1.1: the server closes the TCP connection first.
    closeGracefully(behavior_->closeTimeoutSeconds);
  } else {
    // The client waits for the server to close TCP, but not forever.
    setDeadline(std::max<uint32_t>(behavior_->closeTimeoutSeconds, 1));
  }
}

void WebSocket::terminate(std::string_view reason) {
  if (isClosed()) return;
  setCloseInfo(static_cast<uint16_t>(CloseCode::Abnormal), reason);
  closeNow();
}

void WebSocket::setCloseInfo(uint16_t code, std::string_view reason) {
  if (closeCode_ != 0) return;  // the first cause wins
  closeCode_ = code;
  if (!reason.empty() && !closeReason_) closeReason_ = std::make_unique<std::string>(reason);
}

void WebSocket::onEnd(int error) {
  if (state_ == State::Handshake) {
    onHandshakeEnd(error);
    return;
  }
  // TCP ended. Without a close frame from the peer that is an abnormal closure (1006).
  if (!closeReceived_) setCloseInfo(static_cast<uint16_t>(CloseCode::Abnormal), {});
  closeNow();
}

void WebSocket::onTimeout() {
  switch (state_) {
    case State::Handshake:
      onHandshakeTimeout();
      return;
    case State::Open:
      if (behavior_->autoPing && !pingOutstanding_) {
        writeFrame(Opcode::Ping, {}, true);
        pingOutstanding_ = true;
        setDeadline(behavior_->idleTimeoutSeconds);
        return;
      }
      close(CloseCode::GoingAway, "idle timeout");
      return;
    case State::Closing:
    case State::Finished:
      // The peer never answered our close frame, or never closed TCP.
      if (!closeReceived_)
        setCloseInfo(static_cast<uint16_t>(CloseCode::Abnormal), "close timeout");
      closeNow();
      return;
  }
}

void WebSocket::onDrain() {
  if (state_ == State::Handshake) return onHandshakeDrain();
  if (state_ == State::Open && behavior_->drain) behavior_->drain(*this);
}

void WebSocket::onClosed() {
  if (behavior_ && log::enabled(log::Level::Debug)) {
    uint16_t code = closeCode_ ? closeCode_ : static_cast<uint16_t>(CloseCode::Abnormal);
    DUPLEX_LOG(Debug, "websocket closed: %u %s%s%s", code,
               std::string(protocol::closeCodeName(code)).c_str(), closeReason_ ? ": " : "",
               closeReason_ ? closeReason_->c_str() : "");
  }
  if (behavior_ && behavior_->close) {
    uint16_t code = closeCode_ ? closeCode_ : static_cast<uint16_t>(CloseCode::Abnormal);
    std::string reason = closeReason_ ? std::move(*closeReason_) : std::string();
    closeReason_.reset();
    behavior_->close(*this, code, reason);
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
