// The io_uring halves of Socket's flushing (backend_uring.h). A flush prepares one sendmsg SQE
// per socket and returns; the CQE, handled at the next iteration, does what the synchronous
// sendmsg's return did: drops what the kernel took, and either keeps going (the kernel took
// everything and more was queued since), or ends the flush as with epoll (stalled_, the
// graceful close, waiting for writability after a partial send, onDrain once it drained).
#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "net/backend_uring.h"
#include "net/loop.h"
#include "net/socket.h"
#include "net/tls_session.h"

namespace duplex::net {

bool Socket::startSend(OutQueue*& queue) {
  UringBackend& uring = *loop_->uring();
  if (uring.sending(fd_)) return true;  // one send per socket at a time; its CQE sends the rest
  if (queue && queue->empty()) {
    loop_->releaseQueue(queue);
    queue = nullptr;
  }
  if (queue) uring.send(*this, queue);
  return true;
}

void Socket::sendCompleted(int result, size_t offered, bool consumed) {
  if (isClosed()) return;
  OutQueue*& queue = tls_ ? tls_->wire() : out_;
  bool peerGone = false;
  if (queue) {
    if (result > 0) {
      if (!consumed) queue->consume(static_cast<size_t>(result));
    } else if (result != -EAGAIN && result != -EINTR && result != 0) {
      // The peer is gone; the read side will report it. Drop what cannot be delivered.
      queue->clear();
      peerGone = true;
    }
    if (queue->empty()) {
      loop_->releaseQueue(queue);
      queue = nullptr;
    }
  }
  if (peerGone && tls_ && out_) {
    loop_->releaseQueue(out_);
    out_ = nullptr;
  }
  if (!peerGone && result >= 0 && static_cast<size_t>(result) == offered && hasUnsent()) {
    // All of it went: what was queued since (or lay past the iovec limit) leaves at this
    // iteration's flush, with whatever else the iteration queues. Until the kernel answers for
    // it, it counts as stalled: epoll's flush would have tried it already, and a reader that
    // falls behind a steady stream must show as slow (pubsub drops by stalledAmount()).
    stalled_ = static_cast<uint32_t>(std::min<size_t>(bufferedAmount(), UINT32_MAX));
    loop_->markDirty(this);
    return;
  }
  bool waitedForWritable = wantWritable_;
  flushed();
  if (isClosed()) return;
  // flushed() asks for writability only when that changes; a partial send needs a fresh poll.
  if (wantWritable_) loop_->modify(fd_, interest(), this);
  // As epoll's EPOLLOUT does: the queue drained after backpressure (or on request).
  if (waitedForWritable && !hasUnsent() && !closeAfterFlush_) {
    drainRequested_ = false;
    onDrain();
    updateInterest();
  }
}

}  // namespace duplex::net
