"""The hub's errors as exception classes, one per stable code of docs/protocol.md ("Error
codes"; src/hub/hub_protocol_error.h), shared by ``duplex.hub.Client`` and ``duplex.hub.Api``.

Catch a class (``except duplex.hub.RateLimitedError``) or switch on ``error.code``; ``message``
is the hub's words, for people. Three more codes are the client's own, like web/duplex.js's:
``disconnected`` (the connection dropped before the reply), ``closed`` (``Client.close()`` was
called) and ``timeout`` (no reply in time).
"""

from __future__ import annotations

__all__ = [
    "HubError",
    "BadRequestError",
    "UnknownCommandError",
    "UnauthorizedError",
    "TokenExpiredError",
    "ForbiddenError",
    "NotFoundError",
    "AlreadySubscribedError",
    "NotSubscribedError",
    "RateLimitedError",
    "TooLargeError",
    "UnavailableError",
    "LimitExceededError",
    "InternalError",
    "MethodNotAllowedError",
    "DisconnectedError",
    "ClientClosedError",
    "HubTimeoutError",
    "error_from",
]


class HubError(Exception):
    """An error answer of the hub (or a local failure): ``code`` is stable, ``message`` is not.
    ``status`` is the HTTP status when the server API answered it, else None."""

    code = "internal"

    def __init__(self, message: str = "", code: str | None = None, status: int | None = None):
        if code is not None:
            self.code = code
        self.message = message
        self.status = status
        super().__init__(f"{self.code}: {message}" if message else self.code)


class BadRequestError(HubError):
    """A malformed command: a missing or wrong-typed field, or data the server's rules refuse."""
    code = "bad_request"


class UnknownCommandError(HubError):
    code = "unknown_command"


class UnauthorizedError(HubError):
    """A token is required and missing, malformed or wrongly signed (or the API key is wrong)."""
    code = "unauthorized"


class TokenExpiredError(UnauthorizedError):
    """The token was valid but expired: refresh it (``Client(get_token=...)`` does)."""
    code = "token_expired"


class ForbiddenError(HubError):
    code = "forbidden"


class NotFoundError(HubError):
    """The channel's namespace is not configured (or, from the API, no such endpoint)."""
    code = "not_found"


class AlreadySubscribedError(HubError):
    code = "already_subscribed"


class NotSubscribedError(HubError):
    code = "not_subscribed"


class RateLimitedError(HubError):
    """Too many commands or publishes; try again later."""
    code = "rate_limited"


class TooLargeError(HubError):
    code = "too_large"


class UnavailableError(HubError):
    """Storage cannot write now and nothing was stored: retry later with the same key."""
    code = "unavailable"


class LimitExceededError(HubError):
    code = "limit_exceeded"


class InternalError(HubError):
    code = "internal"


class MethodNotAllowedError(HubError):
    """Only from the server API: the endpoint wants POST."""
    code = "method_not_allowed"


class DisconnectedError(HubError):
    """The connection dropped (or the server API ended the client's connections, close 4003)
    before the reply came."""
    code = "disconnected"


class ClientClosedError(HubError):
    code = "closed"


class HubTimeoutError(HubError, TimeoutError):
    code = "timeout"


_BY_CODE = {cls.code: cls for cls in (
    BadRequestError, UnknownCommandError, UnauthorizedError, TokenExpiredError, ForbiddenError,
    NotFoundError, AlreadySubscribedError, NotSubscribedError, RateLimitedError, TooLargeError,
    UnavailableError, LimitExceededError, InternalError, MethodNotAllowedError,
    DisconnectedError, ClientClosedError, HubTimeoutError)}


def error_from(code: str, message: str = "", status: int | None = None) -> HubError:
    """The exception for a code; a code this version does not know gives a plain HubError
    carrying it, so a newer hub's codes still reach the caller."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return HubError(message, code=str(code), status=status)
    return cls(message, status=status)
