#pragma once
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace duplex::net {

// "127.0.0.1:9001" or "[::1]:9001".
std::string formatAddress(const sockaddr* address);

// Resolves host (a literal address or a name, through getaddrinfo, which may block) and port
// into `out`: the first address. Returns false with `error` set when it cannot. Code on a loop
// that must not wait uses net::Resolver (resolver.h) instead.
bool resolveAddress(std::string_view host, uint16_t port, sockaddr_storage& out, socklen_t& length,
                    std::string& error);

}  // namespace duplex::net
