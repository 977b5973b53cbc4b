#include "hub/jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <array>
#include <cmath>
#include <limits>
#include <optional>

namespace duplex::hub {
namespace {

constexpr size_t kSignatureBytes = 32;  // SHA-256
using Digest = std::array<unsigned char, kSignatureBytes>;

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void appendBase64Url(std::string& out, std::string_view bytes) {
  auto at = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out += kBase64Url[v >> 18];
    out += kBase64Url[(v >> 12) & 63];
    out += kBase64Url[(v >> 6) & 63];
    out += kBase64Url[v & 63];
  }
  // RFC 7515 2: the trailing '=' padding is omitted.
  if (bytes.size() - i == 1) {
    uint32_t v = at(i) << 16;
    out += kBase64Url[v >> 18];
    out += kBase64Url[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    uint32_t v = at(i) << 16 | at(i + 1) << 8;
    out += kBase64Url[v >> 18];
    out += kBase64Url[(v >> 12) & 63];
    out += kBase64Url[(v >> 6) & 63];
  }
}

int base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Strict: only the URL-safe alphabet, no padding, no whitespace, and unused low bits of the
// last character zero, so every byte string has exactly one accepted encoding.
bool decodeBase64Url(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = base64UrlValue(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return (acc & ((1u << bits) - 1)) == 0;
}

bool hmacSha256(std::string_view key, std::string_view data, Digest& out) {
  static const unsigned char kEmpty = 0;  // HMAC() wants a non-null key even when it is empty
  const void* k = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  unsigned int length = 0;
  return HMAC(EVP_sha256(), k, static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
              &length) != nullptr &&
         length == out.size();
}

bool equalsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// A NumericDate (RFC 7519 2): any JSON number of seconds; fractions are dropped.
std::optional<int64_t> numericDate(simdjson::dom::element value) {
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  if (value.get_int64().get(i) == simdjson::SUCCESS) return i;
  if (value.get_uint64().get(u) == simdjson::SUCCESS) return std::numeric_limits<int64_t>::max();
  if (value.get_double().get(d) == simdjson::SUCCESS) {
    if (d >= 9.2e18) return std::numeric_limits<int64_t>::max();
    if (d <= -9.2e18) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(std::floor(d));
  }
  return std::nullopt;
}

HubError refuse(std::string_view why) {
  return HubError{ErrorCode::Unauthorized, std::string(why)};
}

}  // namespace

struct JwtVerifier::Impl {
  std::string secret;
  int64_t leeway = 0;
  simdjson::dom::parser parser;
  std::string header, claims, signature;  // decoded parts, reused

  HubResult<TokenClaims> verify(std::string_view token, int64_t now) {
    if (secret.empty()) return refuse("no token secret is configured");
    if (token.empty()) return refuse("the token is empty");
    if (token.size() > kMaxTokenBytes) return refuse("the token is too long");
    size_t dot1 = token.find('.');
    size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
      return refuse("the token is malformed: a JWT has three parts separated by dots");
    }
    std::string_view headerPart = token.substr(0, dot1);
    std::string_view claimsPart = token.substr(dot1 + 1, dot2 - dot1 - 1);
    std::string_view signaturePart = token.substr(dot2 + 1);

    if (!decodeBase64Url(headerPart, header)) {
      return refuse("the token is malformed: its header is not base64url");
    }
    if (auto error = checkHeader()) return *error;

    if (signaturePart.empty()) return refuse("the token is unsigned");
    if (!decodeBase64Url(signaturePart, signature)) {
      return refuse("the token is malformed: its signature is not base64url");
    }
    Digest expected;
    if (!hmacSha256(secret, token.substr(0, dot2), expected)) {
      return HubError{ErrorCode::Internal, "HMAC-SHA256 failed"};
    }
    // Constant time: how much of a forged signature matched must not show in the timing.
    if (signature.size() != expected.size() ||
        CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
      return refuse("the token's signature is wrong");
    }

    if (!decodeBase64Url(claimsPart, claims)) {
      return refuse("the token is malformed: its claims are not base64url");
    }
    return readClaims(now);
  }

  std::optional<HubError> checkHeader() {
    simdjson::dom::object object;
    if (parser.parse(header).get(object) != simdjson::SUCCESS) {
      return refuse("the token is malformed: its header is not a JSON object");
    }
    std::string_view alg;
    if (object["alg"].get(alg) != simdjson::SUCCESS) {
      return refuse("the token's header has no alg");
    }
    if (alg == "none") return refuse("unsigned tokens (alg none) are refused");
    if (alg != "HS256") return refuse("the token's alg is not HS256");
    auto typ = object["typ"];
    if (typ.error() != simdjson::NO_SUCH_FIELD) {
      std::string_view value;
      if (typ.get(value) != simdjson::SUCCESS || !equalsIgnoringAsciiCase(value, "JWT")) {
        return refuse("the token's typ is not JWT");
      }
    }
    // RFC 7515 4.1.11: extensions marked critical must be understood; we know none.
    if (object["crit"].error() != simdjson::NO_SUCH_FIELD) {
      return refuse("the token's header has crit extensions");
    }
    return std::nullopt;
  }

  HubResult<TokenClaims> readClaims(int64_t now) {
    simdjson::dom::object object;
    if (parser.parse(claims).get(object) != simdjson::SUCCESS) {
      return refuse("the token is malformed: its claims are not a JSON object");
    }
    TokenClaims result;
    std::string_view sub;
    auto subField = object["sub"];
    if (subField.error() == simdjson::NO_SUCH_FIELD) return refuse("the token has no sub claim");
    if (subField.get(sub) != simdjson::SUCCESS) return refuse("the token's sub is not a string");
    result.user = sub;

    std::optional<int64_t> exp, nbf;
    auto expField = object["exp"];
    if (expField.error() != simdjson::NO_SUCH_FIELD) {
      exp = numericDate(expField.value_unsafe());
      if (!exp) return refuse("the token's exp is not a number");
    }
    auto nbfField = object["nbf"];
    if (nbfField.error() != simdjson::NO_SUCH_FIELD) {
      nbf = numericDate(nbfField.value_unsafe());
      if (!nbf) return refuse("the token's nbf is not a number");
    }
    auto channelsField = object["channels"];
    if (channelsField.error() != simdjson::NO_SUCH_FIELD) {
      simdjson::dom::array channels;
      if (channelsField.get(channels) != simdjson::SUCCESS) {
        return refuse("the token's channels claim is not an array of strings");
      }
      for (simdjson::dom::element grant : channels) {
        std::string_view name;
        if (grant.get(name) != simdjson::SUCCESS) {
          return refuse("the token's channels claim is not an array of strings");
        }
        result.channels.emplace_back(name);
      }
    }

    // Saturating: a leeway must not wrap a far-future date into the past.
    auto shifted = [](int64_t t, int64_t by) {
      if (by > 0 && t > std::numeric_limits<int64_t>::max() - by) {
        return std::numeric_limits<int64_t>::max();
      }
      if (by < 0 && t < std::numeric_limits<int64_t>::min() - by) {
        return std::numeric_limits<int64_t>::min();
      }
      return t + by;
    };
    if (nbf && now < shifted(*nbf, -leeway)) return refuse("the token is not valid yet (nbf)");
    if (exp) {
      if (now >= shifted(*exp, leeway)) {
        return HubError{ErrorCode::TokenExpired, "the token has expired"};
      }
      // 0 means "no expiry" on the wire (connect's `expires`); an exp of 0 has passed anyway.
      result.expires = *exp;
    }
    if (nbf) result.notBefore = *nbf;
    return result;
  }
};

JwtVerifier::JwtVerifier(std::string secret, int64_t leewaySeconds)
    : impl_(std::make_unique<Impl>()) {
  impl_->secret = std::move(secret);
  impl_->leeway = leewaySeconds < 0 ? 0 : leewaySeconds;
}

JwtVerifier::~JwtVerifier() = default;

HubResult<TokenClaims> JwtVerifier::verify(std::string_view token, int64_t nowSeconds) {
  return impl_->verify(token, nowSeconds);
}

std::string signHs256(std::string_view claimsJson, std::string_view secret) {
  std::string token;
  appendBase64Url(token, R"({"alg":"HS256","typ":"JWT"})");
  token += '.';
  appendBase64Url(token, claimsJson);
  Digest digest;
  if (!hmacSha256(secret, token, digest)) return {};
  token += '.';
  appendBase64Url(token,
                  std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  return token;
}

}  // namespace duplex::hub
