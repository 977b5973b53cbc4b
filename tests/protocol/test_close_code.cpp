#include <gtest/gtest.h>

#include "protocol/close_code.h"

namespace duplex::protocol {
namespace {

struct WireCodeCase {
  uint16_t code;
  bool valid;
};

// RFC 6455 7.4.1/7.4.2: one row per boundary of the valid ranges.
const WireCodeCase kWireCodes[] = {
    {0, false},    {999, false},  {1000, true},  {1001, true},   {1002, true}, {1003, true},
    {1004, false}, {1005, false}, {1006, false}, {1007, true},   {1008, true}, {1009, true},
    {1010, true},  {1011, true},  {1012, true},  {1013, true},   {1014, true}, {1015, false},
    {1016, false}, {1100, false}, {2000, false}, {2999, false},  {3000, true}, {3999, true},
    {4000, true},  {4999, true},  {5000, false}, {65535, false},
};

TEST(CloseCode, WireValidity) {
  for (const auto& c : kWireCodes) {
    EXPECT_EQ(isValidWireCloseCode(c.code), c.valid) << c.code;
  }
}

TEST(CloseCode, Names) {
  EXPECT_EQ(closeCodeName(1000), "Normal");
  EXPECT_EQ(closeCodeName(1002), "ProtocolError");
  EXPECT_EQ(closeCodeName(1005), "NoStatus");
  EXPECT_EQ(closeCodeName(1009), "MessageTooBig");
  EXPECT_EQ(closeCodeName(1015), "TlsHandshake");
  EXPECT_EQ(closeCodeName(3000), "Application");
  EXPECT_EQ(closeCodeName(4999), "Application");
  EXPECT_EQ(closeCodeName(1004), "Unknown");
  EXPECT_EQ(closeCodeName(5000), "Unknown");
}

}  // namespace
}  // namespace duplex::protocol
