"""API 2, the fast path: a Tornado-style handler class whose methods C++ calls directly.

    class Echo(duplex.WebSocketHandler):
        def on_message(self, message):
            self.send(message)

    async with duplex.serve(Echo, "127.0.0.1", 8765) as server:
        await server.serve_forever()

No Task, Future or coroutine is made per message: a message calls ``on_message`` from the C++
loop, and ``send`` queues the frame at once (it leaves, corked, at the end of the iteration).
"""

from __future__ import annotations

from . import _core
from .http import parse_address

__all__ = ["WebSocketHandler"]


class WebSocketHandler(_core.Connection):
    """Subclass it and override the ``on_*`` methods. Available: ``self.send(message)`` (returns
    False if the connection is not open), ``self.close(code=1000, reason="")``,
    ``self.subscribe(topic)`` / ``self.unsubscribe(topic)``, ``self.server.publish(topic,
    message)``, ``self.buffered_amount``, ``self.remote_address``, ``self.subprotocol``,
    ``self.close_code`` / ``self.close_reason`` once closed."""

    server = None  # the duplex.Server (set per server)
    subprotocol = None

    def on_open(self, request) -> None:
        """The connection is open; ``request.path`` and ``request.headers`` describe the
        upgrade request (keep what you need: the request is not stored)."""

    def on_message(self, message) -> None:
        """A message arrived: ``str`` for text, ``bytes`` for binary."""

    def on_close(self, code: int, reason: str) -> None:
        """The connection ended: the peer's close code (1006 if TCP just ended)."""

    def on_pong(self, data: bytes) -> None:
        """A pong arrived."""

    def write_message(self, message, binary: bool = False) -> bool:
        """Tornado's name for send()."""
        if binary and isinstance(message, str):
            message = message.encode()
        return self.send(message)

    def ping(self, data: bytes = b"") -> bool:
        return self._ping(bytes(data))

    def publish(self, topic: str, message) -> int:
        """The same as ``self.server.publish(topic, message)``."""
        return self.server.publish(topic, message)

    @property
    def remote_address(self):
        return parse_address(self._remote_address)

    @property
    def close_code(self):
        code = self._close_code
        return None if code < 0 else code

    @property
    def close_reason(self):
        return self._close_reason if self._is_closed else None

    def _on_close(self, code: int, reason: str) -> None:
        self.on_close(code, reason)

    def _on_pong(self, payload: bytes) -> None:
        self.on_pong(payload)
