// HS256 JWTs: what is accepted, what is refused and with which code, and that no refusal quotes
// the token. Tokens are minted with signHs256 and cross-checked against tokens computed
// independently (Python's hmac/base64, and RFC 7515 A.1).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hub/jwt.h"

namespace duplex::hub {
namespace {

constexpr const char* kSecret = "duplex-test-secret";
constexpr int64_t kNow = 1'750'000'000;

// Computed with /usr/bin/python3 (hmac.new(secret, h + "." + p, sha256), urlsafe_b64encode
// without '='), not with our code.
constexpr const char* kPythonClaims =
    R"({"sub":"alice","exp":1764000000,"channels":["private:alice","team:42:*"]})";
constexpr const char* kPythonToken =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJhbGljZSIsImV4cCI6MTc2NDAwMDAwMCwiY2hhbm5lbHMiOlsicHJpdmF0ZTphbGljZSIsInRlYW06NDI6"
    "KiJdfQ.aYEb0UDdYpHI8yV48j2xQnU1cD1ao--4eqp-XnuJvUY";
// Header {"typ":"JWT","alg":"HS256"} (another order), fractional nbf.
constexpr const char* kPythonToken2 =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."
    "eyJzdWIiOiJib2IiLCJuYmYiOjE3MDAwMDAwMDAuNSwiZXhwIjoxOTAwMDAwMDAwfQ."
    "CcTAvf4jHZ4AYojcwbV8JioOMPcY9nH7dNRN0M4hyrE";

std::string b64url(std::string_view bytes) {
  // Tests build malformed tokens by hand; this is the textbook encoder, independent of jwt.cpp.
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::string sign(std::string_view claims) {
  return signHs256(claims, kSecret);
}

// Signs any signing input (RFC 7515 5.1: ASCII(header part "." payload part)) with OpenSSL
// directly, so tests can build tokens our signer would never make: foreign headers, payloads
// that are not base64url.
std::string signedToken(const std::string& headerPart, const std::string& payloadPart) {
  std::string input = headerPart + "." + payloadPart;
  unsigned char mac[32];
  unsigned int length = 0;
  HMAC(EVP_sha256(), kSecret, static_cast<int>(std::string_view(kSecret).size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  return input + "." + b64url(std::string_view(reinterpret_cast<const char*>(mac), length));
}

std::string withHeader(std::string_view headerJson, std::string_view claimsJson) {
  return signedToken(b64url(headerJson), b64url(claimsJson));
}

TEST(Jwt, SignerMatchesAnIndependentlyComputedToken) {
  EXPECT_EQ(signHs256(kPythonClaims, kSecret), kPythonToken);
}

TEST(Jwt, AcceptsValidTokensAndReadsTheClaims) {
  JwtVerifier verifier(kSecret);
  auto claims = verifier.verify(kPythonToken, kNow);
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->user, "alice");
  EXPECT_EQ(claims->expires, 1764000000);
  EXPECT_EQ(claims->notBefore, 0);
  EXPECT_EQ(claims->channels, (std::vector<std::string>{"private:alice", "team:42:*"}));

  claims = verifier.verify(kPythonToken2, kNow);
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->user, "bob");
  EXPECT_EQ(claims->notBefore, 1700000000);
  EXPECT_TRUE(claims->channels.empty());

  // Minimal: sub only ("" is an anonymous token), no expiry.
  claims = verifier.verify(sign(R"({"sub":""})"), kNow);
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->user, "");
  EXPECT_EQ(claims->expires, 0);

  // typ is optional and case-insensitive (RFC 7519 5.1); other header fields are ignored.
  EXPECT_TRUE(verifier.verify(withHeader(R"({"alg":"HS256"})", R"({"sub":"a"})"), kNow).ok());
  EXPECT_TRUE(
      verifier
          .verify(withHeader(R"({"alg":"HS256","typ":"jwt","kid":"k1"})", R"({"sub":"a"})"), kNow)
          .ok());

  // Claims we do not know are ignored; channels may be empty.
  claims = verifier.verify(sign(R"({"sub":"carol","iat":1,"iss":"me","channels":[]})"), kNow);
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->user, "carol");
}

TEST(Jwt, Rfc7515AppendixA1SignatureVerifies) {
  // RFC 7515 A.1's HS256 example. Its claims have no sub, so the token is refused, but only
  // after the signature was found good: the refusal is about sub.
  const unsigned char key[] = {0x03, 0x23, 0x35, 0x4b, 0x2b, 0x0f, 0xa5, 0xbc, 0x83, 0x7e, 0x06,
                               0x65, 0x77, 0x7b, 0xa6, 0x8f, 0x5a, 0xb3, 0x28, 0xe6, 0xf0, 0x54,
                               0xc9, 0x28, 0xa9, 0x0f, 0x84, 0xb2, 0xd2, 0x50, 0x2e, 0xbf, 0xd3,
                               0xfb, 0x5a, 0x92, 0xd2, 0x06, 0x47, 0xef, 0x96, 0x8a, 0xb4, 0xc3,
                               0x77, 0x62, 0x3d, 0x22, 0x3d, 0x2e, 0x21, 0x72, 0x05, 0x2e, 0x4f,
                               0x08, 0xc0, 0xcd, 0x9a, 0xf5, 0x67, 0xd0, 0x80, 0xa3};
  const char* token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
      "fQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  JwtVerifier verifier(std::string(reinterpret_cast<const char*>(key), sizeof key));
  auto result = verifier.verify(token, 1300819379);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "the token has no sub claim");
  JwtVerifier wrongKey("not the key");
  EXPECT_EQ(wrongKey.verify(token, 1300819379).error().message, "the token's signature is wrong");
}

TEST(Jwt, ExpiryAndNotBefore) {
  JwtVerifier verifier(kSecret);
  std::string token = sign(R"({"sub":"alice","exp":1000,"nbf":900})");
  struct Row {
    int64_t now;
    bool ok;
    ErrorCode code;
  };
  const Row rows[] = {
      {899, false, ErrorCode::Unauthorized},  // not yet valid
      {900, true, ErrorCode::Internal},       // valid from nbf on
      {999, true, ErrorCode::Internal},       // valid while now < exp
      {1000, false, ErrorCode::TokenExpired}, {5000, false, ErrorCode::TokenExpired},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.now);
    auto result = verifier.verify(token, row.now);
    EXPECT_EQ(result.ok(), row.ok);
    if (!row.ok) {
      EXPECT_EQ(result.error().code, row.code);
    }
  }
  EXPECT_EQ(verifier.verify(token, 899).error().message, "the token is not valid yet (nbf)");
  EXPECT_EQ(verifier.verify(token, 1000).error().message, "the token has expired");

  // A leeway forgives clock skew on both ends.
  JwtVerifier lenient(kSecret, 30);
  EXPECT_TRUE(lenient.verify(token, 870).ok());
  EXPECT_TRUE(lenient.verify(token, 1029).ok());
  EXPECT_EQ(lenient.verify(token, 1030).error().code, ErrorCode::TokenExpired);
  // Saturating arithmetic: a huge exp with a leeway does not wrap into the past.
  EXPECT_TRUE(lenient.verify(sign(R"({"sub":"a","exp":9223372036854775807})"), kNow).ok());
  EXPECT_TRUE(lenient.verify(sign(R"({"sub":"a","exp":1e300})"), kNow).ok());
  // A fractional exp counts whole seconds.
  EXPECT_TRUE(verifier.verify(sign(R"({"sub":"a","exp":1000.9})"), 999).ok());
  EXPECT_EQ(verifier.verify(sign(R"({"sub":"a","exp":1000.9})"), 1000).error().code,
            ErrorCode::TokenExpired);
  // A bad signature on an expired token is unauthorized: nothing in it is believed.
  std::string forged = signHs256(R"({"sub":"alice","exp":1000})", "other secret");
  EXPECT_EQ(verifier.verify(forged, 5000).error().code, ErrorCode::Unauthorized);
}

TEST(Jwt, RefusedTokensSayWhyAndNeverQuoteTheToken) {
  JwtVerifier verifier(kSecret);
  const std::string good = sign(R"({"sub":"alice"})");
  const std::string header = good.substr(0, good.find('.'));
  const std::string payload = good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1);
  const std::string signature = good.substr(good.rfind('.') + 1);
  const std::string claims = b64url(R"({"sub":"alice"})");
  ASSERT_EQ(payload, claims);
  std::string tampered = good;
  char& c = tampered[good.rfind('.') + 3];  // one signature character changed
  c = c == 'A' ? 'B' : 'A';
  const std::string otherPayload = b64url(R"({"sub":"mallory"})");

  struct Row {
    const char* name;
    std::string token;
    const char* message;
  };
  const std::vector<Row> rows = {
      {"empty", "", "the token is empty"},
      {"one part", header, "the token is malformed: a JWT has three parts separated by dots"},
      {"two parts", header + "." + payload,
       "the token is malformed: a JWT has three parts separated by dots"},
      {"four parts", good + ".x",
       "the token is malformed: a JWT has three parts separated by dots"},
      {"missing signature", header + "." + payload + ".", "the token is unsigned"},
      {"alg none", b64url(R"({"alg":"none"})") + "." + payload + ".",
       "unsigned tokens (alg none) are refused"},
      // Foreign headers, correctly HMAC-signed: refused for the header alone.
      {"alg none, signed", withHeader(R"({"alg":"none","typ":"JWT"})", R"({"sub":"a"})"),
       "unsigned tokens (alg none) are refused"},
      {"alg HS512", withHeader(R"({"alg":"HS512","typ":"JWT"})", R"({"sub":"a"})"),
       "the token's alg is not HS256"},
      {"alg RS256", withHeader(R"({"alg":"RS256"})", R"({"sub":"a"})"),
       "the token's alg is not HS256"},
      {"alg hs256", withHeader(R"({"alg":"hs256"})", R"({"sub":"a"})"),
       "the token's alg is not HS256"},
      {"alg not a string", withHeader(R"({"alg":256})", R"({"sub":"a"})"),
       "the token's header has no alg"},
      {"no alg", withHeader(R"({"typ":"JWT"})", R"({"sub":"a"})"), "the token's header has no alg"},
      {"typ not JWT", withHeader(R"({"alg":"HS256","typ":"JWE"})", R"({"sub":"a"})"),
       "the token's typ is not JWT"},
      {"crit", withHeader(R"({"alg":"HS256","crit":["exp"]})", R"({"sub":"a"})"),
       "the token's header has crit extensions"},
      {"header not JSON", withHeader("{alg:HS256}", R"({"sub":"a"})"),
       "the token is malformed: its header is not a JSON object"},
      {"header an array", withHeader(R"(["HS256"])", R"({"sub":"a"})"),
       "the token is malformed: its header is not a JSON object"},
      {"header base64 with padding", header + "=." + payload + "." + signature,
       "the token is malformed: its header is not base64url"},
      {"header standard base64",
       "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9+/." + payload + "." + signature,
       "the token is malformed: its header is not base64url"},
      {"header length 1 mod 4", header + "A." + payload + "." + signature,
       "the token is malformed: its header is not base64url"},
      {"signature not base64url", header + "." + payload + ".abc$",
       "the token is malformed: its signature is not base64url"},
      {"signature non-canonical", header + "." + payload + "." + signature.substr(0, 42) + "V",
       "the token is malformed: its signature is not base64url"},
      {"signature too short", header + "." + payload + "." + signature.substr(0, 40),
       "the token's signature is wrong"},
      {"bad signature", tampered, "the token's signature is wrong"},
      {"claims swapped", header + "." + otherPayload + "." + signature,
       "the token's signature is wrong"},
      {"wrong secret", signHs256(R"({"sub":"alice"})", "not the secret"),
       "the token's signature is wrong"},
      {"whitespace", " " + good, "the token is malformed: its header is not base64url"},
      {"claims not base64url, unsigned", header + ".e30=." + signature,
       "the token's signature is wrong"},
      {"claims not base64url", signedToken(header, "e30="),
       "the token is malformed: its claims are not base64url"},
      {"claims not JSON", sign("not json"),
       "the token is malformed: its claims are not a JSON object"},
      {"claims an array", sign(R"(["alice"])"),
       "the token is malformed: its claims are not a JSON object"},
      {"missing sub", sign(R"({"exp":2000000000})"), "the token has no sub claim"},
      {"sub not a string", sign(R"({"sub":42})"), "the token's sub is not a string"},
      {"sub null", sign(R"({"sub":null})"), "the token's sub is not a string"},
      {"exp a string", sign(R"({"sub":"a","exp":"2030"})"), "the token's exp is not a number"},
      {"nbf a bool", sign(R"({"sub":"a","nbf":true})"), "the token's nbf is not a number"},
      {"channels a string", sign(R"({"sub":"a","channels":"talk:*"})"),
       "the token's channels claim is not an array of strings"},
      {"channels with a number", sign(R"({"sub":"a","channels":["talk:*",7]})"),
       "the token's channels claim is not an array of strings"},
      {"too long", sign(R"({"sub":")" + std::string(9000, 'a') + "\"}"), "the token is too long"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    auto result = verifier.verify(row.token, kNow);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::Unauthorized);
    EXPECT_EQ(result.error().message, row.message);
    // Never the token, nor any of its parts.
    for (size_t part = 0; part < row.token.size(); part += 8) {
      std::string piece = row.token.substr(part, 8);
      if (piece.size() == 8) {
        EXPECT_EQ(result.error().message.find(piece), std::string::npos);
      }
    }
  }
}

TEST(Jwt, ClaimsAreReadOnlyFromAVerifiedToken) {
  // A token whose claims are broken and whose signature is wrong is refused for the signature:
  // claims are not parsed before the token is authenticated.
  JwtVerifier verifier(kSecret);
  std::string forged = signHs256("not json", "other");
  EXPECT_EQ(verifier.verify(forged, kNow).error().message, "the token's signature is wrong");
}

TEST(Jwt, AnEmptySecretRefusesEverything) {
  JwtVerifier verifier("");
  std::string token = signHs256(R"({"sub":"alice"})", "");
  EXPECT_EQ(token.size() - token.rfind('.') - 1, 43u);  // a 32-byte signature all the same
  auto result = verifier.verify(token, kNow);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::Unauthorized);
  EXPECT_EQ(result.error().message, "no token secret is configured");
}

TEST(Jwt, VerifierIsReusable) {
  JwtVerifier verifier(kSecret);
  for (int i = 0; i < 100; ++i) {
    std::string token = sign(R"({"sub":"u)" + std::to_string(i) + R"(","exp":2000000000})");
    auto claims = verifier.verify(token, kNow);
    ASSERT_TRUE(claims.ok());
    EXPECT_EQ(claims->user, "u" + std::to_string(i));
    EXPECT_FALSE(verifier.verify(token.substr(0, token.size() - 1), kNow).ok());
  }
}

}  // namespace
}  // namespace duplex::hub
