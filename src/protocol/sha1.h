#pragma once
// SHA-1, used only for Sec-WebSocket-Accept (RFC 6455 4.2.2), where it is not a security
// boundary; libcrypto computes it.
#include <array>
#include <cstdint>
#include <string_view>

namespace duplex::protocol {

std::array<uint8_t, 20> sha1(std::string_view data);

}  // namespace duplex::protocol
