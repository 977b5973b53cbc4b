#pragma once
// Host names resolved off the loop. getaddrinfo blocks for as long as the system's resolver
// takes (seconds each try when a DNS server does not answer), which on a loop thread would
// hold up every socket and timer of that loop. So a name is looked up on one of the process's
// lookup threads (at most 8 at once; more lookups wait their turn) and the answer is posted
// back to the loop; a literal address needs no lookup at all (literalAddress), and no thread.
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::net {

class Loop;

struct ResolvedAddress {
  sockaddr_storage address{};
  socklen_t length = 0;
};

struct Resolution {
  std::vector<ResolvedAddress> addresses;  // in getaddrinfo's order; empty when it failed
  std::string error;                       // then: "cannot resolve NAME: REASON"
};

// A literal IPv4 or IPv6 address ("10.0.0.5", "::1", "[::1]") with `port`: true and `out` set;
// false for anything else (a name).
bool literalAddress(std::string_view host, uint16_t port, ResolvedAddress& out);

// Blocks: a literal address at once, a name through getaddrinfo (every address it gives, so a
// caller can try the next when one refuses). For threads that may block.
Resolution resolveBlocking(std::string_view host, uint16_t port);

// How a Resolver looks a name up, on a lookup thread: resolveBlocking unless a test says otherwise
// (a lookup that takes its time, or counts the names it is asked).
using Lookup = std::function<Resolution(const std::string& host, uint16_t port)>;

// Looks up one name at a time for one owner on one loop: resolve() hands the lookup to a lookup
// thread, which posts the answer to the loop, where `done` runs (never inside resolve()). Asked
// again while a lookup runs, it starts no second one: that answer goes to the newest `done`
// (an owner asks one question, its own host and port, again and again: ask one Resolver
// nothing else).
// So a resolver that hangs holds at most one lookup thread per Resolver, however often its owner
// retries, and only until getaddrinfo gives up (resolv.conf's timeout and attempts).
// Destroying the Resolver (on the loop's thread, before the loop) drops an answer still to
// come, and a lookup still waiting its turn is never made.
class Resolver {
 public:
  using Done = std::function<void(Resolution&&)>;

  explicit Resolver(Loop& loop, Lookup lookup = {});
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  void resolve(std::string host, uint16_t port, Done done);
  bool busy() const;  // a lookup is running or its answer not yet delivered

 private:
  struct Shared;
  Loop* loop_;
  Lookup lookup_;
  std::shared_ptr<Shared> inFlight_;  // the running lookup's, shared with its thread
};

}  // namespace duplex::net
