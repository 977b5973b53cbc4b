#include "protocol/close_code.h"

namespace duplex::protocol {

bool isValidWireCloseCode(uint16_t code) {
  // RFC 6455 7.4.1/7.4.2 and the IANA registry: 1004 is reserved, 1005, 1006 and 1015 are
  // for local use only, 1016-2999 are unassigned (reserved for future RFCs), 3000-4999 belong
  // to libraries and applications.
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

std::string_view closeCodeName(uint16_t code) {
  switch (static_cast<CloseCode>(code)) {
    case CloseCode::Normal:
      return "Normal";
    case CloseCode::GoingAway:
      return "GoingAway";
    case CloseCode::ProtocolError:
      return "ProtocolError";
    case CloseCode::UnsupportedData:
      return "UnsupportedData";
    case CloseCode::NoStatus:
      return "NoStatus";
    case CloseCode::Abnormal:
      return "Abnormal";
    case CloseCode::InvalidPayload:
      return "InvalidPayload";
    case CloseCode::PolicyViolation:
      return "PolicyViolation";
    case CloseCode::MessageTooBig:
      return "MessageTooBig";
    case CloseCode::MandatoryExtension:
      return "MandatoryExtension";
    case CloseCode::InternalError:
      return "InternalError";
    case CloseCode::ServiceRestart:
      return "ServiceRestart";
    case CloseCode::TryAgainLater:
      return "TryAgainLater";
    case CloseCode::BadGateway:
      return "BadGateway";
    case CloseCode::TlsHandshake:
      return "TlsHandshake";
  }
  if (code >= 3000 && code <= 4999) return "Application";
  return "Unknown";
}

}  // namespace duplex::protocol
