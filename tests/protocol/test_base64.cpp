#include <gtest/gtest.h>

#include "protocol/base64.h"

namespace duplex::protocol {
namespace {

std::span<const uint8_t> bytesOf(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// RFC 4648 section 10.
TEST(Base64, RfcVectors) {
  const std::pair<std::string_view, std::string_view> rows[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : rows) {
    EXPECT_EQ(base64Encode(bytesOf(plain)), encoded) << plain;
    const auto decoded = base64Decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, plain) << encoded;
  }
}

TEST(Base64, AllByteValuesRoundTrip) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  const std::string encoded = base64Encode(bytesOf(all));
  EXPECT_EQ(encoded.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="),
            std::string::npos);
  EXPECT_EQ(base64Decode(encoded), all);
}

TEST(Base64, StrictDecodingRejects) {
  const std::string_view rows[] = {
      "Zg",        // length not a multiple of 4
      "Zg=",       // same
      "Z===",      // three pad characters
      "====",      // only padding
      "Zg==Zg==",  // padding in the middle
      "Z=g=",      // pad before data
      "Zm9v!A==",  // outside the alphabet
      "Zm9v YQ=",  // space
      "Zm9-",      // base64url alphabet is not base64
      "Zm9_",
  };
  for (std::string_view s : rows) EXPECT_FALSE(base64Decode(s).has_value()) << s;
}

}  // namespace
}  // namespace duplex::protocol
