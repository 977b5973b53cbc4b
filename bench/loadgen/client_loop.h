#pragma once
// The generator's own event loop: non-blocking WebSocket client connections on one epoll, one
// thread. It deliberately shares no code with src/net (the server's loop), so a bug or a
// shortcut there cannot flatter the server. Framing and the handshake come from the sans-I/O
// protocol core (src/protocol), which is the one place that knows RFC 6455.
//
// Speed, so that the server and not the generator is the bottleneck:
//  - every read goes into one buffer the loop owns; whole frames are parsed in place;
//  - frames are appended to a per-connection output buffer and written with one send() per
//    connection per loop turn, however many messages were queued during the turn;
//  - nothing is allocated per message once the buffers have grown to their working size.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "deflate.h"
#include "protocol/opcode.h"
#include "protocol/receiver.h"

namespace bench {

struct Target {
  sockaddr_in address{};
  std::string hostHeader;  // "127.0.0.1:9001"
  std::string path = "/";
};

class Connection {
 public:
  enum class State : uint8_t { Closed, Connecting, Upgrading, Open, Closing };

  uint32_t id() const { return id_; }
  State state() const { return state_; }
  bool open() const { return state_ == State::Open; }
  uint64_t startedNs() const { return startedNs_; }  // when connect() was called

 private:
  friend class ClientLoop;
  uint32_t id_ = 0;
  uint32_t generation_ = 0;  // bumped on every open/close, so stale epoll events are ignored
  State state_ = State::Closed;
  bool dirty_ = false;         // listed for the end-of-turn flush
  bool wantWritable_ = false;  // EPOLLOUT armed because the kernel took only part of out_
  int fd_ = -1;
  size_t outSent_ = 0;
  uint64_t startedNs_ = 0;
  std::vector<uint8_t> out_;
  std::string head_;  // the server's HTTP response while it arrives; emptied once open
  std::string key_;   // our Sec-WebSocket-Key, kept until the response is checked
  duplex::protocol::Receiver receiver_;
  std::unique_ptr<ConnectionDeflate> deflate_;  // null unless permessage-deflate was agreed
};

class ClientHandler {
 public:
  virtual ~ClientHandler() = default;
  virtual void onOpen(Connection&) {}
  virtual void onMessage(Connection&, duplex::Opcode, std::string_view payload) = 0;
  // The server sent a close frame (or, code 1006, closed TCP) on a connection that was Open or
  // Closing. Return false when that was not expected: the run then fails.
  virtual bool onServerClose(Connection&, uint16_t /*code*/) { return false; }
};

class ClientLoop {
 public:
  ClientLoop(Target target, ClientHandler& handler, uint64_t maxMessageSize);
  ~ClientLoop();
  ClientLoop(const ClientLoop&) = delete;
  ClientLoop& operator=(const ClientLoop&) = delete;

  // The connection with that id, created on first use. References stay valid.
  Connection& connection(uint32_t id);

  // Starts connect + upgrade. Source addresses rotate over 127.0.0.2, .3, ... every
  // kConnectionsPerSource connections, so more connections than one address has ephemeral
  // ports (and the TIME_WAIT of earlier runs) never run out.
  void open(Connection& c);

  // Offer permessage-deflate on every connection opened from now on; a server that declines
  // fails the run. Data messages then go compressed and compressed ones are inflated.
  void enableDeflate(bool takeover) { deflate_ = std::make_unique<ClientDeflate>(takeover); }

  // Queues one masked frame whose payload `fill(uint8_t*)` writes; sent at the end of the turn.
  // Under permessage-deflate a data message is written to a scratch buffer and compressed.
  template <class Fill>
  void sendFrame(Connection& c, duplex::Opcode opcode, size_t size, Fill&& fill) {
    if (c.deflate_ && !duplex::isControl(opcode)) {
      plain_.resize(size);
      fill(reinterpret_cast<uint8_t*>(plain_.data()));
      return sendCompressible(c, opcode);
    }
    uint8_t* payload = appendHeader(c, opcode, size, false);
    fill(payload);
    maskLast(payload, size);
  }
  void sendClose(Connection& c, uint16_t code);
  // Closes the socket now (no close handshake).
  void close(Connection& c);

  // One epoll_wait (at most `timeoutMs`), the handlers it triggers, then the writes.
  void turn(int timeoutMs);

  // Refreshed after every epoll_wait and every read, so receipt times are those of the read.
  uint64_t now() const { return now_; }

  // Data messages received so far, and how many of them came compressed (RSV1).
  uint64_t messagesReceived() const { return messagesIn_; }
  uint64_t compressedReceived() const { return compressedIn_; }
  // Data bytes the generator sent before and after compression (the workload's ratio).
  uint64_t plainBytesSent() const { return plainOut_; }
  uint64_t compressedBytesSent() const { return wireOut_; }

  void fail(std::string why);
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

  static constexpr uint64_t kConnectionsPerSource = 10000;
  static constexpr uint64_t kSources = 250;

 private:
  uint8_t* appendHeader(Connection& c, duplex::Opcode opcode, size_t size, bool rsv1);
  void sendCompressible(Connection& c, duplex::Opcode opcode);  // the message is in plain_
  void maskLast(uint8_t* payload, size_t size);
  void markDirty(Connection& c);
  void setWritableInterest(Connection& c, bool on);
  void onWritable(Connection& c);
  void onReadable(Connection& c);
  void onHeadBytes(Connection& c, const uint8_t* data, size_t size);
  void deliver(Connection& c, uint8_t* data, size_t size);
  void serverGone(Connection& c, std::string_view why);
  void flush(Connection& c);

  Target target_;
  ClientHandler& handler_;
  duplex::protocol::ReceiverConfig config_;
  int epoll_ = -1;
  uint64_t now_ = 0;
  uint64_t opened_ = 0;
  std::string error_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> dirty_;
  std::vector<uint8_t> readBuffer_;
  std::unique_ptr<ClientDeflate> deflate_;
  std::string plain_, compressed_, inflated_;  // scratch for permessage-deflate
  uint64_t messagesIn_ = 0, compressedIn_ = 0, plainOut_ = 0, wireOut_ = 0;
  std::mt19937_64 random_;
  uint8_t mask_[4] = {};
};

}  // namespace bench
