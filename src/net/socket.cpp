#include "net/socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "net/address.h"
#include "net/tls_session.h"

namespace duplex::net {

// Part of every connection (docs/performance.md, "memory per idle connection"; 64-bit).
static_assert(sizeof(void*) != 8 || sizeof(Socket) <= 72,
              "Socket is per-connection; keep it small");

Socket::Socket(Loop& loop, int fd) : loop_(&loop), fd_(fd) {
  loop.attach(this);
  loop.addSocket(this);
}

// In the loop's list (deadlines, closing at the loop's end), not yet in its poll set.
Socket::Socket(Loop& loop) : loop_(&loop), fd_(kNoDescriptorYet) {
  loop.attach(this);
}

void Socket::attachDescriptor(int fd) {
  if (isClosed()) {
    ::close(fd);
    return;
  }
  if (hasDescriptor()) {
    releaseDescriptor(false);
    tls_.reset();
    stalled_ = 0;
  }
  fd_ = fd;
  loop_->addSocket(this);
  // The poll set starts with reading only: what was asked for meanwhile (writability, a pause).
  if (interest() != EPOLLIN) loop_->modify(fd_, interest(), this);
  if (out_ || tls_) loop_->markDirty(this);
}

Socket::~Socket() {
  if (out_) loop_->releaseQueue(out_);
}

uint8_t* Socket::reserve(size_t size) {
  flushUncorked();
  if (!out_) out_ = loop_->acquireQueue();
  loop_->markDirty(this);
  return out_->append(size);
}

void Socket::write(std::string_view bytes) {
  if (bytes.empty() || isClosed()) return;
  std::memcpy(reserve(bytes.size()), bytes.data(), bytes.size());
}

void Socket::writeShared(Chunk* chunk, uint32_t offset, uint32_t size) {
  if (size == 0 || isClosed()) return;
  flushUncorked();
  if (!out_) out_ = loop_->acquireQueue();
  loop_->markDirty(this);
  out_->appendShared(chunk, offset, size);
}

void Socket::setDeadline(uint32_t secondsFromNow) {
  // The sweep runs once a second and ticks are whole seconds: one tick more makes the deadline
  // fire no earlier than asked (and at most a second late).
  deadline_ = secondsFromNow ? loop_->nowTick() + secondsFromNow + 1 : 0;
}

std::string Socket::remoteAddress() const {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (!hasDescriptor() || getpeername(fd_, reinterpret_cast<sockaddr*>(&storage), &length) != 0)
    return {};
  return formatAddress(reinterpret_cast<const sockaddr*>(&storage));
}

void Socket::onEvents(uint32_t events) {
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    const int fd = fd_;
    readOnce();
    if (fd_ != fd) return;  // closed, or given another descriptor: the rest was the old one's
  }
  if (events & EPOLLOUT) {
    flush();
    if (!isClosed() && !hasUnsent() && !closeAfterFlush_) {
      drainRequested_ = false;
      onDrain();
      updateInterest();
    }
  }
}

void Socket::readOnce() {
  // Level-triggered: one read per wakeup keeps the loop fair between busy sockets; what is left
  // in the kernel wakes us again on the next epoll_wait.
  uint8_t* buffer = loop_->readBuffer();
  ssize_t n = ::recv(fd_, buffer, Loop::kReadBufferSize, 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  received(buffer, n < 0 ? -errno : n);
}

void Socket::received(uint8_t* buffer, ssize_t result) {
  if (result > 0) {
    if (lingering_) return;  // discarding what a closing peer still sends
    std::span<uint8_t> bytes(buffer, static_cast<size_t>(result));
    if (tls_)
      receiveTls(bytes);
    else
      onData(bytes);
    return;
  }
  int error = static_cast<int>(-result);
  if (lingering_) {
    closeNow();
    return;
  }
  onEnd(error);
}

void Socket::flush() {
  if (!hasDescriptor()) return;  // closed, or the queue waits for the descriptor to come
  if (tls_) {
    flushTls();
    if (isClosed()) return;
  } else {
    sendQueue(out_);
  }
  if (loop_->sendInFlight(fd_)) return;  // io_uring: the completion calls flushed()
  flushed();
}

void Socket::flushed() {
  stalled_ = static_cast<uint32_t>(std::min<size_t>(bufferedAmount(), UINT32_MAX));
  if (closeAfterFlush_ && !hasUnsent()) {
    closeAfterFlush_ = false;
    ::shutdown(fd_, SHUT_WR);
    lingering_ = true;
    setDeadline(lingerSeconds_);
  }
  updateInterest();
}

bool Socket::sendQueue(OutQueue*& queue) {
  if (loop_->uring()) return startSend(queue);
  bool peerGone = false;
  while (queue && !queue->empty()) {
    constexpr int kMaxIov = 64;
    iovec iov[kMaxIov];
    int count = queue->gather(iov, kMaxIov);
    // MSG_NOSIGNAL: a peer that vanished must give us EPIPE, not kill the process with SIGPIPE.
    constexpr int kFlags = MSG_NOSIGNAL | MSG_DONTWAIT;
    ssize_t n;
    if (count == 1) {
      // The usual case (an echo's answers, a fan-out's frames: consecutive bytes of one chunk).
      // send() spares the kernel the msghdr and iovec copies and walks a single user buffer,
      // cheaper than sendmsg over one iovec (docs/performance.md, fan-out).
      n = ::send(fd_, iov[0].iov_base, iov[0].iov_len, kFlags);
    } else {
      msghdr message{};
      message.msg_iov = iov;
      message.msg_iovlen = static_cast<size_t>(count);
      n = ::sendmsg(fd_, &message, kFlags);
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      // The peer is gone; the read side will report it. Drop what cannot be delivered.
      queue->clear();
      peerGone = true;
      break;
    }
    queue->consume(static_cast<size_t>(n));
    size_t offered = 0;
    for (int i = 0; i < count; ++i) offered += iov[i].iov_len;
    if (static_cast<size_t>(n) < offered) break;  // the kernel's buffer is full
  }
  if (queue && queue->empty()) {
    loop_->releaseQueue(queue);
    queue = nullptr;
  }
  return !peerGone;
}

void Socket::updateInterest() {
  bool want = hasUnsent() || drainRequested_;
  if (want == wantWritable_ || isClosed()) return;
  wantWritable_ = want;
  if (hasDescriptor()) loop_->modify(fd_, interest(), this);
}

void Socket::setReading(bool on) {
  if (on == !readingPaused_ || isClosed()) return;
  readingPaused_ = !on;
  if (hasDescriptor()) loop_->modify(fd_, interest(), this);
}

uint32_t Socket::interest() const {
  uint32_t events = readingPaused_ ? 0 : static_cast<uint32_t>(EPOLLIN);
  return wantWritable_ ? events | static_cast<uint32_t>(EPOLLOUT) : events;
}

void Socket::closeGracefully(uint32_t lingerSeconds) {
  if (isClosed() || lingering_) return;
  if (!hasDescriptor()) return closeNow();  // nothing was sent, nobody to wait for
  setReading(true);
  closeAfterFlush_ = true;
  lingerSeconds_ = static_cast<uint16_t>(std::clamp<uint32_t>(lingerSeconds, 1, UINT16_MAX));
  // A peer that never reads would keep the queue (and us) forever: the same deadline bounds
  // the wait for the queue to drain.
  setDeadline(lingerSeconds_);
  loop_->markDirty(this);  // the flush at the end of the iteration sends FIN
}

void Socket::deadlinePassed() {
  if (lingering_ || closeAfterFlush_) {
    closeNow();  // the peer never closed (or never read): stop waiting for it
  } else {
    onTimeout();
  }
}

void Socket::releaseDescriptor(bool reset) {
  if (hasDescriptor()) {
    if (reset) {
      linger option{1, 0};
      setsockopt(fd_, SOL_SOCKET, SO_LINGER, &option, sizeof option);
    }
    loop_->remove(fd_);
    ::close(fd_);
  }
  if (out_) {
    loop_->releaseQueue(out_);
    out_ = nullptr;
  }
  if (tls_ && tls_->wire()) {
    loop_->releaseQueue(tls_->wire());
    tls_->wire() = nullptr;
  }
}

void Socket::closeNow(bool reset) {
  if (isClosed()) return;
  releaseDescriptor(reset);
  fd_ = kClosed;
  loop_->detach(this);
  onClosed();
}

}  // namespace duplex::net
