#pragma once
// The life of one Redis connection, shared by Connection and Subscriber: connect (TCP, then TLS
// for rediss://), the handshake (AUTH, SELECT, then PING, whose answer says the server is
// really ready: a Redis still loading its data answers -LOADING), replies handed to the owner,
// and on any failure a reconnect after a jittered exponential backoff. One sweep timer per link
// watches the connect deadline and lets the owner check its own (command timeouts), instead of
// a timer per command. An idle timer asks the owner to PING a connection Redis has been silent
// on, so a hung Redis is noticed by that PING's deadline. A host name is looked up off the loop
// (net::Resolver) at each attempt, and each address it gives is tried in turn.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/lifeline.h"
#include "net/loop.h"
#include "net/resolver.h"
#include "redis/redis.h"
#include "redis/resp.h"

namespace duplex::net {
class TlsContext;
class TlsSession;
}  // namespace duplex::net

namespace duplex::redis {

class LinkSocket;

class Link {
 public:
  // What Connection and Subscriber implement. Each call may destroy the owner (and the Link
  // with it): the Link touches nothing of itself after one returns without checking.
  class Owner {
   public:
    // The handshake succeeded: commands may be sent.
    virtual void linkReady() = 0;
    virtual void linkReply(Reply&& reply) = 0;
    // The connection failed (`wasReady` false: an attempt that never became ready) or was
    // lost. The Link has already scheduled the next attempt.
    virtual void linkLost(const std::string& why, bool wasReady) = 0;
    // From the sweep, while ready: check deadlines (fail() the link for a late reply).
    // Returns whether the sweep should keep running.
    virtual bool linkSweep(uint64_t nowMs) = 0;
    // Nothing came from Redis for Options::idlePingMs while ready: send a PING if nothing is
    // awaited (what is awaited already has a deadline), and give it the same deadline.
    virtual void linkIdle(uint64_t nowMs) = 0;

   protected:
    ~Owner() = default;
  };

  Link(net::Loop& loop, Endpoint endpoint, const Options& options, Owner& owner);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // The first attempt, at the next loop iteration (never inside the owner's constructor, so
  // that its handlers can be set first).
  void start();
  bool ready() const { return state_ == State::Ready; }
  // Queues a command (only when ready); it leaves with everything else sent this iteration.
  void send(std::span<const std::string> args);
  // Drops the connection (when connecting or ready), tells the owner why, and schedules the
  // next attempt.
  void fail(const std::string& why);
  // Makes sure the sweep runs (the owner has started waiting for something).
  void watch();

  net::Loop& loop() const { return *loop_; }
  const Endpoint& endpoint() const { return endpoint_; }
  const Options& options() const { return options_; }

  // From LinkSocket.
  void connected();
  void received(std::span<const uint8_t> data);
  void ended(int error);
  void tlsFailed(std::string_view why);
  void socketClosed();

 private:
  enum class State : uint8_t { Waiting, Connecting, Ready };
  enum class Step : uint8_t { Auth, Select, Ping };

  void attempt();
  void resolved(net::Resolution&& resolution);
  // Connects to the next of addresses_; past the last, the attempt has failed.
  void connectNext(const std::string& lastError);
  void scheduleReconnect();
  void sweep();
  void armIdleCheck(uint64_t delayMs);
  void idleCheck();
  void handshakeReply(const Reply& reply);
  void closeSocket();

  net::Loop* loop_;
  Endpoint endpoint_;
  Options options_;
  Owner& owner_;
  State state_ = State::Waiting;
  LinkSocket* socket_ = nullptr;  // owned by the loop (deleted after it closes)
  ReplyReader reader_;
  Reply reply_;  // reused for every reply
  std::vector<Step> handshake_;
  size_t handshakeDone_ = 0;
  uint64_t connectDeadlineMs_ = 0;
  uint32_t failures_ = 0;  // attempts failed in a row: the backoff's exponent
  net::Resolver resolver_;
  bool resolving_ = false;  // this attempt waits for resolver_
  // An answer that came between attempts (its own attempt ran out of time): the next uses it.
  std::optional<net::Resolution> earlyAnswer_;
  std::vector<net::ResolvedAddress> addresses_;  // this attempt's, tried in turn
  size_t nextAddress_ = 0;
  net::Loop::TimerId reconnectTimer_ = 0;
  net::Loop::TimerId sweepTimer_ = 0;
  net::Loop::TimerId idleTimer_ = 0;
  uint64_t lastReceivedMs_ = 0;                  // while ready: when Redis last sent anything
  std::unique_ptr<net::TlsContext> tls_;         // rediss://: built at the first attempt
  std::unique_ptr<net::TlsSession> pendingTls_;  // started once the TCP connect completes
  net::Lifeline<Link> lifeline_{this};
};

}  // namespace duplex::redis
