#include "protocol/connection.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "protocol/frame.h"
#include "protocol/mask.h"
#include "protocol/utf8.h"

namespace duplex::protocol {
namespace {

// Per-thread scratch for inflated messages and compressed sends: a loop handles one message at
// a time, and a handler that sends while holding an inflated message uses the other buffer.
// Reused, so the steady state allocates nothing per message.
std::string& inflateScratch() {
  thread_local std::string buffer;
  return buffer;
}
std::string& deflateScratch() {
  thread_local std::string buffer;
  return buffer;
}

Error errorFor(InflateStatus status) {
  switch (status) {
    case InflateStatus::TooBig:
      return Error::MessageTooBig;
    case InflateStatus::NoMemory:
      return Error::InflateNoMemory;
    default:
      return Error::CorruptCompressedData;
  }
}

}  // namespace

Connection::Connection(Role role) : role_(role) {}
Connection::~Connection() = default;
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;

void Connection::enableCompression(const DeflateParams& agreed,
                                   const PerMessageDeflateConfig& config) {
  deflate_ = std::make_unique<PerMessageDeflate>(agreed, role_, config);
  receiver_.allowCompression(true);
}

void Connection::open(const ConnectionLimits& limits) {
  limits_ = &limits;
  phase_ = Phase::Open;
  deadlineDue_ = true;
}

uint32_t Connection::deadline() const {
  switch (phase_) {
    case Phase::Open:
      return limits_->idleTimeoutSeconds;
    case Phase::Closing:
    case Phase::Closed:
      // 0 would mean "no deadline": a peer that never answers must not hold us forever.
      return std::max<uint32_t>(limits_->closeTimeoutSeconds, 1);
    default:
      return 0;
  }
}

ConnectionEvent Connection::receive(std::span<uint8_t>& input, ConnectionSink& sink) {
  // RFC 6455 5.5.1: after a close frame the peer sends nothing we need to read.
  if (closeReceived_ || phase_ == Phase::Ended || phase_ == Phase::Connecting) {
    input = {};
    return {};
  }
  if (phase_ == Phase::Open && !input.empty()) {
    pingOutstanding_ = false;  // any byte is a sign of life
    deadlineDue_ = true;
  }
  ReceiverConfig config;
  config.role = role_;
  config.maxMessageSize = limits_->maxMessageSize;
  config.maxFrameSize = limits_->maxFrameSize ? limits_->maxFrameSize : limits_->maxMessageSize;
  for (;;) {
    Event event = receiver_.next(input, config);
    switch (event.kind) {
      case Event::Kind::NeedMore:
        return {};
      case Event::Kind::Message:
        // After we sent a close, messages still arrive until the peer sees it; the application
        // asked to stop, so they are read (to find the peer's close) but not delivered.
        if (phase_ != Phase::Open) break;
        if (event.compressed) return inflate(event, sink);
        return {ConnectionEvent::Kind::Message, event.opcode, event.payload};
      case Event::Kind::Ping:
        // RFC 6455 5.5.2: answer with a pong carrying the same data, even between the
        // fragments of a message; not once our close frame is out (5.5.1).
        if (!closeSent_ && !writeFrame(sink, Opcode::Pong, event.payload, true)) {
          return {ConnectionEvent::Kind::Closed};
        }
        if (phase_ == Phase::Open)
          return {ConnectionEvent::Kind::Ping, Opcode::Ping, event.payload};
        break;
      case Event::Kind::Pong:
        if (phase_ == Phase::Open)
          return {ConnectionEvent::Kind::Pong, Opcode::Pong, event.payload};
        break;
      case Event::Kind::Close:
        handleClose(sink, event.code, event.payload);
        return {ConnectionEvent::Kind::Closed};
      case Event::Kind::Error:
        fail(sink, event.error);
        return {ConnectionEvent::Kind::Closed};
    }
  }
}

ConnectionEvent Connection::inflate(const Event& event, ConnectionSink& sink) {
  // The Receiver's limits counted compressed bytes; the inflated message has the same limit.
  // Inflated even when nobody listens: with context takeover every message feeds the window.
  std::string& inflated = inflateScratch();
  inflated.clear();
  InflateStatus status = deflate_->inflate(event.payload, inflated, limits_->maxMessageSize);
  if (status != InflateStatus::Ok) {
    fail(sink, errorFor(status));
    return {ConnectionEvent::Kind::Closed};
  }
  // RFC 7692 leaves UTF-8 to after inflation; the Receiver could not check compressed bytes.
  if (event.opcode == Opcode::Text && !isValidUtf8(inflated)) {
    fail(sink, Error::InvalidUtf8);
    return {ConnectionEvent::Kind::Closed};
  }
  return {ConnectionEvent::Kind::Message, event.opcode, inflated};
}

bool Connection::send(ConnectionSink& sink, std::string_view data, Opcode opcode) {
  if (!canSend()) return false;
  if (deflate_) {
    std::string& compressed = deflateScratch();
    compressed.clear();
    if (deflate_->compress(data, compressed)) {
      return writeFrame(sink, opcode, compressed, true, true);
    }
  }
  return writeFrame(sink, opcode, data, true);
}

bool Connection::sendFragment(ConnectionSink& sink, std::string_view data, Opcode opcode,
                              bool fin) {
  if (!canSend()) return false;
  return writeFrame(sink, opcode, data, fin);
}

bool Connection::ping(ConnectionSink& sink, std::string_view payload) {
  if (!canSend() || payload.size() > kMaxControlPayload) return false;
  return writeFrame(sink, Opcode::Ping, payload, true);
}

bool Connection::writeFrame(ConnectionSink& sink, Opcode opcode, std::string_view payload, bool fin,
                            bool compressed) {
  if (phase_ == Phase::Ended) return false;
  const bool masked = role_ == Role::Client;
  const size_t headerSize = frameHeaderSize(payload.size(), masked);
  uint8_t* out = sink.reserveOutput(headerSize + payload.size());
  if (!out) {
    // The peer has not read what we queued: it is not going to. Dropping it bounds our
    // memory; queueing a close frame behind a full queue would be pointless.
    abort(Error::SendQueueFull);
    return false;
  }
  uint8_t key[4];
  FrameHeader header;
  header.opcode = opcode;
  header.fin = fin;
  header.rsv1 = compressed;  // RFC 7692 6: set on the first frame of a compressed message
  header.payloadSize = payload.size();
  if (masked) {
    sink.maskKey(key);
    header.maskKey = key;
  }
  writeFrameHeader(out, header);
  if (!payload.empty()) {
    std::memcpy(out + headerSize, payload.data(), payload.size());
    if (masked) applyMask(out + headerSize, payload.size(), key);
  }
  return true;
}

bool Connection::writeCloseFrame(ConnectionSink& sink, uint16_t code, std::string_view reason) {
  uint8_t payload[kMaxControlPayload];
  size_t size = writeClosePayload(payload, code, reason);  // nothing for 1005 (RFC 6455 7.4.1)
  closeSent_ = true;
  return writeFrame(sink, Opcode::Close,
                    std::string_view(reinterpret_cast<const char*>(payload), size), true);
}

void Connection::close(ConnectionSink& sink, uint16_t code, std::string_view reason) {
  if (!canSend()) return;
  // How the connection ends is what the peer answers (RFC 6455 7.1.5), or 1006 if it never
  // does; the reason we gave is kept for the close handler (peers echo the code alone).
  if (!reason.empty() && !closeReason_) closeReason_ = std::make_unique<std::string>(reason);
  if (!writeCloseFrame(sink, code, reason)) return;
  phase_ = Phase::Closing;
  deadlineDue_ = true;
}

void Connection::handleClose(ConnectionSink& sink, uint16_t code, std::string_view reason) {
  closeReceived_ = true;
  // RFC 6455 7.1.5: the connection's close code is the one in the peer's close frame.
  setCloseInfo(code, reason, Error::None);
  // RFC 6455 5.5.1: answer with a close frame, echoing the status code.
  if (!closeSent_ && !writeCloseFrame(sink, code, {})) return;
  finish();
}

void Connection::fail(ConnectionSink& sink, Error error) {
  // RFC 6455 7.1.7 "Fail the WebSocket Connection": send a close frame with the reason, then
  // close without waiting for the peer's answer.
  const uint16_t code = closeCodeFor(error);
  setCloseInfo(code, errorMessage(error), error);
  closeReceived_ = true;  // read nothing more
  if (!closeSent_ && !writeCloseFrame(sink, code, errorMessage(error))) return;
  finish();
}

void Connection::finish() {
  if (phase_ == Phase::Ended) return;
  phase_ = Phase::Closed;
  deadlineDue_ = true;
}

void Connection::transportEnded() {
  // Without a close frame from the peer that is an abnormal closure (1006).
  if (!closeReceived_)
    setCloseInfo(static_cast<uint16_t>(CloseCode::Abnormal), {}, Error::ConnectionLost);
  phase_ = Phase::Ended;
  deadlineDue_ = false;
}

void Connection::abort(Error error, std::string_view reason) {
  setCloseInfo(static_cast<uint16_t>(CloseCode::Abnormal),
               reason.empty() ? errorMessage(error) : reason, error);
  closeReceived_ = true;
  phase_ = Phase::Ended;
  deadlineDue_ = false;
}

void Connection::expire(ConnectionSink& sink) {
  switch (phase_) {
    case Phase::Open:
      if (limits_->autoPing && !pingOutstanding_) {
        if (writeFrame(sink, Opcode::Ping, {}, true)) {
          pingOutstanding_ = true;
          deadlineDue_ = true;
        }
        return;
      }
      close(sink, static_cast<uint16_t>(CloseCode::GoingAway), "idle timeout");
      return;
    case Phase::Closing:
    case Phase::Closed:
      // The peer never answered our close frame, or never closed TCP.
      if (!closeReceived_) abort(Error::CloseTimeout);
      phase_ = Phase::Ended;
      deadlineDue_ = false;
      return;
    case Phase::Connecting:
    case Phase::Ended:
      phase_ = Phase::Ended;
      return;
  }
}

void Connection::setCloseInfo(uint16_t code, std::string_view reason, Error error) {
  if (closeCode_ != 0) return;  // the first cause wins
  closeCode_ = code;
  error_ = error;
  if (!reason.empty() && !closeReason_) closeReason_ = std::make_unique<std::string>(reason);
}

std::string Connection::takeCloseReason() {
  std::string reason = closeReason_ ? std::move(*closeReason_) : std::string();
  closeReason_.reset();
  return reason;
}

}  // namespace duplex::protocol
