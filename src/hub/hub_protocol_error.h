#pragma once
// The hub protocol's errors as values (docs/protocol.md, "Error codes"): a stable code a client
// can switch on, and a message for humans. Shared by the command parser, the JWT verifier, the
// namespace rules and the server API, which answers with the code's HTTP status.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hub/result.h"

namespace duplex::hub {

enum class ErrorCode : uint8_t {
  BadRequest,         // malformed command: missing or wrong-typed field, not an object, binary
  UnknownCommand,     // the method is not one the protocol has
  Unauthorized,       // token required and missing, malformed, wrongly signed
  TokenExpired,       // the token was valid but has expired
  Forbidden,          // the token or the namespace's options do not allow this
  NotFound,           // the channel's namespace is not configured
  AlreadySubscribed,  // subscribe twice
  NotSubscribed,      // unsubscribe or publish on a channel not subscribed
  RateLimited,        // too many commands
  TooLarge,           // data larger than the namespace allows
  Unavailable,        // storage cannot write now; nothing was stored
  LimitExceeded,      // too many subscriptions, or presence is full
  Internal,           // a bug
};

inline constexpr std::array kAllErrorCodes = {
    ErrorCode::BadRequest,        ErrorCode::UnknownCommand, ErrorCode::Unauthorized,
    ErrorCode::TokenExpired,      ErrorCode::Forbidden,      ErrorCode::NotFound,
    ErrorCode::AlreadySubscribed, ErrorCode::NotSubscribed,  ErrorCode::RateLimited,
    ErrorCode::TooLarge,          ErrorCode::Unavailable,    ErrorCode::LimitExceeded,
    ErrorCode::Internal,
};

// The wire name: "bad_request", "unknown_command", ... (stable: clients switch on it).
std::string_view errorCodeName(ErrorCode code);
// The inverse, for clients and tests; nullopt for a name the protocol does not have.
std::optional<ErrorCode> errorCodeFromName(std::string_view name);
// The status the HTTP server API answers with: 400, 401, 403, 404, 413, 429, 503 or 500.
int httpStatus(ErrorCode code);

// Close codes of the `disconnect` push (docs/protocol.md, "Pushes"); 4000-4999 is the range
// RFC 6455 7.4.2 leaves to applications.
enum class DisconnectCode : uint16_t {
  ShuttingDown = 1001,  // reconnect with backoff
  Unauthorized = 4001,  // do not reconnect
  TokenExpired = 4002,  // reconnect after refreshing the token
  Disconnected = 4003,  // ended by the server API; do not reconnect
  TooSlow = 4008,       // reconnect and recover
  // The node lost publications of a subscribed channel it cannot replay (cut off from Redis
  // while they were trimmed): reconnect and resubscribe with `since` (docs/protocol.md).
  MissedPublications = 4009,
};

struct HubError {
  ErrorCode code = ErrorCode::Internal;
  std::string message;
};

template <class T>
using HubResult = Result<T, HubError>;

}  // namespace duplex::hub
