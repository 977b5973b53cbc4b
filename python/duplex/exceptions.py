"""duplex's exceptions, named and shaped like python-websockets' (``websockets.exceptions``).

``ConnectionClosed`` carries the close code and reason; ``ConnectionClosedOK`` is a normal end
(1000, 1001, or no status), ``ConnectionClosedError`` anything else (1006 when TCP just ended).
"""

from __future__ import annotations

__all__ = [
    "WebSocketException",
    "ConnectionClosed",
    "ConnectionClosedOK",
    "ConnectionClosedError",
    "InvalidURI",
    "InvalidHandshake",
    "InvalidStatus",
    "InvalidMessage",
    "HandshakeConnectionLost",
    "ConcurrencyError",
]

OK_CLOSE_CODES = frozenset({1000, 1001, 1005})


class WebSocketException(Exception):
    """Base class of duplex's exceptions."""


class Close:
    """A close frame's content: ``code`` and ``reason`` (like ``websockets.frames.Close``)."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str = ""):
        self.code = code
        self.reason = reason

    def __repr__(self) -> str:
        return f"Close(code={self.code}, reason={self.reason!r})"


class ConnectionClosed(WebSocketException):
    """The connection is closed; ``code`` and ``reason`` say how it ended."""

    def __init__(self, code: int, reason: str = ""):
        self.code = code
        self.reason = reason
        # python-websockets 13 names the frames received and sent; duplex knows the outcome.
        self.rcvd = Close(code, reason) if code not in (1005, 1006) else None
        self.sent = self.rcvd
        self.rcvd_then_sent = None
        super().__init__(code, reason)

    def __str__(self) -> str:
        text = f"{self.code}"
        if self.reason:
            text += f" ({self.reason})"
        return f"connection closed: {text}"


class ConnectionClosedOK(ConnectionClosed):
    """The connection ended normally (1000 or 1001)."""


class ConnectionClosedError(ConnectionClosed):
    """The connection ended with an error code, or without a closing handshake (1006)."""


def closed_exception(code: int, reason: str) -> ConnectionClosed:
    cls = ConnectionClosedOK if code in OK_CLOSE_CODES else ConnectionClosedError
    return cls(code, reason)


class InvalidURI(WebSocketException):
    """The URI is not a valid ws:// or wss:// URI."""

    def __init__(self, uri: str, msg: str):
        self.uri = uri
        self.msg = msg
        super().__init__(uri, msg)

    def __str__(self) -> str:
        return f"{self.uri} isn't a valid URI: {self.msg}"


class InvalidHandshake(WebSocketException):
    """The opening handshake failed (the server's answer was not a valid upgrade)."""


class InvalidMessage(InvalidHandshake):
    """The server's answer to the upgrade request was not a valid HTTP response."""


class HandshakeConnectionLost(InvalidMessage, ConnectionError):
    """TCP ended before the handshake did (a refused connection reads this way too): both an
    InvalidHandshake and an OSError, so reconnect loops retry it either way."""


class _Response:
    """What is known of a refused handshake's response."""

    def __init__(self, status_code: int):
        self.status_code = status_code
        self.reason_phrase = ""
        self.headers = None
        self.body = b""


class InvalidStatus(InvalidHandshake):
    """The server answered with an HTTP status other than 101; ``response.status_code``."""

    def __init__(self, status_code: int):
        self.response = _Response(status_code)
        super().__init__(status_code)

    def __str__(self) -> str:
        return f"server rejected WebSocket connection: HTTP {self.response.status_code}"


class ConcurrencyError(WebSocketException, RuntimeError):
    """Two coroutines called recv() on one connection at once."""
