#include "tcp_loop.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "clock.h"

namespace soak {
namespace {

constexpr int kMaxEvents = 1024;

uint64_t eventKey(const Socket& s) {
  return (static_cast<uint64_t>(s.generation) << 32) | s.slot;
}

}  // namespace

TcpLoop::TcpLoop(sockaddr_in target, uint32_t sources, TcpHandler& handler)
    : target_(target),
      sources_(sources ? sources : 1),
      handler_(handler),
      readBuffer_(kReadBufferSize) {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  now_ = bench::monotonicNs();
}

TcpLoop::~TcpLoop() {
  for (Socket* s : sockets_) {
    if (s && s->fd >= 0) ::close(s->fd);
  }
  if (epoll_ >= 0) ::close(epoll_);
}

void TcpLoop::adopt(Socket& s, uint32_t slot) {
  if (slot >= sockets_.size()) sockets_.resize(slot + 1, nullptr);
  sockets_[slot] = &s;
  s.slot = slot;
}

int TcpLoop::open(Socket& s, int receiveBuffer) {
  if (s.fd >= 0) close(s);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // bind() leaves the port to connect(), which then needs only the 4-tuple to be unique: each
  // source address has the whole ephemeral range, whatever TIME_WAIT earlier churn left.
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  if (receiveBuffer > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  }
  sockaddr_in source{};
  source.sin_family = AF_INET;
  source.sin_addr.s_addr = htonl(static_cast<uint32_t>(0x7F000002u + opened_++ % sources_));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0 ||
      (::connect(fd, reinterpret_cast<const sockaddr*>(&target_), sizeof target_) != 0 &&
       errno != EINPROGRESS)) {
    const int error = errno;
    ::close(fd);
    return error;
  }
  s.fd = fd;
  ++s.generation;
  ++openSockets_;
  s.connected = false;
  s.paused = false;
  s.shutWrite = false;
  s.out.clear();
  s.outSent = 0;
  s.wantWritable = true;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u64 = eventKey(s);
  epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
  return 0;
}

void TcpLoop::markDirty(Socket& s) {
  if (s.dirty) return;
  s.dirty = true;
  dirty_.push_back(&s);
}

void TcpLoop::send(Socket& s, const void* data, size_t size) {
  std::memcpy(append(s, size), data, size);
}

uint8_t* TcpLoop::append(Socket& s, size_t size) {
  const size_t start = s.out.size();
  s.out.resize(start + size);
  markDirty(s);
  return s.out.data() + start;
}

void TcpLoop::watch(Socket& s, bool writable) {
  s.wantWritable = writable;
  epoll_event ev{};
  ev.events = (s.paused ? 0u : static_cast<uint32_t>(EPOLLIN)) | (writable ? EPOLLOUT : 0u);
  ev.data.u64 = eventKey(s);
  epoll_ctl(epoll_, EPOLL_CTL_MOD, s.fd, &ev);
}

void TcpLoop::setPaused(Socket& s, bool paused) {
  if (s.fd < 0 || s.paused == paused) return;
  s.paused = paused;
  watch(s, s.wantWritable);
}

void TcpLoop::shutdownWrite(Socket& s) {
  s.shutWrite = true;
  markDirty(s);
}

void TcpLoop::release(Socket& s) {
  ::close(s.fd);  // also leaves the epoll set
  s.fd = -1;
  ++s.generation;
  --openSockets_;
  s.connected = false;
  s.out.clear();
  s.out.shrink_to_fit();  // a dead overflow reader must not pin megabytes
  s.outSent = 0;
  s.wantWritable = false;
}

void TcpLoop::close(Socket& s) {
  if (s.fd >= 0) release(s);
}

void TcpLoop::reset(Socket& s) {
  if (s.fd < 0) return;
  const linger hard{1, 0};
  setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  release(s);
}

void TcpLoop::gone(Socket& s, int error) {
  release(s);
  handler_.onGone(s, error);
}

void TcpLoop::at(Socket& s, uint64_t whenNs, uint8_t action) {
  timers_.push({whenNs, s.slot, s.generation, action});
}

void TcpLoop::runTimers() {
  while (!timers_.empty() && timers_.top().whenNs <= now_) {
    const Timer t = timers_.top();
    timers_.pop();
    Socket* s = t.slot < sockets_.size() ? sockets_[t.slot] : nullptr;
    if (s && s->generation == t.generation && s->fd >= 0) handler_.onTimer(*s, t.action);
  }
}

void TcpLoop::turn(int timeoutMs) {
  if (!timers_.empty()) {
    const uint64_t due = timers_.top().whenNs;
    const int untilTimer = due <= now_ ? 0 : static_cast<int>((due - now_) / 1'000'000 + 1);
    if (untilTimer < timeoutMs) timeoutMs = untilTimer;
  }
  std::array<epoll_event, kMaxEvents> events;
  const int n = epoll_wait(epoll_, events.data(), kMaxEvents, timeoutMs);
  now_ = bench::monotonicNs();
  for (int i = 0; i < n; ++i) {
    const uint32_t slot = static_cast<uint32_t>(events[i].data.u64);
    const uint32_t generation = static_cast<uint32_t>(events[i].data.u64 >> 32);
    Socket* s = slot < sockets_.size() ? sockets_[slot] : nullptr;
    if (!s || s->generation != generation || s->fd < 0) continue;  // closed since
    const uint32_t what = events[i].events;
    if (what & (EPOLLOUT | EPOLLERR)) onWritable(*s);
    // A paused socket still hears of a hang-up or an error (epoll always reports them): read
    // then, or the level-triggered event would spin until the pause ends.
    if (s->generation == generation && s->fd >= 0 &&
        ((what & (EPOLLHUP | EPOLLERR)) || (!s->paused && (what & EPOLLIN)))) {
      onReadable(*s);
    }
  }
  runTimers();
  // One send() per socket per turn, whatever was queued.
  for (size_t i = 0; i < dirty_.size(); ++i) {
    Socket& s = *dirty_[i];
    s.dirty = false;
    if (s.fd >= 0 && s.connected && !s.wantWritable) flush(s);
  }
  dirty_.clear();
}

void TcpLoop::onWritable(Socket& s) {
  if (!s.connected) {
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) return gone(s, error);
    s.connected = true;
    watch(s, false);
    const uint32_t generation = s.generation;
    handler_.onConnected(s);
    if (s.generation != generation) return;
  }
  flush(s);
}

void TcpLoop::flush(Socket& s) {
  if (s.outSent < s.out.size()) {
    const ssize_t n =
        ::send(s.fd, s.out.data() + s.outSent, s.out.size() - s.outSent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!s.wantWritable) watch(s, true);
        return;
      }
      return gone(s, errno);
    }
    s.outSent += static_cast<size_t>(n);
  }
  if (s.outSent < s.out.size()) {
    if (!s.wantWritable) watch(s, true);
    return;
  }
  s.out.clear();
  s.outSent = 0;
  if (s.wantWritable) watch(s, false);
  if (s.shutWrite) ::shutdown(s.fd, SHUT_WR);
}

void TcpLoop::onReadable(Socket& s) {
  const uint32_t generation = s.generation;
  for (;;) {
    const ssize_t n = ::recv(s.fd, readBuffer_.data(), readBuffer_.size(), 0);
    now_ = bench::monotonicNs();
    if (n == 0) return gone(s, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      return gone(s, errno);
    }
    handler_.onBytes(s, readBuffer_.data(), static_cast<size_t>(n));
    if (static_cast<size_t>(n) < readBuffer_.size() || s.generation != generation || s.paused) {
      return;
    }
  }
}

}  // namespace soak
