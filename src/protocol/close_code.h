#pragma once
// Close status codes, RFC 6455 section 7.4, with the names the RFC gives them.
#include <cstdint>
#include <string_view>

namespace duplex {

enum class CloseCode : uint16_t {
  Normal = 1000,
  GoingAway = 1001,
  ProtocolError = 1002,
  UnsupportedData = 1003,
  // 1004 is reserved; 1005, 1006 and 1015 must never be sent on the wire (RFC 6455 7.4.1).
  NoStatus = 1005,
  Abnormal = 1006,
  InvalidPayload = 1007,
  PolicyViolation = 1008,
  MessageTooBig = 1009,
  MandatoryExtension = 1010,
  InternalError = 1011,
  ServiceRestart = 1012,
  TryAgainLater = 1013,
  BadGateway = 1014,
  TlsHandshake = 1015,
};

namespace protocol {

// True for codes a peer may put in a close frame: 1000-1003, 1007-1014 and 3000-4999.
bool isValidWireCloseCode(uint16_t code);

// "Normal", "ProtocolError", ... for logs; "Application" for 3000-4999, "Unknown" otherwise.
std::string_view closeCodeName(uint16_t code);

}  // namespace protocol
}  // namespace duplex
