"""API 1's connection: the coroutine methods of python-websockets' ``websockets.asyncio``
connection (recv, send, iteration, close, ping, wait_closed) over duplex._core.Connection.

A message resolves the future that ``recv()`` awaits straight from C++, or waits in the C++ inbox
until the next ``recv()``; ``send()`` queues the frame in C++ and returns at once unless the
connection's queue is above ``write_limit`` (then it waits until the peer has read most of it).
"""

from __future__ import annotations

import asyncio
import os
import uuid

from . import _core
from .exceptions import ConcurrencyError, ConnectionClosed, ConnectionClosedOK, closed_exception
from .http import parse_address

_EMPTY = _core.EMPTY
_CLOSED = _core.CLOSED
_NOT_OPEN = _core.NOT_OPEN


class Connection(_core.Connection):
    """A WebSocket connection with the asyncio API of python-websockets."""

    # Class-level defaults: an idle connection's instance dict holds only what it set.
    _loop: asyncio.AbstractEventLoop | None = None  # per server class, or per client
    _recv_future = None
    _closed_future = None
    _pings: dict[bytes, tuple[asyncio.Future, float]] | None = None
    _id = None
    _remote = None
    subprotocol: str | None = None

    # Receiving.

    async def recv(self):
        """The next message: ``str`` for text, ``bytes`` for binary. Raises ConnectionClosed
        once the connection is closed and every message received before was returned."""
        message = self._pop()
        if message is _EMPTY:
            if self._is_closed:
                raise self._closed_error()
            if self._recv_future is not None:
                raise ConcurrencyError("cannot call recv while another coroutine is waiting")
            future = self._recv_future = self._loop.create_future()
            self._set_waiter(future)
            try:
                message = await future
            except asyncio.CancelledError:
                self._set_waiter(None)
                raise
            finally:
                self._recv_future = None
            if message is _CLOSED:
                raise self._closed_error()
        return message

    async def __aiter__(self):
        """Messages until the connection closes normally; ConnectionClosedError otherwise."""
        try:
            while True:
                yield await self.recv()
        except ConnectionClosedOK:
            return

    # Sending.

    async def send(self, message) -> None:
        """Sends ``str`` as text, bytes-like as binary, or an iterable of those as one
        fragmented message. Raises ConnectionClosed when the connection is closed."""
        result = self._send(message) if isinstance(message, (str, bytes)) else self._send_other(message)
        if result:
            if result == _NOT_OPEN:
                raise await self._closed_exception()
            future = self._loop.create_future()
            self._wait_drain(future)
            try:
                await future
            except asyncio.CancelledError:
                self._wait_drain(None)
                raise

    def _send_other(self, message):
        if isinstance(message, (bytearray, memoryview)):
            return self._send(message)
        if isinstance(message, dict) or not hasattr(message, "__iter__"):
            raise TypeError(f"data must be str, bytes-like or iterable, not {type(message).__name__}")
        # An iterable of fragments: duplex sends it as one message (the C++ core frames it).
        fragments = list(message)
        if not fragments:
            return _core.QUEUED
        if all(isinstance(f, str) for f in fragments):
            return self._send("".join(fragments))
        if all(isinstance(f, (bytes, bytearray, memoryview)) for f in fragments):
            return self._send(b"".join(fragments))
        raise TypeError("fragments must all be str or all be bytes-like")

    # Closing.

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Runs the closing handshake and waits for the connection to end."""
        self._close(code, reason)
        await self.wait_closed()

    async def wait_closed(self) -> None:
        if self._is_closed:
            return
        if self._closed_future is None:
            self._closed_future = self._loop.create_future()
        await asyncio.shield(self._closed_future)

    def _on_close(self, code: int, reason: str) -> None:
        if self._closed_future is not None and not self._closed_future.done():
            self._closed_future.set_result(None)
        if self._pings:
            error = self._closed_error()
            for future, _ in self._pings.values():
                if not future.done():
                    future.set_exception(error)
                    future.exception()  # retrieved: nobody may be awaiting it
            self._pings.clear()

    def _closed_error(self) -> ConnectionClosed:
        return closed_exception(self._close_code, self._close_reason)

    async def _closed_exception(self) -> ConnectionClosed:
        # Closing but not closed yet: the code is known once the handshake ends.
        if not self._is_closed:
            await self.wait_closed()
        return self._closed_error()

    # Ping and pong.

    async def ping(self, data=None) -> asyncio.Future:
        """Sends a ping; returns a future that resolves (to the latency in seconds) when the
        matching pong arrives."""
        if data is None:
            data = os.urandom(4)
            while self._pings and data in self._pings:
                data = os.urandom(4)
        elif isinstance(data, str):
            data = data.encode()
        else:
            data = bytes(data)
        if self._pings is None:
            self._pings = {}
        if data in self._pings:
            raise ConcurrencyError("already waiting for a pong with the same data")
        if not self._ping(data):
            raise await self._closed_exception()
        future = self._loop.create_future()
        self._pings[data] = (future, self._loop.time())
        return future

    async def pong(self, data=b"") -> None:
        """Unsolicited pongs are not sent by duplex; pings are answered automatically."""
        if self._is_closed:
            raise self._closed_error()

    def _on_pong(self, payload: bytes) -> None:
        if not self._pings or payload not in self._pings:
            return
        now = self._loop.time()
        # A pong acknowledges its ping and every ping sent before it (RFC 6455 5.5.3).
        for data in list(self._pings):
            future, sent = self._pings.pop(data)
            if not future.done():
                future.set_result(now - sent)
            if data == payload:
                break

    # Information.

    @property
    def id(self) -> uuid.UUID:
        if self._id is None:
            self._id = uuid.uuid4()
        return self._id

    @property
    def remote_address(self):
        if self._remote is None:
            self._remote = parse_address(self._remote_address)
        return self._remote

    @property
    def close_code(self) -> int | None:
        code = self._close_code
        return None if code < 0 else code

    @property
    def close_reason(self) -> str | None:
        return self._close_reason if self._is_closed else None

    @property
    def state(self) -> int:
        """0 connecting, 1 open, 2 closing, 3 closed (``websockets.protocol.State`` values)."""
        if self._is_closed:
            return 3
        return 1 if self._is_open else 2

    @property
    def write_limit(self) -> int:
        return self._write_limit

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.remote_address} state={self.state}>"
