#include "hub/hub_protocol_error.h"

namespace duplex::hub {

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::BadRequest:
      return "bad_request";
    case ErrorCode::UnknownCommand:
      return "unknown_command";
    case ErrorCode::Unauthorized:
      return "unauthorized";
    case ErrorCode::TokenExpired:
      return "token_expired";
    case ErrorCode::Forbidden:
      return "forbidden";
    case ErrorCode::NotFound:
      return "not_found";
    case ErrorCode::AlreadySubscribed:
      return "already_subscribed";
    case ErrorCode::NotSubscribed:
      return "not_subscribed";
    case ErrorCode::RateLimited:
      return "rate_limited";
    case ErrorCode::TooLarge:
      return "too_large";
    case ErrorCode::Unavailable:
      return "unavailable";
    case ErrorCode::LimitExceeded:
      return "limit_exceeded";
    case ErrorCode::Internal:
      return "internal";
  }
  return "internal";
}

std::optional<ErrorCode> errorCodeFromName(std::string_view name) {
  for (ErrorCode code : kAllErrorCodes) {
    if (errorCodeName(code) == name) return code;
  }
  return std::nullopt;
}

int httpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::BadRequest:
    case ErrorCode::UnknownCommand:
    // The subscription codes only arise over a WebSocket; the API has no subscriptions.
    case ErrorCode::AlreadySubscribed:
    case ErrorCode::NotSubscribed:
    // A bound of the request's shape (subscriptions, presence size), not a rate: 400, not 429.
    case ErrorCode::LimitExceeded:
      return 400;
    case ErrorCode::Unauthorized:
    case ErrorCode::TokenExpired:
      return 401;
    case ErrorCode::Forbidden:
      return 403;
    case ErrorCode::NotFound:
      return 404;
    case ErrorCode::TooLarge:
      return 413;
    case ErrorCode::RateLimited:
      return 429;
    case ErrorCode::Unavailable:
      return 503;
    case ErrorCode::Internal:
      return 500;
  }
  return 500;
}

}  // namespace duplex::hub
