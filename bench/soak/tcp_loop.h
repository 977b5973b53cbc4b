#pragma once
// The soak tool's socket layer: non-blocking TCP client sockets on one epoll, one thread, and
// a timer heap. It knows nothing of WebSocket (soak.h does the protocol), and like the load
// generator's loop it shares no code with the server's src/net, so a bug there cannot hide
// itself. What it adds to loadgen's loop is what churn needs: reads can be paused (a slow
// reader), a socket can be reset (SO_LINGER 0) or half-closed, and every failure is reported
// to the owner instead of ending the run.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <queue>
#include <string_view>
#include <vector>

namespace soak {

// One client socket. The owner (Soak) derives its per-connection state from it.
struct Socket {
  uint32_t slot = 0;        // index in the loop's table
  uint32_t generation = 0;  // bumped at every open/close: stale events and timers are ignored
  int fd = -1;
  bool connected = false;  // the TCP handshake completed
  bool paused = false;     // EPOLLIN off: the kernel buffers, then the window closes
  bool dirty = false;      // listed for the end-of-turn flush
  bool wantWritable = false;
  bool shutWrite = false;  // shutdown(SHUT_WR) requested once out is sent
  size_t outSent = 0;
  std::vector<uint8_t> out;
};

class TcpHandler {
 public:
  virtual ~TcpHandler() = default;
  virtual void onConnected(Socket&) = 0;
  // Bytes read into the loop's shared buffer; valid during the call, writable (unmasking).
  virtual void onBytes(Socket&, uint8_t* data, size_t size) = 0;
  // The peer closed (EOF, `error` 0) or the socket failed (`error` is the errno). The socket is
  // already closed when this runs.
  virtual void onGone(Socket&, int error) = 0;
  // A timer set with TcpLoop::at fired and the socket is still the same connection.
  virtual void onTimer(Socket&, uint8_t action) = 0;
};

class TcpLoop {
 public:
  TcpLoop(sockaddr_in target, uint32_t sources, TcpHandler& handler);
  ~TcpLoop();
  TcpLoop(const TcpLoop&) = delete;
  TcpLoop& operator=(const TcpLoop&) = delete;

  // Starts a connect from the next source address (127.0.0.2, .3, ... in turn). `receiveBuffer`
  // > 0 sets SO_RCVBUF before connecting (a small window makes a non-reader felt quickly).
  // Returns the errno of a synchronous failure (0: in progress).
  int open(Socket& s, int receiveBuffer = 0);
  void send(Socket& s, const void* data, size_t size);
  uint8_t* append(Socket& s, size_t size);  // room for `size` bytes at the end of out
  void setPaused(Socket& s, bool paused);
  void shutdownWrite(Socket& s);  // FIN after what is queued
  void close(Socket& s);          // close(2) now; queued bytes are dropped
  void reset(Socket& s);          // SO_LINGER 0 then close(2): the peer gets RST

  void at(Socket& s, uint64_t whenNs, uint8_t action);
  // One epoll_wait (at most `timeoutMs`, less when a timer is due), events, timers, writes.
  void turn(int timeoutMs);
  uint64_t now() const { return now_; }

  // Sockets the owner allocates (it holds Socket inside its own structs) register here.
  void adopt(Socket& s, uint32_t slot);
  size_t openSockets() const { return openSockets_; }

  static constexpr size_t kReadBufferSize = 1 << 20;

 private:
  struct Timer {
    uint64_t whenNs;
    uint32_t slot;
    uint32_t generation;
    uint8_t action;
    bool operator>(const Timer& o) const { return whenNs > o.whenNs; }
  };

  void markDirty(Socket& s);
  void watch(Socket& s, bool writable);
  void flush(Socket& s);
  void onReadable(Socket& s);
  void onWritable(Socket& s);
  void gone(Socket& s, int error);
  void release(Socket& s);
  void runTimers();

  sockaddr_in target_;
  uint32_t sources_;
  TcpHandler& handler_;
  int epoll_ = -1;
  uint64_t now_ = 0;
  uint64_t opened_ = 0;
  size_t openSockets_ = 0;
  std::vector<Socket*> sockets_;  // by slot
  std::vector<Socket*> dirty_;
  std::vector<uint8_t> readBuffer_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
};

}  // namespace soak
