#pragma once
// duplex-soak's driver: holds a target number of WebSocket connections on a server and churns
// them at random (one seeded generator, so a run can be replayed), checking every reply.
//
// Roles of a connection:
//   Echo        held open; sends checked messages (sizes across the three length encodings,
//               text and binary, sometimes fragmented with a ping between the fragments)
//   Subscriber  on /room of a --broadcast server: must see every publish, in order, from the
//               first one sent after its handshake completed
//   Publisher   one, on /room; hears its own publishes too
//   Cut         a handshake sent in part, then closed, reset, left to the server's handshake
//               timeout, or finished later (then it becomes an Echo connection)
//   Overflow    a small receive window, stops reading and floods: the server may drop it
//               (its send bound), and anything it echoed before must still be right
// churn.cpp has the events; this file the protocol, the checks and the run.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "json.h"
#include "options.h"
#include "payload.h"
#include "probe.h"
#include "protocol/receiver.h"
#include "tcp_loop.h"

namespace soak {

// Message sizes: the three length encodings of RFC 6455 5.2 and their edges, 7-bit (<= 125),
// 16-bit (126 .. 65535), 64-bit (>= 65536). An index into it is a "size class".
inline constexpr size_t kSizes[] = {16, 125, 126, 1000, 4096, 65535, 65536, 200000};
inline constexpr uint64_t kMs = 1'000'000;  // nanoseconds

// A ping's payload, and the pong's that answers it.
std::string hex8(uint32_t v);

enum class Role : uint8_t { Echo, Subscriber, Publisher, Cut, Overflow };
// What a cut handshake does after its first part (Conn::variant).
enum CutHandshake : uint8_t { kCutHangUp, kCutReset, kCutStall, kCutResume };
// What a cut frame does after its first part.
enum CutFrame : uint8_t { kFrameHangUp, kFrameReset, kFrameResume };
enum class Phase : uint8_t { Idle, Upgrading, Open, Closing };

// What a timer does when it fires (TcpLoop::at).
enum Action : uint8_t {
  kResumeReading = 1,  // a slow reader reads again
  kFinishFrame,        // the rest of a frame cut in the middle
  kFinishHandshake,    // the rest of a cut handshake
  kHangUp,             // close (FIN) a cut connection
  kReset,              // reset (RST) a cut connection
  kStallExpired,       // the server should have closed a stalled handshake by now
  kHandshakeWatchdog,  // a handshake that takes this long is an error
  kOverflowEnd,        // an overflow reader that survived reads again, then closes
};

struct Expected {
  uint32_t seq;
  uint8_t sizeClass;
  bool binary;
};

struct Conn : Socket {
  Role role = Role::Echo;
  Phase phase = Phase::Idle;
  uint8_t variant = 0;  // of the churn event that owns the connection now
  bool busy = false;    // a churn event owns it: no other event picks it
  bool mayBeDropped = false;
  bool closeWhenDone = false;  // close once every echo is back
  bool closeReceived = false;  // the server's close frame came (then its FIN must follow)
  bool live = false;           // counted in echoLive_ / subscribersLive_
  bool inHandshake = false;    // counted in handshaking_
  bool transient = false;      // counted in transient_
  uint32_t serial = 0;         // unique per connection opened; payloads carry it
  uint32_t nextSeq = 0;
  uint32_t listIndex = 0;    // in heldEcho_ / heldSubscribers_ while Open
  uint16_t closeCode = 0;    // what we sent
  uint32_t mustStartBy = 0;  // subscribers: the publisher's next seq when we opened
  int64_t lastPublish = -1;
  uint64_t startedNs = 0;
  uint64_t finishedNs = 0;    // cut handshakes: when the rest of the request went out
  std::string head;           // the response head while it arrives
  std::string key;            // Sec-WebSocket-Key
  std::string request;        // cut handshakes: the whole request, sent in two parts
  std::vector<uint8_t> rest;  // the second part of a frame cut in the middle
  duplex::protocol::Receiver receiver;
  std::deque<Expected> echoes;
  std::deque<uint32_t> pongs;
};

class Soak : public TcpHandler {
 public:
  Soak(const Options& options, sockaddr_in target, std::string hostHeader);
  // Runs the whole soak and fills `result`. False when anything went wrong.
  bool run(bench::JsonObject& result);

  void onConnected(Socket&) override;
  void onBytes(Socket&, uint8_t* data, size_t size) override;
  void onGone(Socket&, int error) override;
  void onTimer(Socket&, uint8_t action) override;

 private:
  // Lifecycle (soak.cpp).
  Conn* start(Role role, int receiveBuffer = 0);
  void finish(Conn& c);  // the socket is closed: the slot is free again
  void becomeOpen(Conn& c);
  void leaveHeld(Conn& c);
  void onHead(Conn& c, uint8_t* data, size_t size);
  void deliver(Conn& c, uint8_t* data, size_t size);
  void onMessage(Conn& c, duplex::Opcode opcode, std::string_view payload);
  void onPublish(Conn& c, std::string_view payload);
  void onServerClose(Conn& c, uint16_t code);
  void sendMessage(Conn& c, uint8_t sizeClass, bool binary, bool fragment);
  void writeFrame(Conn& c, duplex::Opcode opcode, bool fin, const uint8_t* payload, size_t size);
  void sendPing(Conn& c);
  void sendClose(Conn& c, uint16_t code);
  void publish();
  // Empty when every reply is in and every subscriber has the last publish; else what is not.
  std::string unsettled() const;
  void error(std::string what);
  void count(const char* event) { ++events_[event]; }
  void sample();

  // The run (run.cpp).
  void drain();
  void report(bench::JsonObject& result, double seconds);

  // Churn (churn.cpp).
  void churn();
  void maintain();
  void sendEchoes(uint64_t n);
  Conn* pickHeld(std::vector<uint32_t>& list);
  void churnClose(std::vector<uint32_t>& list, const char* name);
  void churnAbort();
  void churnReset(std::vector<uint32_t>& list, const char* name);
  void churnCutHandshake();
  void churnCutFrame();
  void churnPing();
  void churnSlowReader(std::vector<uint32_t>& list, const char* name);
  void churnOverflow();
  void scheduleCut(Conn& c);
  bool roomForTransient() const;
  uint8_t randomSizeClass();
  double exponential(double rate);

  const Options& options_;
  std::string hostHeader_;
  // Before loop_: the loop's destructor closes the sockets these own, so they must outlive it.
  std::vector<std::unique_ptr<Conn>> conns_;
  TcpLoop loop_;
  bench::ServerProbe probe_;
  std::mt19937_64 random_;
  std::discrete_distribution<int> churnKinds_, sizeClasses_;
  std::vector<bench::PayloadCodec> codecs_;  // one per size class
  std::vector<uint32_t> free_;
  std::vector<uint32_t> heldEcho_, heldSubscribers_;
  std::vector<uint8_t> scratch_;
  duplex::protocol::ReceiverConfig receiverConfig_;
  Conn* publisher_ = nullptr;
  uint32_t publishNext_ = 0;
  uint32_t serials_ = 0;
  uint32_t echoLive_ = 0, subscribersLive_ = 0, handshaking_ = 0, transient_ = 0;
  uint32_t pingCounter_ = 0;
  size_t fdLimit_ = 0;
  bool draining_ = false;

  std::map<std::string, uint64_t> events_;  // churn events and outcomes, by name
  uint64_t opened_ = 0, handshakes_ = 0, maxOpen_ = 0, echoesChecked_ = 0, broadcastsChecked_ = 0,
           pongsChecked_ = 0, closedClean_ = 0;
  uint64_t churnEvents_ = 0;
  bool publisherStarted_ = false;
  uint64_t errors_ = 0;
  std::string firstErrors_;
  uint64_t rssStart_ = 0, rssPeak_ = 0, fdsPeak_ = 0;
};

}  // namespace soak
