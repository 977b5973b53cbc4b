#pragma once
// A Redis client on a net::Loop: RESP2 over our own non-blocking net::Socket (so TLS comes from
// net, as for WebSockets), with hiredis used only as the reply parser (redisReader: sans-I/O).
// Commands are pipelined: every command issued during one loop iteration leaves in one write.
// No thread per request and no blocking call on the loop: a host name is looked up on a lookup
// thread (net::Resolver), an IP address not at all. Layer: net <- redis <- hub.
//
// THE INTERFACE AGREED BETWEEN THE CLIENT (src/redis/*.cpp) AND THE ENGINE (src/hub/redis_*):
// change it only together.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/loop.h"
#include "net/resolver.h"

namespace duplex::redis {

// One reply, owned (copied out of the parser).
struct Reply {
  enum class Type : uint8_t { Nil, Integer, String, Status, Error, Array };
  Type type = Type::Nil;
  int64_t integer = 0;
  std::string string;           // String, Status, Error
  std::vector<Reply> elements;  // Array

  bool isError() const { return type == Type::Error; }
};

// The outcome of one command: a reply from Redis, or none because the connection was down,
// broke before the answer came, or the answer took longer than Options::commandTimeoutMs.
// A command that was written but not answered may or may not have run (the caller decides what
// that means: the hub answers `unavailable` and relies on idempotency keys for retries).
struct Result {
  bool ok = false;  // false: no reply; `error` says why ("connection refused", "timeout")
  std::string error;
  Reply reply;  // when ok (it may itself be a Redis error reply: reply.isError())
};

// redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], rediss:// for TLS.
struct Endpoint {
  std::string host;
  uint16_t port = 6379;
  std::string user;
  std::string password;
  int db = 0;
  bool tls = false;
  std::string text() const;  // the URL without the password, for logs
};
// Parses a URL; on failure returns nullopt and sets `error` to one readable line.
std::optional<Endpoint> parseUrl(std::string_view url, std::string* error);

struct Options {
  uint32_t connectTimeoutMs = 2000;
  uint32_t commandTimeoutMs = 2000;
  uint32_t reconnectMinMs = 50;  // backoff with jitter, doubling up to the max
  uint32_t reconnectMaxMs = 2000;
  // A connection that received nothing for this long sends a PING, which must be answered
  // within commandTimeoutMs like any command: a Redis that hangs (stopped, swapping, stuck) is
  // noticed and the connection remade, not only one whose host vanished (TCP keepalive).
  // 0: never.
  uint32_t idlePingMs = 3000;
  std::string tlsCaFile;  // rediss://: verify against this CA (empty: system store)
  // How a host name is looked up, on a thread of its own at each connection attempt (so a
  // changed DNS record is followed after a reconnect); the loop never waits for it. Empty:
  // getaddrinfo (net::resolveBlocking). A literal address is never looked up.
  net::Lookup lookup;
};

// One connection to one Redis, living on one loop (use it on that loop's thread only, and
// destroy it before the loop). It starts connecting (AUTH, SELECT, then a PING that proves the
// server ready) at the loop's next iteration, and reconnects with backoff for ever after a
// failure; commands issued while it is down (or still connecting) fail at once (Result::ok
// false, `error` the last reason it is down), never queue unbounded. A command that gets no
// reply within Options::commandTimeoutMs fails with "timeout: ..." and, since RESP cannot skip
// a reply, so does the connection: every command behind it fails too, then it reconnects.
class Connection {
 public:
  using Callback = std::function<void(Result&&)>;

  Connection(net::Loop& loop, Endpoint endpoint, Options options = {});
  ~Connection();  // pending callbacks get Result{ok=false, "closed"} (not run re-entrantly)
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends a command (argument strings, binary-safe). `done` runs on the loop, later, never
  // inside this call; callbacks run in the order the commands were issued.
  void command(std::vector<std::string> args, Callback done);

  bool isConnected() const;
  // Called on the loop each time the connection is (re)established and ready (after AUTH and
  // SELECT), and each time it is lost (with the reason). The first connect calls onUp too.
  // onDown runs once per outage: when an established connection is lost, and when the very
  // first attempt fails ("cannot connect to redis://h:6379: Connection refused", "authentication
  // to ... failed: WRONGPASS ..."), not again for each failed retry; the two alternate after
  // that. Each may destroy the Connection.
  void onUp(std::function<void()> handler);
  void onDown(std::function<void(std::string_view why)> handler);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A connection in RESP2 pub/sub mode. It keeps the set of channels it should be subscribed to
// and resubscribes to all of them after every reconnect (then calls onUp), so the owner only
// says what it wants. Messages arrive on the loop in the order Redis sent them; none arrives
// for a channel after unsubscribe() returned (Redis may still send some: they are dropped).
// onUp/onDown follow Connection's rule (once per outage); isConnected() is true between them.
// It checks itself with a PING when idle, as Connection does.
// After a reconnect, messages of the channels Redis has already confirmed may arrive before
// onUp (nothing is held back, so nothing is lost between the confirmation and onUp).
class Subscriber {
 public:
  Subscriber(net::Loop& loop, Endpoint endpoint, Options options = {});
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  void subscribe(const std::string& channel);
  void unsubscribe(const std::string& channel);
  bool isConnected() const;

  // (channel, payload) for every message.
  void onMessage(std::function<void(std::string_view channel, std::string_view payload)> handler);
  // Called once the connection is up again AND every wanted channel is subscribed (the owner
  // then reads what it may have missed while down), and when it is lost.
  void onUp(std::function<void()> handler);
  void onDown(std::function<void(std::string_view why)> handler);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace duplex::redis
