#include "net/resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "net/loop.h"

namespace duplex::net {

bool literalAddress(std::string_view host, uint16_t port, ResolvedAddress& out) {
  std::string name(host);
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']')
    name = name.substr(1, name.size() - 2);
  out = {};
  auto* in = reinterpret_cast<sockaddr_in*>(&out.address);
  if (inet_pton(AF_INET, name.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    out.length = sizeof(sockaddr_in);
    return true;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.address);
  if (inet_pton(AF_INET6, name.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    out.length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

Resolution resolveBlocking(std::string_view host, uint16_t port) {
  Resolution resolution;
  ResolvedAddress literal;
  if (literalAddress(host, port, literal)) {
    resolution.addresses.push_back(literal);
    return resolution;
  }
  std::string name(host);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  int rc = getaddrinfo(name.c_str(), nullptr, &hints, &result);
  if (rc != 0 || !result) {
    resolution.error =
        "cannot resolve " + name + ": " + (rc != 0 ? gai_strerror(rc) : "no address");
    return resolution;
  }
  for (const addrinfo* info = result; info; info = info->ai_next) {
    if (info->ai_family != AF_INET && info->ai_family != AF_INET6) continue;
    ResolvedAddress address;
    std::memcpy(&address.address, info->ai_addr, info->ai_addrlen);
    address.length = info->ai_addrlen;
    if (info->ai_family == AF_INET)
      reinterpret_cast<sockaddr_in*>(&address.address)->sin_port = htons(port);
    else
      reinterpret_cast<sockaddr_in6*>(&address.address)->sin6_port = htons(port);
    resolution.addresses.push_back(address);
  }
  freeaddrinfo(result);
  if (resolution.addresses.empty()) resolution.error = "cannot resolve " + name + ": no address";
  return resolution;
}

// What a lookup's thread and its Resolver share. `loop` is null once the Resolver is gone; the
// thread posts only under the mutex, so it never posts to a loop whose owner has left. `done`
// is touched on the loop's thread only.
struct Resolver::Shared {
  std::mutex mutex;
  Loop* loop;
  Done done;
};

Resolver::Resolver(Loop& loop, Lookup lookup)
    : loop_(&loop), lookup_(lookup ? std::move(lookup) : Lookup(resolveBlocking)) {}

Resolver::~Resolver() {
  if (!inFlight_) return;
  std::lock_guard lock(inFlight_->mutex);
  inFlight_->loop = nullptr;
}

bool Resolver::busy() const {
  return inFlight_ != nullptr;
}

void Resolver::resolve(std::string host, uint16_t port, Done done) {
  if (inFlight_) {
    inFlight_->done = std::move(done);
    return;
  }
  auto shared = std::make_shared<Shared>();
  shared->loop = loop_;
  shared->done = std::move(done);
  inFlight_ = shared;
  // The answer comes back through the loop, as a task that finds this lookup still the
  // Resolver's (through `shared`: the Resolver itself may be gone by then).
  auto deliver = [this, shared](Resolution&& resolution) {
    {
      std::lock_guard lock(shared->mutex);
      if (!shared->loop) return;  // the Resolver is gone
    }
    inFlight_.reset();
    Done answer = std::move(shared->done);
    answer(std::move(resolution));
  };
  try {
    std::thread([shared, deliver, lookup = lookup_, host, port]() mutable {
      Resolution resolution = lookup(host, port);
      std::lock_guard lock(shared->mutex);
      if (!shared->loop) return;
      shared->loop->post(
          [deliver = std::move(deliver), resolution = std::move(resolution)]() mutable {
            deliver(std::move(resolution));
          });
    }).detach();
  } catch (const std::system_error& e) {
    // No thread to be had (a process at its limit): an answer all the same, at the next
    // iteration, and the owner's usual retry.
    loop_->post([deliver, why = std::string(e.what()), host]() mutable {
      deliver({{}, "cannot resolve " + host + ": no thread to resolve it on (" + why + ")"});
    });
  }
}

}  // namespace duplex::net
