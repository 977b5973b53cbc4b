#pragma once
// Connection tokens: JWTs (RFC 7519) signed with HS256 (RFC 7515 JWS compact serialization,
// HMAC-SHA256 under duplexd's secret). Sans-I/O: the caller passes the time.
//
// Refused, with `unauthorized`: anything but three base64url parts (no padding), a header that
// is not {"alg":"HS256"} (alg none and every other algorithm, a "crit" header, a typ other than
// JWT), a signature that is not the HMAC of the first two parts, claims that are not a JSON
// object with a string `sub`, a token not valid yet (nbf). With `token_expired`: a token whose
// signature and claims are good but whose exp has passed. The signature is checked before the
// claims are read, and an error message never quotes any part of the token: tokens must not
// reach the logs.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hub/hub_protocol_error.h"

namespace duplex::hub {

inline constexpr size_t kMaxTokenBytes = 8 * 1024;

struct TokenClaims {
  std::string user;                   // sub; "" for an anonymous token
  int64_t expires = 0;                // exp, Unix seconds; 0: the token does not expire
  int64_t notBefore = 0;              // nbf, Unix seconds; 0: none
  std::vector<std::string> channels;  // grants: exact channel names or prefixes ending in '*'
  bool operator==(const TokenClaims&) const = default;
};

class JwtVerifier {
 public:
  // `leewaySeconds` forgives that much clock skew on exp and nbf. An empty secret refuses every
  // token (HMAC under an empty key is a key anyone has).
  explicit JwtVerifier(std::string secret, int64_t leewaySeconds = 0);
  ~JwtVerifier();
  JwtVerifier(const JwtVerifier&) = delete;
  JwtVerifier& operator=(const JwtVerifier&) = delete;

  // RFC 7519 4.1.4: valid while nowSeconds < exp; 4.1.5: from nbf on.
  HubResult<TokenClaims> verify(std::string_view token, int64_t nowSeconds);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A compact HS256 token: base64url({"alg":"HS256","typ":"JWT"}) "." base64url(claimsJson) "."
// base64url(HMAC-SHA256). `claimsJson` is used byte for byte; for tests and tools that mint
// tokens.
std::string signHs256(std::string_view claimsJson, std::string_view secret);

}  // namespace duplex::hub
