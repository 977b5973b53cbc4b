#include "net/address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>

#include "net/resolver.h"

namespace duplex::net {

std::string formatAddress(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (address->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return {};
}

bool resolveAddress(std::string_view host, uint16_t port, sockaddr_storage& out, socklen_t& length,
                    std::string& error) {
  Resolution resolution = resolveBlocking(host, port);
  if (resolution.addresses.empty()) {
    error = std::move(resolution.error);
    return false;
  }
  out = resolution.addresses.front().address;
  length = resolution.addresses.front().length;
  return true;
}

}  // namespace duplex::net
