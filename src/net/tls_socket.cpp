// The TLS halves of Socket's reading and flushing. The plain path in socket.cpp pays one pointer
// test for them. Reads: the ciphertext recv put in the loop's buffer is fed to the session and
// decrypted into a second shared buffer, then handed to onData like plain bytes. Flushes: the
// plaintext queued during the iteration is encrypted in one batch into the session's wire
// queue, and that queue leaves in one sendmsg, so corking and backpressure work as without TLS.
#include <cerrno>
#include <memory>

#include "net/log.h"
#include "net/loop.h"
#include "net/socket.h"
#include "net/tls_session.h"

namespace duplex::net {
namespace {

// Decrypted bytes are only valid during onData, like the loop's read buffer; one buffer per
// thread is one per running loop, allocated when the thread's first TLS socket reads.
uint8_t* plaintextBuffer() {
  thread_local std::unique_ptr<uint8_t[]> buffer;
  if (!buffer) buffer = std::make_unique<uint8_t[]>(Loop::kReadBufferSize);
  return buffer.get();
}

}  // namespace

void Socket::startTls(std::unique_ptr<TlsSession> session) {
  tls_ = std::move(session);
  // A client's first flush writes the ClientHello; a server's does nothing until one arrives.
  loop_->markDirty(this);
}

void Socket::onTlsError(std::string_view why) {
  // A plain-HTTP client on the TLS port, a scanner, a bad record: worth a line at debug level.
  DUPLEX_LOG(Debug, "%s: %.*s", remoteAddress().c_str(), static_cast<int>(why.size()), why.data());
  onEnd(EPROTO);
}

size_t Socket::tlsBuffered() const {
  return tls_->wireSize();
}

bool Socket::tlsHasUnsent() const {
  // Before the handshake completes, queued plaintext cannot leave: waiting for writability
  // then would spin the loop.
  return tls_->wireSize() > 0 || (out_ && tls_->established());
}

void Socket::receiveTls(std::span<uint8_t> ciphertext) {
  TlsSession& tls = *tls_;
  tls.feed(ciphertext);
  if (!tls.established()) {
    TlsSession::Result result = tls.handshake();
    if (result == TlsSession::Result::Failed) return failTls();
    // Our next flight, or (once established) the plaintext that waited for the handshake.
    if (tls.wireSize() > 0 || tls.established()) loop_->markDirty(this);
    if (!tls.established()) return;
  }
  uint8_t* plain = plaintextBuffer();
  for (;;) {
    size_t produced = 0;
    TlsSession::Result result =
        tls.read(std::span<uint8_t>(plain, Loop::kReadBufferSize), produced);
    if (produced > 0) {
      onData(std::span<uint8_t>(plain, produced));
      if (isClosed()) return;
    }
    if (result == TlsSession::Result::Progress) continue;
    if (result == TlsSession::Result::WantInput) break;
    if (result == TlsSession::Result::PeerClosed) {
      // close_notify: the peer sends nothing more, exactly like a FIN.
      onEnd(0);
      return;
    }
    return failTls();
  }
  // TLS 1.3 session tickets, key updates: records of its own the session wants to send.
  if (tls.wireSize() > 0) loop_->markDirty(this);
}

void Socket::flushTls() {
  TlsSession& tls = *tls_;
  if (!tls.established()) {
    if (tls.handshake() == TlsSession::Result::Failed) return failTls();
    if (!tls.established() && closeAfterFlush_ && out_) {
      // Closing before the handshake completed: the plaintext can never be sent.
      loop_->releaseQueue(out_);
      out_ = nullptr;
    }
  }
  for (;;) {
    if (out_ && tls.established()) {
      if (!tls.encrypt(*out_)) return failTls();
      if (out_->empty()) {
        loop_->releaseQueue(out_);
        out_ = nullptr;
      }
    }
    // RFC 8446 6.1: close_notify before our FIN, so the peer can tell an end from a truncation.
    if (closeAfterFlush_ && !out_) tls.shutdown();
    if (!sendQueue(tls.wire())) {
      if (out_) {
        loop_->releaseQueue(out_);  // the peer is gone: nothing more will be delivered
        out_ = nullptr;
      }
      return;
    }
    // Stop when the kernel is full (the wire still holds bytes) or everything went.
    if (tls.wire() || !out_ || !tls.established()) return;
  }
}

void Socket::failTls() {
  std::string why = tls_->failure();
  // OpenSSL may have queued an alert telling the peer why: one try, no waiting for it.
  sendQueue(tls_->wire());
  onTlsError(why);
  // A session that failed stays failed: the connection must not outlive it.
  if (!isClosed()) closeNow();
}

}  // namespace duplex::net
