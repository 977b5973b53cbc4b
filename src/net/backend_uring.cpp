#include "net/backend_uring.h"

#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <poll.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "net/listener.h"
#include "net/loop.h"
#include "net/out_queue.h"
#include "net/socket.h"

namespace duplex::net {
namespace {

constexpr unsigned kRingEntries = 4096;
constexpr unsigned kCompletionEntries = 16384;
// Received bytes land in these; each goes back to the ring as soon as its CQE is handled, so a
// few hundred cover any number of connections. A multishot recv that finds the ring empty
// ends with ENOBUFS and is armed again.
// The kernel takes them in ring order, so every one of them is touched sooner or later: their
// number is the backend's fixed memory cost: 4 MiB per loop.
constexpr unsigned kBufferSize = 16 * 1024;
constexpr unsigned kBufferCount = 256;  // a power of two
constexpr uint16_t kBufferGroup = 0;
// Received bytes handled per iteration, at most (and one more buffer). The kernel keeps filling
// the ring while we work (each handled buffer goes straight back, and entering the kernel for a
// submission runs its receive task work), so without a bound one iteration took in whatever the
// peers sent meanwhile: 12 MB of publishes in one iteration in the broadcast soak (epoll's one
// recv per socket per iteration: under 2 MB), all of it handed on as one iteration's work (the
// pubsub relay's batch, the queues it fills), and the heap kept that high-water mark. What is
// left waits in the CQ (holding its buffers, so the peers meet backpressure as with epoll)
// and the next iteration does not sleep. 1 MiB is 64 of the 256 buffers.
constexpr size_t kReceiveBudget = 1 << 20;
constexpr int kMaxIov = 64;  // as the epoll path's sendmsg
// Send slots (about 150 bytes each) kept for reuse; a fan-out to more sockets allocates the rest.
constexpr size_t kMaxFreeSlots = 256;
// Within one flush, every this many sends are submitted and their bytes released (retireSends).
constexpr unsigned kSendBatch = 128;

}  // namespace

struct UringBackend::SendSlot {
  msghdr message;
  // Most sends are one or two segments: a slot per sending socket stays small, and the few
  // with more keep a larger array for their next use.
  static constexpr int kInlineIov = 4;
  iovec inlineIov[kInlineIov];
  std::unique_ptr<iovec[]> manyIov;
  Socket* socket;
  OutQueue* queue;
  size_t offered;
  int fd;
  bool retired;  // its bytes were dropped from the queue early (retireSends)
  bool orphan;   // the socket closed while this was in flight
  bool adopted;  // ... and released `queue`, which is ours to release when the CQE comes
};

struct UringBackend::Held {
  std::string bytes;
  bool ended = false;
  int result = 0;  // the end: 0 for EOF, -errno
};

UringBackend::UringBackend(Loop& loop) : loop_(loop) {}

std::unique_ptr<UringBackend> UringBackend::create(Loop& loop, std::string& error) {
  std::unique_ptr<UringBackend> backend(new UringBackend(loop));
  if (!backend->setUp(error)) return nullptr;
  return backend;
}

bool UringBackend::setUp(std::string& error) {
  io_uring_params params{};
  // COOP_TASKRUN: completions (a recv's copy) run when we enter the kernel anyway, instead of
  // interrupting the loop thread with an IPI: without it echo at W=1 costs 15-26 % more CPU per
  // message, fan-out about the same (docs/performance.md). Tried against this setup in the same
  // runs and left out (commit f68b7df has them): SINGLE_ISSUER + DEFER_TASKRUN (the ring made
  // disabled and enabled by the thread that runs the loop) moved nothing beyond the machine's
  // noise, and broke what Loop promises: fd() is not readable while receive work waits (only a
  // waiter runs deferred work), and a loop cannot be driven by another thread later;
  // TASKRUN_FLAG (the loop always waits with GETEVENTS, so the hint has no reader); registered
  // files (fget/fput saved per operation: not measurable here). Kernels without COOP_TASKRUN
  // (before 5.19) lack multishot recv (6.0) too: no retry without it, epoll takes over.
  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN;
  params.cq_entries = kCompletionEntries;
  int r = io_uring_queue_init_params(kRingEntries, &ring_, &params);
  if (r < 0) {
    error = std::string("io_uring_queue_init: ") + std::strerror(-r);
    return false;
  }
  ringUp_ = true;
  // Needed: the single-syscall wait with a timeout (5.11) and multishot receive (6.0).
  if (!(params.features & IORING_FEAT_EXT_ARG) || !(params.features & IORING_FEAT_NODROP)) {
    error = "io_uring: the kernel lacks IORING_FEAT_EXT_ARG/NODROP";
    return false;
  }
  size_t ringBytes = kBufferCount * sizeof(io_uring_buf);
  void* ringMemory =
      mmap(nullptr, ringBytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  // Populated now: the ring's order touches every buffer in time, and memory that grows for
  // minutes after start would look like a leak (tests/soak judges growth after a warm-up).
  void* bufferMemory = mmap(nullptr, size_t{kBufferCount} * kBufferSize, PROT_READ | PROT_WRITE,
                            MAP_ANONYMOUS | MAP_PRIVATE | MAP_POPULATE, -1, 0);
  if (ringMemory == MAP_FAILED || bufferMemory == MAP_FAILED) {
    if (ringMemory != MAP_FAILED) munmap(ringMemory, ringBytes);
    if (bufferMemory != MAP_FAILED) munmap(bufferMemory, size_t{kBufferCount} * kBufferSize);
    error = "io_uring: cannot map the buffer ring";
    return false;
  }
  bufRing_ = static_cast<io_uring_buf_ring*>(ringMemory);
  buffers_ = static_cast<uint8_t*>(bufferMemory);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(bufRing_);
  reg.ring_entries = kBufferCount;
  reg.bgid = kBufferGroup;
  r = io_uring_register_buf_ring(&ring_, &reg, 0);
  if (r < 0) {
    error = std::string("io_uring_register_buf_ring: ") + std::strerror(-r);
    return false;
  }
  io_uring_buf_ring_init(bufRing_);
  for (unsigned i = 0; i < kBufferCount; ++i) {
    io_uring_buf_ring_add(bufRing_, buffers_ + size_t{i} * kBufferSize, kBufferSize,
                          static_cast<uint16_t>(i), io_uring_buf_ring_mask(kBufferCount),
                          static_cast<int>(i));
  }
  io_uring_buf_ring_advance(bufRing_, kBufferCount);
  io_uring_probe* probe = io_uring_get_probe_ring(&ring_);
  bool supported = probe && io_uring_opcode_supported(probe, IORING_OP_RECV) &&
                   io_uring_opcode_supported(probe, IORING_OP_SENDMSG) &&
                   io_uring_opcode_supported(probe, IORING_OP_ACCEPT) &&
                   io_uring_opcode_supported(probe, IORING_OP_POLL_ADD) &&
                   io_uring_opcode_supported(probe, IORING_OP_ASYNC_CANCEL);
  if (probe) io_uring_free_probe(probe);
  if (!supported) {
    error = "io_uring: the kernel lacks an operation needed";
    return false;
  }
  fds_.resize(1024);
  return true;
}

UringBackend::~UringBackend() {
  if (ringUp_) {
    // Requests still armed may write into the buffers until they end: cancel them all and wait
    // for their last CQEs before the memory goes (bounded, in case the kernel is slow to answer).
    if (io_uring_sqe* s = io_uring_get_sqe(&ring_)) {
      io_uring_prep_cancel64(s, 0, IORING_ASYNC_CANCEL_ANY);
      io_uring_sqe_set_data64(s, kCancel);
    }
    io_uring_submit(&ring_);
    for (int round = 0; round < 100 && armed_ > 0; ++round) {
      __kernel_timespec ts{0, 10 * 1000 * 1000};
      io_uring_cqe* cqe;
      io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
      unsigned head;
      unsigned seen = 0;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        if (!(cqe->flags & IORING_CQE_F_MORE) && (cqe->user_data & 7) != kCancel &&
            (cqe->user_data & 7) != kSend)
          --armed_;
      }
      io_uring_cq_advance(&ring_, seen);
    }
    io_uring_queue_exit(&ring_);
  }
  for (SendSlot* slot : orphans_) {
    if (slot->adopted) delete slot->queue;
    delete slot;
  }
  for (SendSlot* slot : freeSlots_) delete slot;
  for (FdState& st : fds_) delete st.held;
  if (bufRing_) munmap(bufRing_, kBufferCount * sizeof(io_uring_buf));
  if (buffers_) munmap(buffers_, size_t{kBufferCount} * kBufferSize);
}

io_uring_sqe* UringBackend::sqe() {
  io_uring_sqe* s = io_uring_get_sqe(&ring_);
  if (!s) {
    // The submission queue is full (a fan-out to thousands): send what is there now.
    submit();
    s = io_uring_get_sqe(&ring_);
    if (!s) throw std::runtime_error("io_uring: no submission queue entry");
  }
  return s;
}

void UringBackend::submit() {
  unsubmittedSends_ = 0;
  int r = io_uring_submit(&ring_);
  if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY)
    throw std::system_error(-r, std::generic_category(), "io_uring_submit");
}

bool UringBackend::hasCompletions() const {
  return !stash_.empty() || io_uring_cq_ready(&ring_) > 0;
}

UringBackend::FdState& UringBackend::state(int fd) {
  auto index = static_cast<size_t>(fd);
  if (index >= fds_.size()) fds_.resize(std::max(index + 1, fds_.size() * 2));
  return fds_[index];
}

void UringBackend::cancel(uint64_t userData) {
  io_uring_sqe* s = sqe();
  io_uring_prep_cancel64(s, userData, 0);
  io_uring_sqe_set_data64(s, kCancel);
}

void UringBackend::armRecv(int fd, FdState& st) {
  io_uring_sqe* s = sqe();
  io_uring_prep_recv_multishot(s, fd, nullptr, 0, 0);
  s->flags |= IOSQE_BUFFER_SELECT;
  s->buf_group = kBufferGroup;
  io_uring_sqe_set_data64(s, tag(fd, st.gen, kRecv));
  st.recvArmed = true;
  ++armed_;
}

void UringBackend::armPollOut(int fd, FdState& st) {
  io_uring_sqe* s = sqe();
  io_uring_prep_poll_add(s, fd, POLLOUT);
  io_uring_sqe_set_data64(s, tag(fd, st.gen, kPollOut));
  st.pollOutArmed = true;
  ++armed_;
}

void UringBackend::armPoll(int fd, FdState& st) {
  io_uring_sqe* s = sqe();
  uint32_t mask = 0;
  if (st.events & EPOLLIN) mask |= POLLIN;
  if (st.events & EPOLLOUT) mask |= POLLOUT;
  // One-shot, armed again after each completion has been handled (onPoll): a poll checks
  // readiness when armed, so what is still ready completes again, level-triggered as
  // Loop::add promises. A multishot poll completes only on wake-ups: libcurl, which writes a
  // large body a piece per call without reaching EAGAIN, would then wait for a POLLOUT that
  // never comes.
  io_uring_prep_poll_add(s, fd, mask);
  io_uring_sqe_set_data64(s, tag(fd, st.gen, kPoll));
  st.armed = true;
  ++armed_;
}

void UringBackend::armAccept(int fd, FdState& st) {
  io_uring_sqe* s = sqe();
  io_uring_prep_multishot_accept(s, fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  io_uring_sqe_set_data64(s, tag(fd, st.gen, kAccept));
  st.armed = true;
  ++armed_;
}

void UringBackend::add(int fd, uint32_t events, Pollable* target) {
  FdState& st = state(fd);
  st.owner = target;
  st.kind = Kind::Generic;
  st.events = events;
  if (events) armPoll(fd, st);
}

void UringBackend::addSocket(Socket* socket) {
  int fd = socket->fd();
  FdState& st = state(fd);
  st.owner = socket;
  st.kind = Kind::Socket;
  st.wantRead = true;
  armRecv(fd, st);
}

void UringBackend::addListener(int fd, Listener* listener) {
  FdState& st = state(fd);
  st.owner = listener;
  st.kind = Kind::Listener;
  armAccept(fd, st);
}

void UringBackend::modify(int fd, uint32_t events, Pollable* target) {
  FdState& st = state(fd);
  if (st.kind == Kind::Generic) {
    uint32_t gen = st.gen;
    remove(fd);
    FdState& again = state(fd);
    again.gen = gen + 1;
    add(fd, events, target);
    return;
  }
  if (st.kind != Kind::Socket) return;
  st.wantRead = events & EPOLLIN;
  st.wantWrite = events & EPOLLOUT;
  if (st.wantRead) {
    if (st.held) {
      // What came while reading was paused goes first, at the end of this iteration (not from
      // inside setReading's caller).
      uint32_t gen = st.gen;
      loop_.defer([this, fd, gen] { deliverHeld(fd, gen); });
    }
    if (!st.recvArmed && !(st.held && st.held->ended)) armRecv(fd, st);
  } else if (st.recvArmed && !st.recvCancelling) {
    cancel(tag(fd, st.gen, kRecv));
    st.recvCancelling = true;
  }
  if (st.wantWrite && !st.pollOutArmed && !st.send) armPollOut(fd, st);
}

void UringBackend::remove(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= fds_.size()) return;
  FdState& st = fds_[static_cast<size_t>(fd)];
  if (st.kind == Kind::None) return;
  Kind kind = st.kind;
  // Multishot requests hold the file: the descriptor's close would not end them (no FIN).
  if (st.recvArmed && !st.recvCancelling) cancel(tag(fd, st.gen, kRecv));
  if (st.pollOutArmed) cancel(tag(fd, st.gen, kPollOut));
  if (st.armed) cancel(tag(fd, st.gen, kind == Kind::Listener ? kAccept : kPoll));
  if (st.send) {
    st.send->orphan = true;
    st.send->socket = nullptr;
    orphans_.push_back(st.send);
  }
  delete st.held;
  uint32_t gen = st.gen + 1;
  st = FdState{};
  st.gen = gen & 0x1FFFFFFF;
  // The caller closes the descriptor next, and the number may come back with the next accept:
  // what the SQ still holds for it (a recv armed this iteration, a TLS alert's send, the
  // cancels) goes now, while the number is still this socket's. A listener's port must also be
  // free once close() returns.
  if (io_uring_sq_ready(&ring_) > 0 || kind == Kind::Listener) submit();
}

bool UringBackend::sending(int fd) const {
  auto index = static_cast<size_t>(fd);
  return index < fds_.size() && fds_[index].send != nullptr;
}

void UringBackend::send(Socket& socket, OutQueue* queue) {
  int fd = socket.fd();
  FdState& st = state(fd);
  if (st.send || !queue || queue->empty()) return;
  SendSlot* slot;
  if (freeSlots_.empty()) {
    slot = new SendSlot;
  } else {
    slot = freeSlots_.back();
    freeSlots_.pop_back();
  }
  iovec gathered[kMaxIov];
  int count = queue->gather(gathered, kMaxIov);
  iovec* iov = slot->inlineIov;
  if (count > SendSlot::kInlineIov) {
    if (!slot->manyIov) slot->manyIov = std::make_unique<iovec[]>(kMaxIov);
    iov = slot->manyIov.get();
  }
  size_t offered = 0;
  for (int i = 0; i < count; ++i) {
    iov[i] = gathered[i];
    offered += gathered[i].iov_len;
  }
  slot->message = msghdr{};
  slot->message.msg_iov = iov;
  slot->message.msg_iovlen = static_cast<size_t>(count);
  slot->socket = &socket;
  slot->queue = queue;
  slot->offered = offered;
  slot->fd = fd;
  slot->retired = false;
  slot->orphan = false;
  slot->adopted = false;
  io_uring_sqe* s = sqe();
  // MSG_DONTWAIT: the kernel answers at submission with what it took, never parks the send;
  // MSG_NOSIGNAL: a vanished peer gives EPIPE, not SIGPIPE.
  // No IOSQE_CQE_SKIP_SUCCESS: a partial send is a success, so the CQE that says how much the
  // kernel took would be skipped. With MSG_WAITALL added a partial send posts its count and only
  // whole sends skip theirs, but their end must still be handled (the bytes dropped, the
  // socket's next send allowed): tried (commit fd056b2), no measurable gain, docs/performance.md.
  io_uring_prep_sendmsg(s, fd, &slot->message, MSG_NOSIGNAL | MSG_DONTWAIT);
  io_uring_sqe_set_data64(s, reinterpret_cast<uint64_t>(slot) | kSend);
  st.send = slot;
  ++slotsInFlight_;
  if (++unsubmittedSends_ >= kSendBatch) {
    submit();
    retireSends();
  }
}

void UringBackend::retireSends() {
  // A flush to thousands of sockets (an echo burst, a fan-out without shared frames) would hold
  // a chunk per socket until the next iteration: these sends have completed (MSG_DONTWAIT), so
  // their bytes leave the queues now. The rest of each completion waits for the next dispatch:
  // no socket callback runs in the middle of a flush.
  constexpr unsigned kBatch = 256;
  io_uring_cqe* cqes[kBatch];
  for (;;) {
    unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, kBatch);
    if (n == 0) return;
    for (unsigned i = 0; i < n; ++i) {
      Completion c{cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
      if ((c.userData & 7) == kSend) {
        auto* slot = reinterpret_cast<SendSlot*>(c.userData & ~uint64_t{7});
        if (!slot->orphan && c.res > 0) {
          slot->queue->consume(static_cast<size_t>(c.res));
          slot->retired = true;
        }
      }
      stash_.push_back(c);
    }
    io_uring_cq_advance(&ring_, n);
  }
}

bool UringBackend::adoptQueue(OutQueue* queue) {
  for (SendSlot* slot : orphans_) {
    if (slot->queue == queue && !slot->adopted) {
      slot->adopted = true;
      return true;
    }
  }
  return false;
}

void UringBackend::waitCompletions(int timeoutMs) {
  // A send's bytes (a pooled 16 KiB chunk per socket, for an echo) live until its CQE is
  // handled: sending many and then sleeping would hold them all through the sleep. Past this
  // many, the sends go alone and their CQEs are handled at once; the next iteration sleeps.
  constexpr unsigned kMaxSendsAcrossWait = 256;
  if (timeoutMs == 0 || hasCompletions() || unsubmittedSends_ > kMaxSendsAcrossWait) {
    submit();
    return;
  }
  // The sends complete during the submission (MSG_DONTWAIT), each with its CQE: wait for one
  // more than those, so that the same syscall that sends also sleeps until the next event.
  unsigned waitFor = unsubmittedSends_ + 1;
  unsubmittedSends_ = 0;
  __kernel_timespec ts{};
  if (timeoutMs > 0) {
    ts.tv_sec = timeoutMs / 1000;
    ts.tv_nsec = static_cast<long long>(timeoutMs % 1000) * 1000000;
  }
  io_uring_cqe* cqe = nullptr;
  int r = io_uring_submit_and_wait_timeout(&ring_, &cqe, waitFor, timeoutMs < 0 ? nullptr : &ts,
                                           nullptr);
  if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY)
    throw std::system_error(-r, std::generic_category(), "io_uring_enter");
}

void UringBackend::dispatch() {
  size_t received = 0;  // bytes, against kReceiveBudget
  if (!stash_.empty()) {
    std::vector<Completion> stashed;
    stashed.swap(stash_);
    for (const Completion& c : stashed) {
      if ((c.userData & 7) == kRecv && c.res > 0) received += static_cast<size_t>(c.res);
      complete(c.userData, c.res, c.flags);
    }
    if (stash_.empty()) {
      stashed.clear();
      stash_.swap(stashed);  // keeps the capacity
    }
  }
  constexpr unsigned kBatch = 256;
  io_uring_cqe* cqes[kBatch];
  Completion batch[kBatch];
  // Bounded like epoll's batch: what is left waits for the next iteration (no sleep then).
  // Received bytes are bounded too (kReceiveBudget, the stash's included): past it, the rest
  // stays in the CQ.
  for (int round = 0; round < 16 && received < kReceiveBudget; ++round) {
    unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, kBatch);
    if (n == 0) return;
    unsigned taken = 0;
    while (taken < n && received < kReceiveBudget) {
      const io_uring_cqe* cqe = cqes[taken];
      batch[taken++] = {cqe->user_data, cqe->res, cqe->flags};
      if ((cqe->user_data & 7) == kRecv && cqe->res > 0) received += static_cast<size_t>(cqe->res);
    }
    io_uring_cq_advance(&ring_, taken);
    for (unsigned i = 0; i < taken; ++i) complete(batch[i].userData, batch[i].res, batch[i].flags);
  }
}

void UringBackend::complete(uint64_t userData, int res, uint32_t flags) {
  auto op = static_cast<Op>(userData & 7);
  if (op == kSend) return onSend(reinterpret_cast<SendSlot*>(userData & ~uint64_t{7}), res);
  if (op == kCancel) return;
  if (!(flags & IORING_CQE_F_MORE)) --armed_;
  int fd = static_cast<int>(userData >> 32);
  auto gen = static_cast<uint32_t>((userData >> 3) & 0x1FFFFFFF);
  switch (op) {
    case kRecv:
      return onRecv(fd, gen, res, flags);
    case kPollOut:
      return onPollOut(fd, gen, res);
    case kPoll:
      return onPoll(fd, gen, res, flags);
    case kAccept:
      return onAccept(fd, gen, res, flags);
    default:
      return;
  }
}

void UringBackend::recycle(uint16_t bid) {
  io_uring_buf_ring_add(bufRing_, buffers_ + size_t{bid} * kBufferSize, kBufferSize, bid,
                        io_uring_buf_ring_mask(kBufferCount), 0);
  io_uring_buf_ring_advance(bufRing_, 1);
}

void UringBackend::onRecv(int fd, uint32_t gen, int res, uint32_t flags) {
  bool more = flags & IORING_CQE_F_MORE;
  int bid = (flags & IORING_CQE_F_BUFFER) ? static_cast<int>(flags >> IORING_CQE_BUFFER_SHIFT) : -1;
  uint8_t* data = bid >= 0 ? buffers_ + size_t(bid) * kBufferSize : nullptr;
  auto live = [&]() -> FdState* {
    auto index = static_cast<size_t>(fd);
    if (index >= fds_.size()) return nullptr;
    FdState& st = fds_[index];
    return st.gen == gen && st.kind == Kind::Socket && st.owner ? &st : nullptr;
  };
  FdState* st = live();
  if (st && !more) {
    st->recvArmed = false;
    st->recvCancelling = false;
  }
  bool ended = res == 0 || (res < 0 && res != -ECANCELED && res != -ENOBUFS);
  if (st && res != -ECANCELED && res != -ENOBUFS) {
    if (st->wantRead && !st->held) {
      static_cast<Socket*>(st->owner)->received(data, res);
    } else {
      hold(fd, *st, data, res);
    }
  }
  if (bid >= 0) recycle(static_cast<uint16_t>(bid));
  if (more || ended) return;
  st = live();
  if (st && st->wantRead && !st->recvArmed && !(st->held && st->held->ended)) armRecv(fd, *st);
}

void UringBackend::hold(int, FdState& st, const uint8_t* data, int res) {
  if (!st.held) st.held = new Held;
  if (st.held->ended) return;
  if (res > 0) {
    st.held->bytes.append(reinterpret_cast<const char*>(data), static_cast<size_t>(res));
  } else {
    st.held->ended = true;
    st.held->result = res;
  }
}

void UringBackend::deliverHeld(int fd, uint32_t gen) {
  auto index = static_cast<size_t>(fd);
  if (index >= fds_.size()) return;
  FdState& st = fds_[index];
  if (st.gen != gen || st.kind != Kind::Socket || !st.owner || !st.wantRead || !st.held) return;
  std::unique_ptr<Held> held(st.held);
  st.held = nullptr;
  auto* socket = static_cast<Socket*>(st.owner);
  if (!held->bytes.empty()) {
    socket->received(reinterpret_cast<uint8_t*>(held->bytes.data()),
                     static_cast<ssize_t>(held->bytes.size()));
  }
  if (held->ended && !socket->isClosed()) socket->received(nullptr, held->result);
}

void UringBackend::onSend(SendSlot* slot, int res) {
  --slotsInFlight_;
  if (slot->orphan) {
    std::erase(orphans_, slot);
    if (slot->adopted) loop_.releaseQueue(slot->queue);
  } else {
    FdState& st = state(slot->fd);
    if (st.send == slot) st.send = nullptr;
  }
  Socket* socket = slot->orphan ? nullptr : slot->socket;
  size_t offered = slot->offered;
  bool retired = slot->retired;
  if (freeSlots_.size() < kMaxFreeSlots)
    freeSlots_.push_back(slot);
  else
    delete slot;
  if (socket) socket->sendCompleted(res, offered, retired);
}

void UringBackend::onPollOut(int fd, uint32_t gen, int res) {
  auto index = static_cast<size_t>(fd);
  if (index >= fds_.size()) return;
  FdState* st = &fds_[index];
  if (st->gen != gen || st->kind != Kind::Socket || !st->owner) return;
  st->pollOutArmed = false;
  // Errors and hang-ups surface through the recv; here only writability matters.
  if (st->wantWrite && res > 0) st->owner->onEvents(EPOLLOUT);
  if (index >= fds_.size()) return;
  st = &fds_[index];
  if (st->gen == gen && st->owner && st->wantWrite && !st->pollOutArmed && !st->send)
    armPollOut(fd, *st);
}

void UringBackend::onPoll(int fd, uint32_t gen, int res, uint32_t flags) {
  auto index = static_cast<size_t>(fd);
  if (index >= fds_.size()) return;
  FdState* st = &fds_[index];
  if (st->gen != gen || st->kind != Kind::Generic || !st->owner) return;
  if (!(flags & IORING_CQE_F_MORE)) st->armed = false;
  if (res > 0) {
    uint32_t events = 0;
    if (res & POLLIN) events |= EPOLLIN;
    if (res & POLLOUT) events |= EPOLLOUT;
    if (res & POLLERR) events |= EPOLLERR;
    if (res & POLLHUP) events |= EPOLLHUP;
    st->owner->onEvents(events);
  }
  st = &fds_[index];
  if (st->gen == gen && st->owner && !st->armed && st->events) armPoll(fd, *st);
}

void UringBackend::onAccept(int fd, uint32_t gen, int res, uint32_t flags) {
  auto index = static_cast<size_t>(fd);
  FdState* st = index < fds_.size() ? &fds_[index] : nullptr;
  bool live = st && st->gen == gen && st->kind == Kind::Listener && st->owner;
  if (live && !(flags & IORING_CQE_F_MORE)) st->armed = false;
  if (res >= 0) {
    if (live)
      static_cast<Listener*>(st->owner)->accepted(res);
    else
      ::close(res);  // accepted as the listener closed
  } else if (live && res != -ECANCELED) {
    static_cast<Listener*>(st->owner)->acceptFailed(-res);
  }
  if (index >= fds_.size()) return;
  st = &fds_[index];
  if (st->gen == gen && st->kind == Kind::Listener && st->owner && !st->armed) armAccept(fd, *st);
}

}  // namespace duplex::net
