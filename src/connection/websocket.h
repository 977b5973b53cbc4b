#pragma once
// One WebSocket connection, the object handlers receive. Role-neutral: the server's connections
// and the client's share it. A thin adapter: the connection's rules (close handshake, failing,
// pings, compression, deadlines) live in the sans-I/O protocol::Connection; this class feeds it
// the socket's bytes, is its sink (frames go into the socket's corked send queue, refused when
// the peer stopped reading), arms the socket's deadline with the seconds it asks for, ends the
// socket when its phase says so, and runs the handlers. Kept small on purpose: thousands of
// idle ones should cost little memory.
#include <any>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "connection/behavior.h"
#include "connection/compression.h"
#include "net/socket.h"
#include "protocol/close_code.h"
#include "protocol/connection.h"
#include "protocol/error.h"
#include "protocol/opcode.h"

namespace duplex {

// A complete server frame in a shared, reference-counted chunk: a broadcast is framed once and
// the same bytes are queued on every subscriber (see pubsub::Topics).
struct SharedFrame {
  net::Chunk* chunk = nullptr;
  uint32_t offset = 0;
  uint32_t size = 0;
};

class WebSocket;

// Keeps per-connection state outside the connection (pub/sub subscriptions, presence) and must
// hear when the connection ends. Told after the close handler has run. A connection holds a
// chain of them (one pointer), so the layers above the server each add their own.
class ConnectionObserver {
 public:
  virtual void connectionClosed(WebSocket& ws) = 0;
  ConnectionObserver* nextObserver() const { return next_; }

 protected:
  virtual ~ConnectionObserver() = default;

 private:
  friend class WebSocket;
  ConnectionObserver* next_ = nullptr;
};

class WebSocket : public net::Socket {
 public:
  // Queues one message (a single frame); it leaves with everything else sent to this socket in
  // the same loop iteration. Returns false when it was not queued: the connection is closing or
  // closed, or the peer stopped reading and the queue passed maxBackpressure (the connection is
  // then dropped).
  bool send(std::string_view data, Opcode opcode = Opcode::Text);
  bool sendText(std::string_view data) { return send(data, Opcode::Text); }
  bool sendBinary(std::string_view data) { return send(data, Opcode::Binary); }
  // One fragment of a message sent in pieces: the first carries Text/Binary, the others
  // Continuation; `fin` ends the message.
  bool sendFragment(std::string_view data, Opcode opcode, bool fin);
  bool ping(std::string_view payload = {});
  // Queues a frame built once for many connections (server role only: a client masks every
  // frame differently). Same return value as send().
  bool sendShared(const SharedFrame& frame);

  // Starts the closing handshake (RFC 6455 7.1.2): sends a close frame, stops delivering
  // messages, and ends the connection when the peer answers or closeTimeoutSeconds pass.
  // Before open (a client still connecting) there is no WebSocket to close yet: close() and
  // terminate() drop the attempt, and no handler runs for it.
  void close(uint16_t code = 1000, std::string_view reason = {});
  void close(CloseCode code, std::string_view reason = {}) {
    close(static_cast<uint16_t>(code), reason);
  }
  // Drops the connection at once, without a closing handshake (the close handler gets 1006).
  void terminate(std::string_view reason = {});

  bool isOpen() const { return connection_.phase() == protocol::Phase::Open; }
  // permessage-deflate was agreed for this connection.
  bool isCompressed() const { return connection_.compression() != nullptr; }
  // Its compression state, null when none was agreed (for pubsub's compress-once broadcast).
  Compression* compression() const { return connection_.compression(); }
  // Why the connection failed or was lost (in the close handler, or after): the rule the peer
  // broke (Error::InvalidUtf8, MaskedFrameFromServer, ...), ConnectionLost, CloseTimeout,
  // SendQueueFull, Terminated; Error::None for a clean close or while open.
  protocol::Error error() const { return connection_.error(); }
  // The protocol state itself, for inspection (phase, close code, limits).
  const protocol::Connection& connection() const { return connection_; }
  // Per-connection data of the application's choosing. Allocated at the first call: a
  // connection whose application keeps nothing here pays one pointer for it.
  std::any& data() {
    if (!userData_) userData_ = std::make_unique<std::any>();
    return *userData_;
  }
  template <class T>
  T& data() {
    return std::any_cast<T&>(data());
  }
  // The route's (or the client's) behavior; valid once open. It is the connection's limits.
  const WebSocketBehavior& behavior() const {
    return static_cast<const WebSocketBehavior&>(connection_.limits());
  }
  // The subprotocol agreed in the handshake (one of behavior().subprotocols: the server's pick,
  // or the one the server answered on a client); empty when none. Valid once open.
  std::string_view subprotocol() const {
    return subprotocolIndex_ < 0 ? std::string_view()
                                 : std::string_view(behavior().subprotocols[subprotocolIndex_]);
  }
  // The first observer of the chain (walk it with nextObserver()).
  ConnectionObserver* observers() const { return observers_; }
  void addObserver(ConnectionObserver* observer);
  void removeObserver(ConnectionObserver* observer);
  using net::Socket::bufferedAmount;
  using net::Socket::remoteAddress;

 protected:
  WebSocket(net::Loop& loop, int fd, protocol::Role role);
  // Without a descriptor yet (net::Socket::attachDescriptor): a client looking its server up.
  WebSocket(net::Loop& loop, protocol::Role role);
  ~WebSocket() override;

  // HTTP phase, implemented by the server and client connections. Consumes the head from the
  // front of `data` and returns true once the WebSocket is open (then what is left in `data` are
  // the first frames); returns false while more is needed or when the connection was refused.
  virtual bool onHandshakeData(std::span<uint8_t>& data) = 0;
  // Handshake phase timed out (slowloris, an unresponsive server).
  virtual void onHandshakeTimeout() { closeNow(); }
  // Handshake phase ended by the peer.
  virtual void onHandshakeEnd(int /*error*/) { closeNow(); }
  // Handshake phase: the send queue drained (net::Socket::requestDrain).
  virtual void onHandshakeDrain() {}

  // Switches to the Open state with this route's behavior; called by subclasses. `subprotocol`
  // is the agreed one, empty or one of behavior.subprotocols (stored as its index, so a
  // connection pays a few bytes for it, not a string).
  void open(const WebSocketBehavior& behavior, std::string_view subprotocol = {});
  // permessage-deflate was agreed in the handshake (call before open()).
  void enableCompression(const protocol::DeflateParams& agreed,
                         const protocol::PerMessageDeflateConfig& config);
  void processFrames(std::span<uint8_t> data);
  // HTTP phase: request (server) or response (client) not complete yet.
  bool handshaking() const { return connection_.phase() == protocol::Phase::Connecting; }

 private:
  void onData(std::span<uint8_t> data) final;
  void onEnd(int error) final;
  void onTimeout() final;
  void onDrain() final;
  void onClosed() final;

  // The protocol::ConnectionSink the connection writes to, made on the stack for each call
  // (as a base class it would cost every connection a vtable pointer).
  class Sink;
  // Frames go to the socket's send queue, unless the peer has not read the last
  // maxBackpressure bytes (then null: the connection ends).
  uint8_t* reserveOutput(size_t size);
  // Does to the socket what the connection's phase asks: arm the deadline it names, close TCP
  // first (server) once the close handshake is over, drop the socket once it Ended.
  void followConnection();

  // First, so that it fits in the tail of net::Socket's layout instead of a word of its own
  // (docs/performance.md, "memory per idle connection"). Into behavior().subprotocols; -1:
  // none agreed (a route offers fewer than 128).
  int8_t subprotocolIndex_ = -1;
  protocol::Connection connection_;
  std::unique_ptr<std::any> userData_;  // null until data() is first called
  ConnectionObserver* observers_ = nullptr;
};

}  // namespace duplex
