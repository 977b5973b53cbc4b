"""duplex for Python: WebSocket servers and clients over duplex's C++ engine, with the asyncio API
of python-websockets (``serve``, ``connect``, ``recv``, ``send``) and a Tornado-style handler
class (``WebSocketHandler``) for the fast path. The protocol (framing, UTF-8, permessage-deflate,
limits, the closing handshake) is all done in C++; see docs/python.md.
"""

from . import exceptions
from .client import ClientConnection, connect
from .exceptions import (
    ConcurrencyError,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
    WebSocketException,
)
from .handler import WebSocketHandler
from .http import Headers, Request, Response
from .server import Server, ServerConnection, broadcast, serve, server_ssl_context

__version__ = "0.1.0"

__all__ = [
    "serve",
    "connect",
    "broadcast",
    "server_ssl_context",
    "Server",
    "ServerConnection",
    "ClientConnection",
    "WebSocketHandler",
    "Request",
    "Response",
    "Headers",
    "exceptions",
    "WebSocketException",
    "ConnectionClosed",
    "ConnectionClosedOK",
    "ConnectionClosedError",
    "InvalidURI",
    "InvalidHandshake",
    "InvalidStatus",
    "ConcurrencyError",
]
