#pragma once
// Base64 (RFC 4648 section 4, standard alphabet, padded), for Sec-WebSocket-Key and -Accept.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace duplex::protocol {

std::string base64Encode(std::span<const uint8_t> data);

// Strict: the length is a multiple of 4, every character is in the alphabet, and '=' appears
// only as one or two trailing pad characters. Returns nullopt otherwise.
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace duplex::protocol
