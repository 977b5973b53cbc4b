#pragma once
// A non-blocking TCP socket on a Loop: reads land in the loop's shared buffer and are handed to
// the subclass; writes are queued and leave in one syscall per loop iteration (corking), and what
// the kernel does not take stays queued (backpressure). Knows nothing of WebSockets.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "net/loop.h"
#include "net/pollable.h"

namespace duplex::net {

class TlsSession;

class Socket : public Pollable {
 public:
  Socket(Loop& loop, int fd);
  // A socket whose descriptor comes later (attachDescriptor): a client still looking up its
  // server's name. Until then it is open as far as anyone can tell (its deadline runs, writes
  // wait in the queue, closeNow() ends it); it only has nothing to poll or send on.
  explicit Socket(Loop& loop);
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  Loop& loop() const { return *loop_; }
  int fd() const { return fd_; }  // negative: closed, or no descriptor yet
  bool isClosed() const { return fd_ == kClosed; }
  bool hasDescriptor() const { return fd_ >= 0; }

  // Room for `size` bytes at the end of the send queue, to be filled before control returns to
  // the loop. The socket is flushed at the end of the loop iteration.
  uint8_t* reserve(size_t size);
  void write(std::string_view bytes);
  // Queues part of a shared chunk (a broadcast frame) without copying it.
  void writeShared(Chunk* chunk, uint32_t offset, uint32_t size);
  // Bytes queued and not yet accepted by the kernel (with TLS: plaintext and ciphertext).
  size_t bufferedAmount() const { return (out_ ? out_->size() : 0) + (tls_ ? tlsBuffered() : 0); }
  // What the kernel refused at the last flush: bytes the peer has not read. Unlike
  // bufferedAmount() it excludes what this iteration queued and has not tried to send yet, so a
  // burst to a peer that reads is never mistaken for a peer that does not.
  size_t stalledAmount() const { return stalled_; }

  // Speaks TLS from now on: call right after construction (or attachDescriptor), before the
  // loop runs again. Bytes
  // written before the handshake completes wait in the queue (see tls_socket.cpp).
  void startTls(std::unique_ptr<TlsSession> session);
  // The TLS session, or null for plain TCP.
  TlsSession* tls() const { return tls_.get(); }

  // Sends what is queued, then half-closes (FIN) and waits up to `lingerSeconds` for the peer
  // to close its side, discarding what it still sends; then closes. Closing right away with
  // unread input would make the kernel answer with RST, which can destroy our last bytes
  // (an HTTP error, a close frame) before the peer reads them.
  void closeGracefully(uint32_t lingerSeconds);
  // Closes now; queued bytes are lost. `reset` sends RST instead of FIN (SO_LINGER 0).
  void closeNow(bool reset = false);

  // "ip:port" of the peer (getpeername, computed on demand: nothing stored per connection).
  std::string remoteAddress() const;

  // Calls onDrain() once the send queue is empty and the socket writable, even when nothing is
  // queued now or the kernel takes everything at the next flush: for a producer that queues
  // the next piece of a long body only when the last one has left.
  void requestDrain() {
    drainRequested_ = true;
    updateInterest();
  }
  // Stops (false) or resumes (true) reading: an owner that cannot keep up leaves bytes in the
  // kernel, whose full buffers then slow the peer down (TCP flow control). A hang-up or error
  // is still read. Closing gracefully resumes reading (the peer's last bytes must be seen).
  void setReading(bool on);
  bool isReading() const { return !readingPaused_; }

  // Deadline in Loop ticks (seconds); 0 = none. onTimeout fires once it has passed.
  void setDeadline(uint32_t secondsFromNow);
  void clearDeadline() { deadline_ = 0; }

  void onEvents(uint32_t events) final;

 protected:
  virtual ~Socket();
  // Gives a socket made without one its descriptor (connecting, or connected), or swaps the one
  // it has for another: the connect to one of a name's addresses failed and the next is tried.
  // A first descriptor inherits what was queued while there was none; a swap drops what was
  // queued and the TLS session, which belonged to the old connection. Swap from the socket's
  // own onEnd: the events epoll gave for the old descriptor in this iteration are then all in
  // the onEvents call that is running, which drops the rest of them (the new descriptor is
  // open while the old one is, so their numbers differ).
  void attachDescriptor(int fd);
  // Bytes arrived; they sit in the loop's shared read buffer and are only valid during the call
  // (mutable, so a parser may unmask in place).
  virtual void onData(std::span<uint8_t> data) = 0;
  // The peer closed its side or the connection failed (`error` is an errno, 0 for EOF).
  virtual void onEnd(int error) = 0;
  virtual void onTimeout() {}
  // The send queue emptied after backpressure.
  virtual void onDrain() {}
  // Called exactly once when the socket is closed, before it is deleted at the end of the
  // iteration. Subclasses report the end of the connection here.
  virtual void onClosed() {}
  // TLS failed (the handshake, or a bad record later); `why` is readable ("certificate verify
  // failed: hostname mismatch"). By default the same as a failed connection: onEnd(EPROTO).
  virtual void onTlsError(std::string_view why);

 private:
  friend class Loop;
  friend class UringBackend;
  void flush();
  // The end of a flush once the kernel answered: stalled_, the graceful close, interest.
  void flushed();
  // With corking off (Loop::setCorking): sends what earlier writes queued before queueing more.
  void flushUncorked() {
    if (!loop_->corking() && out_ && !tls_ && !closeAfterFlush_) flush();
  }
  void readOnce();
  // What a recv gave (bytes; 0: EOF; -errno), from readOnce or an io_uring completion.
  void received(uint8_t* buffer, ssize_t result);
  // io_uring halves, in uring_socket.cpp: a send leaves as an SQE, and its CQE (`result`: bytes
  // taken or -errno; `offered`: bytes in that send; `consumed`: already dropped from the queue)
  // finishes the flush.
  bool startSend(OutQueue*& queue);
  void sendCompleted(int result, size_t offered, bool consumed);
  // Sends what `queue` holds; releases it to the loop once empty. False when the peer is gone.
  bool sendQueue(OutQueue*& queue);
  bool hasUnsent() const { return tls_ ? tlsHasUnsent() : out_ != nullptr; }
  // TLS halves of readOnce / flush, in tls_socket.cpp.
  void receiveTls(std::span<uint8_t> ciphertext);
  void flushTls();
  void failTls();
  bool tlsHasUnsent() const;
  size_t tlsBuffered() const;
  void updateInterest();
  uint32_t interest() const;  // the epoll events wanted now
  void deadlinePassed();
  // Out of the loop, closed, its queues back to the loop's pool (closeNow's first half).
  void releaseDescriptor(bool reset);

  static constexpr int kClosed = -1;
  static constexpr int kNoDescriptorYet = -2;

  // Laid out for size (docs/performance.md, "memory per idle connection"): thousands of idle
  // sockets are the common case, so the pointers come first and the small state packs behind
  // them, leaving the tail for a subclass's first small member.
  Loop* loop_;
  OutQueue* out_ = nullptr;          // from the loop's pool while something is queued
  std::unique_ptr<TlsSession> tls_;  // null for plain TCP: the only cost of TLS when it is off
  Socket* prev_ = nullptr;           // Loop's list of live sockets
  Socket* next_ = nullptr;
  Socket* nextDirty_ = nullptr;
  int fd_;
  uint32_t deadline_ = 0;
  uint32_t stalled_ = 0;        // bufferedAmount() after the last flush, saturated at 4 GiB
  uint16_t lingerSeconds_ = 0;  // closeGracefully's wait, saturated at 18 hours
  bool wantWritable_ : 1 = false;
  bool drainRequested_ : 1 = false;
  bool readingPaused_ : 1 = false;
  bool inDirtyList_ : 1 = false;
  bool closeAfterFlush_ : 1 = false;  // closeGracefully pending: shut down once the queue drains
  bool lingering_ : 1 = false;        // write side shut down; discarding input until EOF
};

}  // namespace duplex::net
