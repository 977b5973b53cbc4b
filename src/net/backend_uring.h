#pragma once
// The io_uring backend (liburing). What it changes against epoll:
// - sockets receive through one multishot recv each, into buffers the kernel picks from a ring
//   shared by the loop (an idle connection holds no buffer, as with epoll's shared buffer);
// - a listener accepts through one multishot accept;
// - every send of an iteration is an SQE (one sendmsg per socket, the OutQueue's iovecs), and
//   they all leave in the one io_uring_enter that also waits for the next events; the wait's
//   timeout is the timer heap's next due;
// - other descriptors (the loop's eventfd and signalfd, libcurl's sockets) are watched with
//   one-shot polls armed again after each completion: level-triggered, as Loop::add promises.
// Sends carry MSG_DONTWAIT, so the kernel answers each one at once with what it took (as the
// synchronous sendmsg did): partial sends and backpressure then work exactly as with epoll.
//
// Lifetimes: a CQE names its descriptor and a generation; removing a descriptor bumps the
// generation and cancels its multishot requests, so late CQEs of a closed socket are
// recognised as stale (their buffers still go back to the ring) even if the number was reused.
// A send in flight keeps its queue: one released by a closing socket is adopted until the CQE.
#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/pollable.h"

namespace duplex::net {

class Listener;
class Loop;
class OutQueue;
class Socket;

class UringBackend {
 public:
  // Null (and `error` says why) when the kernel refuses the ring or one of the features used.
  static std::unique_ptr<UringBackend> create(Loop& loop, std::string& error);
  ~UringBackend();
  UringBackend(const UringBackend&) = delete;
  UringBackend& operator=(const UringBackend&) = delete;

  int fd() const { return ring_.ring_fd; }
  // Submits what was prepared and waits at most `timeoutMs` (-1: no limit, 0: not at all) for
  // completions, then handles them. `beforeDispatch` runs first (the loop reads its clock).
  template <class F>
  void wait(int timeoutMs, F&& beforeDispatch) {
    waitCompletions(timeoutMs);
    beforeDispatch();
    dispatch();
  }
  // Submits what was prepared without waiting: when the loop is driven from outside (fd()).
  void submit();
  // Completions are waiting that this iteration did not handle.
  bool hasCompletions() const;

  // Readiness of other descriptors (events: EPOLLIN/EPOLLOUT), through one-shot polls re-armed
  // after each completion (onPoll).
  void add(int fd, uint32_t events, Pollable* target);
  // For a socket: EPOLLIN receives (or stops receiving), EPOLLOUT waits for writability.
  void modify(int fd, uint32_t events, Pollable* target);
  void remove(int fd);

  void addSocket(Socket* socket);
  void addListener(int fd, Listener* listener);
  // Prepares one sendmsg of what `queue` holds for `socket` (nothing while one is in flight).
  void send(Socket& socket, OutQueue* queue);
  bool sending(int fd) const;
  // Loop::releaseQueue asks first: true when `queue` is still being sent (its socket closed),
  // and it is released when the send completes.
  bool adoptQueue(OutQueue* queue);

 private:
  enum Op : uint8_t { kRecv = 1, kSend = 2, kPollOut = 3, kPoll = 4, kAccept = 5, kCancel = 6 };
  enum class Kind : uint8_t { None, Generic, Socket, Listener };
  struct SendSlot;
  struct Held;
  struct FdState {
    Pollable* owner = nullptr;
    uint32_t gen = 0;
    Kind kind = Kind::None;
    bool recvArmed = false;
    bool recvCancelling = false;
    bool wantRead = false;
    bool wantWrite = false;
    bool pollOutArmed = false;
    bool armed = false;   // generic poll or accept
    uint32_t events = 0;  // generic: what the poll watches
    SendSlot* send = nullptr;
    Held* held = nullptr;  // input that arrived while reading was paused
  };

  UringBackend(Loop& loop);
  bool setUp(std::string& error);
  io_uring_sqe* sqe();
  FdState& state(int fd);
  static uint64_t tag(int fd, uint32_t gen, Op op) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(fd)) << 32) | (uint64_t{gen} << 3) | op;
  }
  void cancel(uint64_t userData);
  void armRecv(int fd, FdState& st);
  void armPollOut(int fd, FdState& st);
  void armPoll(int fd, FdState& st);
  void armAccept(int fd, FdState& st);
  void waitCompletions(int timeoutMs);
  void dispatch();
  void retireSends();
  void complete(uint64_t userData, int res, uint32_t flags);
  void onRecv(int fd, uint32_t gen, int res, uint32_t flags);
  void onSend(SendSlot* slot, int res);
  void onPollOut(int fd, uint32_t gen, int res);
  void onPoll(int fd, uint32_t gen, int res, uint32_t flags);
  void onAccept(int fd, uint32_t gen, int res, uint32_t flags);
  void recycle(uint16_t bid);
  void hold(int fd, FdState& st, const uint8_t* data, int res);
  void deliverHeld(int fd, uint32_t gen);

  Loop& loop_;
  io_uring ring_{};
  bool ringUp_ = false;
  io_uring_buf_ring* bufRing_ = nullptr;
  uint8_t* buffers_ = nullptr;
  unsigned unsubmittedSends_ = 0;  // their CQEs come during the submit: the wait counts them
  std::vector<FdState> fds_;
  std::vector<SendSlot*> freeSlots_;
  std::vector<SendSlot*> orphans_;  // in flight for a socket that closed
  struct Completion {
    uint64_t userData;
    int res;
    uint32_t flags;
  };
  std::vector<Completion> stash_;  // reaped during a flush, handled at the next dispatch
  size_t slotsInFlight_ = 0;
  int64_t armed_ = 0;  // multishot/poll requests whose last CQE has not come
};

}  // namespace duplex::net
