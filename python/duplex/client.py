"""``duplex.connect``: python-websockets' ``websockets.asyncio.client.connect`` over duplex's C++
client. Await it, use it as an async context manager, or iterate it to reconnect with backoff:

    async for ws in duplex.connect("ws://127.0.0.1:8765"):
        try:
            async for message in ws:
                ...
        except duplex.ConnectionClosed:
            continue
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import ssl as ssl_module
import tempfile

from . import _core
from ._driver import engine_for
from .connection import Connection
from .server import _max_queue
from .exceptions import HandshakeConnectionLost, InvalidHandshake, InvalidStatus, InvalidURI

__all__ = ["connect", "ClientConnection"]

_STATUS = re.compile(r"expected status 101, got (\d+)")


class ClientConnection(Connection):
    """A connection made by ``connect()``."""

    _connecting: asyncio.Future | None = None

    def _on_connect(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.set_result(None)

    def _on_connect_error(self, message: str) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.set_exception(_connect_error(message))


def _connect_error(message: str) -> Exception:
    status = _STATUS.search(message)
    if status:
        return InvalidStatus(int(status.group(1)))
    lowered = message.lower()
    if "refused" in lowered:
        return ConnectionRefusedError(message)
    if "certificate" in lowered or "tls" in lowered or "ssl" in lowered:
        return ssl_module.SSLError(message)
    if lowered.startswith(("cannot connect", "connection failed", "cannot resolve", "socket")):
        return OSError(message)
    if "closed during the handshake" in lowered:
        return HandshakeConnectionLost(message)
    if "timed out" in lowered:
        return TimeoutError(message)
    return InvalidHandshake(message)


def _retryable(exc: Exception) -> bool:
    # As python-websockets: network errors and 5xx answers are worth retrying, the rest not.
    if isinstance(exc, InvalidStatus):
        return exc.response.status_code >= 500
    return isinstance(exc, (OSError, TimeoutError, asyncio.TimeoutError, InvalidHandshake))


class connect:
    """Opens a client connection: ``ws = await duplex.connect(uri)``, ``async with
    duplex.connect(uri) as ws``, or ``async for ws in duplex.connect(uri)`` (reconnects).

    ``ssl``: an ``ssl.SSLContext`` (its verify mode and CA certificates are used), True, or None
    (wss:// verifies with the system's CAs); ``server_hostname``; ``compression`` ("deflate" or
    None); ``additional_headers``; ``subprotocols``; ``origin``; ``open_timeout``;
    ``ping_interval``; ``close_timeout``; ``max_size``; ``write_limit``.
    """

    BACKOFF_INITIAL_DELAY = 5.0
    BACKOFF_MIN_DELAY = 3.1
    BACKOFF_MAX_DELAY = 90.0
    BACKOFF_FACTOR = 1.618

    def __init__(self, uri: str, *, ssl=None, server_hostname=None, compression="deflate",
                 additional_headers=None, subprotocols=None, origin=None, open_timeout=10,
                 ping_interval=20, ping_timeout=20, close_timeout=10, max_size=2**20,
                 write_limit=2**15, max_queue=16, user_agent_header=None, logger=None,
                 **kwargs):
        if kwargs:
            raise TypeError(f"connect() got unsupported arguments: {', '.join(sorted(kwargs))}")
        if compression not in ("deflate", None):
            raise ValueError(f"unsupported compression: {compression}")
        if not isinstance(uri, str) or not re.match(r"^wss?://", uri, re.IGNORECASE):
            raise InvalidURI(str(uri), "scheme isn't ws or wss")
        self.uri = uri
        self._ssl = ssl
        self._open_timeout = open_timeout
        settings = _core.ClientSettings()
        settings.compression = compression == "deflate"
        settings.max_message_size = 2**63 if max_size is None else int(max_size)
        settings.handshake_timeout = max(1, round(open_timeout or 10))
        settings.close_timeout = max(1, round(close_timeout or 1))
        if ping_interval is None:
            settings.idle_timeout, settings.auto_ping = 0, False
        else:
            settings.idle_timeout, settings.auto_ping = max(1, round(ping_interval)), True
        settings.write_limit = write_limit if isinstance(write_limit, int) else write_limit[0]
        settings.max_queue = _max_queue(max_queue)
        if subprotocols:
            settings.subprotocols = list(subprotocols)
        headers = []
        if additional_headers:
            items = additional_headers.items() if hasattr(additional_headers, "items") else additional_headers
            headers = [(str(k), str(v)) for k, v in items]
        if user_agent_header:
            headers.append(("User-Agent", user_agent_header))
        settings.headers = headers
        if origin:
            settings.origin = str(origin)
        if server_hostname:
            settings.server_name = server_hostname
        self._settings = settings
        self.connection: ClientConnection | None = None

    async def _connect(self) -> ClientConnection:
        loop = asyncio.get_running_loop()
        engine = engine_for(loop)
        connection = ClientConnection()
        connection._loop = loop
        connection._connecting = loop.create_future()
        ca_file = None
        try:
            ca_file = self._apply_ssl()
            try:
                _core.connect(engine, engine, self.uri, connection, self._settings)
            except ValueError as exc:
                raise InvalidURI(self.uri, str(exc)) from None
        finally:
            if ca_file:
                os.unlink(ca_file)
        try:
            if self._open_timeout is None:
                await connection._connecting
            else:
                await asyncio.wait_for(connection._connecting, self._open_timeout)
        except BaseException:
            connection._abort()
            raise
        connection._connecting = None
        return connection

    def _apply_ssl(self) -> str | None:
        """Carries an SSLContext's verification settings over to the C++ client; returns the
        temporary CA file it wrote, if any."""
        context = self._ssl
        settings = self._settings
        if not isinstance(context, ssl_module.SSLContext):
            return None
        settings.tls_verify = context.verify_mode != ssl_module.CERT_NONE
        cas = context.get_ca_certs(binary_form=True)
        if not cas or not settings.tls_verify:
            return None
        handle, path = tempfile.mkstemp(prefix="duplex-ca-", suffix=".pem")
        with os.fdopen(handle, "w") as f:
            for der in cas:
                f.write(ssl_module.DER_cert_to_PEM_cert(der))
        settings.ca_file = path
        return path

    def __await__(self):
        return self._connect().__await__()

    async def __aenter__(self) -> ClientConnection:
        self.connection = await self._connect()
        return self.connection

    async def __aexit__(self, *exc) -> None:
        await self.connection.close()

    async def __aiter__(self):
        delays = None
        while True:
            try:
                async with self as connection:
                    yield connection
            except Exception as exc:
                if not _retryable(exc):
                    raise
                if delays is None:
                    delays = self._backoff()
                    delay = random.random() * self.BACKOFF_INITIAL_DELAY
                else:
                    delay = next(delays)
                await asyncio.sleep(delay)
                continue
            else:
                delays = None

    def _backoff(self):
        delay = self.BACKOFF_MIN_DELAY
        while delay < self.BACKOFF_MAX_DELAY:
            yield delay
            delay *= self.BACKOFF_FACTOR
        while True:
            yield self.BACKOFF_MAX_DELAY
