#include "protocol/sha1.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace duplex::protocol {

std::array<uint8_t, 20> sha1(std::string_view data) {
  std::array<uint8_t, 20> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha1(), nullptr) != 1 ||
      size != digest.size()) {
    // Only possible when libcrypto is broken or SHA-1 is disabled by its configuration.
    throw std::runtime_error("libcrypto: SHA-1 unavailable");
  }
  return digest;
}

}  // namespace duplex::protocol
