#pragma once
// One RFC 6455 connection, sans-I/O, the way python-websockets' Protocol is one: bytes in,
// events out; the frames it sends go to a sink; when it next expects to hear from the peer
// comes out as a number of seconds, not a clock. Role-neutral: the server's and the client's
// WebSocket (src/connection/websocket.h) are thin adapters that feed it a socket's bytes, give
// it the socket's send queue as its sink, and end the socket when its phase says so.
//
// The rules it holds, each a byte-table test in tests/protocol/test_connection*.cpp:
// - the close handshake of RFC 6455 7 from both sides: an application's close() sends a close
//   frame and waits for the peer's; a peer's close frame is echoed with its code (5.5.1); the
//   connection's code is the one in the peer's frame (7.1.5);
// - failing the connection (7.1.7) with the close code its Error earns;
// - pings answered with a pong carrying the same payload, even in the middle of a fragmented
//   message; after our close frame nothing is answered or delivered;
// - permessage-deflate: inflate, then check UTF-8 (RFC 7692 leaves UTF-8 to after inflation);
//   compress on send;
// - idle, ping and close deadlines.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocol/close_code.h"
#include "protocol/connection_limits.h"
#include "protocol/deflate_session.h"
#include "protocol/error.h"
#include "protocol/opcode.h"
#include "protocol/receiver.h"

namespace duplex::protocol {

// Where a Connection's frames go. A socket adapter queues them on its socket (corked, sent at
// the end of the loop iteration); a test collects them in a string.
class ConnectionSink {
 public:
  // Room for `size` bytes at the end of the output, filled before the Connection returns.
  // Null refuses the write (the peer stopped reading, or the transport is gone): the
  // Connection then ends with Error::SendQueueFull.
  virtual uint8_t* reserveOutput(size_t size) = 0;
  // Four unpredictable bytes to mask a client's frame with (RFC 6455 5.3).
  virtual void maskKey(uint8_t key[4]) = 0;

 protected:
  ~ConnectionSink() = default;
};

struct ConnectionEvent {
  enum class Kind : uint8_t {
    NeedMore,  // all input consumed
    Message,   // a whole data message, inflated and its UTF-8 checked: `opcode`, `payload`
    Ping,      // the peer's ping (`payload`); the pong is already queued
    Pong,
    Closed,  // the connection is over: phase() says how to end the transport
  };
  Kind kind = Kind::NeedMore;
  Opcode opcode = Opcode::Text;
  // Into the input or the thread's inflate buffer: valid until the next call to receive().
  std::string_view payload;
};

enum class Phase : uint8_t {
  Connecting,  // before open(): the HTTP handshake is the owner's business
  Open,
  Closing,  // we sent a close frame and wait for the peer's
  // Close frames exchanged, or the connection failed: the transport should end. The server
  // closes TCP first (RFC 6455 7.1.1); the client waits for it, until deadline().
  Closed,
  Ended,  // the transport is gone, or must go now; closeCode() is final
};

class Connection {
 public:
  explicit Connection(Role role);
  ~Connection();
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;

  // permessage-deflate was agreed in the handshake: call before open().
  void enableCompression(const DeflateParams& agreed, const PerMessageDeflateConfig& config);
  // The handshake is over. `limits` outlive the connection (a route's or a client's).
  void open(const ConnectionLimits& limits);

  // Consumes bytes from the front of `input` (unmasking them in place) until there is an event
  // to report or the input is used up. Pongs and close frames it owes go to `sink`.
  ConnectionEvent receive(std::span<uint8_t>& input, ConnectionSink& sink);

  // True while the application may send: open, and no close frame sent.
  bool canSend() const { return phase_ == Phase::Open && !closeSent_; }
  // One message in one frame, compressed when agreed and worth it. False when not sent: the
  // connection is closing or over, or the sink refused (the connection then Ended).
  bool send(ConnectionSink& sink, std::string_view data, Opcode opcode);
  // One frame of a message sent in pieces (never compressed): the first carries Text/Binary,
  // the others Continuation; `fin` ends the message.
  bool sendFragment(ConnectionSink& sink, std::string_view data, Opcode opcode, bool fin);
  bool ping(ConnectionSink& sink, std::string_view payload);
  // Starts the closing handshake (RFC 6455 7.1.2): a close frame now, then Closing until the
  // peer answers or deadline() passes. 1005 NoStatus sends an empty close frame.
  void close(ConnectionSink& sink, uint16_t code, std::string_view reason);

  // The transport ended (EOF, an error, or it was closed). Without the peer's close frame
  // that is 1006 with Error::ConnectionLost.
  void transportEnded();
  // Ends at once without a closing handshake: 1006 with `error` and a reason (errorMessage(error)
  // when empty).
  void abort(Error error, std::string_view reason = {});
  // The deadline last taken has passed. Open: sends the automatic ping, or closes 1001 when
  // one is already out (or autoPing is off). Closing or Closed: the peer never answered, so
  // the connection Ends with Error::CloseTimeout.
  void expire(ConnectionSink& sink);

  // Seconds from now by which the peer must be heard from (0: no deadline), when it changed
  // since the last call: after activity while open, a ping, a close, or the end of the
  // handshake. The adapter arms its timer with it; a receive while Closing does not move it.
  std::optional<uint32_t> takeDeadline() {
    if (!deadlineDue_) return std::nullopt;
    deadlineDue_ = false;
    return deadline();
  }
  uint32_t deadline() const;
  // RFC 6455 7.1.1: the server closes the TCP connection first; the client waits for it.
  bool closesTransportFirst() const { return role_ == Role::Server; }

  Phase phase() const { return phase_; }
  Role role() const { return role_; }
  bool closeSent() const { return closeSent_; }
  bool closeReceived() const { return closeReceived_; }
  // How the connection ended: the code in the peer's close frame, the code we failed it with,
  // or 1006 Abnormal (also while it has not ended).
  uint16_t closeCode() const {
    return closeCode_ ? closeCode_ : static_cast<uint16_t>(CloseCode::Abnormal);
  }
  std::string_view closeReason() const {
    return closeReason_ ? std::string_view(*closeReason_) : std::string_view();
  }
  std::string takeCloseReason();
  // Which rule was broken or how the connection was lost; None for a clean close.
  Error error() const { return error_; }
  PerMessageDeflate* compression() const { return deflate_.get(); }
  const ConnectionLimits& limits() const { return *limits_; }
  const Receiver& receiver() const { return receiver_; }

 private:
  bool writeFrame(ConnectionSink& sink, Opcode opcode, std::string_view payload, bool fin,
                  bool compressed = false);
  bool writeCloseFrame(ConnectionSink& sink, uint16_t code, std::string_view reason);
  ConnectionEvent inflate(const Event& event, ConnectionSink& sink);
  void handleClose(ConnectionSink& sink, uint16_t code, std::string_view reason);
  void fail(ConnectionSink& sink, Error error);
  void finish();
  void setCloseInfo(uint16_t code, std::string_view reason, Error error);

  Receiver receiver_;
  const ConnectionLimits* limits_ = nullptr;
  std::unique_ptr<PerMessageDeflate> deflate_;  // only when permessage-deflate was agreed
  std::unique_ptr<std::string> closeReason_;    // only when a close carried a reason
  uint16_t closeCode_ = 0;                      // 0 until the connection knows how it ends
  Role role_;
  Phase phase_ = Phase::Connecting;
  Error error_ = Error::None;
  // Bits, not bools: a Connection lives in every idle WebSocket (docs/performance.md).
  bool closeSent_ : 1 = false;
  bool closeReceived_ : 1 = false;    // also set on failure: read nothing more
  bool pingOutstanding_ : 1 = false;  // an automatic ping is waiting for any sign of life
  bool deadlineDue_ : 1 = false;      // takeDeadline() has a new value
};

}  // namespace duplex::protocol
