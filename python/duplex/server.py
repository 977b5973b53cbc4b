"""``duplex.serve``: python-websockets' ``websockets.asyncio.server.serve`` over duplex's C++
server. ``handler`` is either a coroutine function ``handler(ws)`` (API 1: one coroutine per
connection, awaiting ``ws.recv()`` / ``ws.send()``) or a ``duplex.WebSocketHandler`` subclass
(API 2: ``on_open`` / ``on_message`` / ``on_close`` called straight from C++).
"""

from __future__ import annotations

import asyncio
import logging
import ssl as ssl_module

from . import _core
from ._driver import engine_for
from .connection import Connection
from .exceptions import ConnectionClosed
from .handler import WebSocketHandler
from .http import Headers, Request, Response

__all__ = ["serve", "Server", "ServerConnection", "broadcast", "server_ssl_context"]

logger = logging.getLogger("duplex.server")


class ServerConnection(Connection):
    """A connection accepted by ``serve()`` (API 1)."""

    request: Request | None = None
    server: "Server | None" = None

    def _on_close(self, code: int, reason: str) -> None:
        super()._on_close(code, reason)


def broadcast(connections, message) -> int:
    """Sends ``message`` to every open connection of ``connections`` (like python-websockets'
    ``broadcast``): the frame is built (and compressed) once in C++ and shared. Connections
    whose peer has a backlog over 1 MiB are skipped. Returns how many got it."""
    return _core.broadcast(connections, message)


def server_ssl_context(certfile: str, keyfile: str | None = None) -> ssl_module.SSLContext:
    """An ``ssl.SSLContext`` for ``serve(ssl=...)``. duplex serves TLS with OpenSSL in C++ and
    needs the files themselves, which a context made elsewhere does not reveal."""
    context = ssl_module.SSLContext(ssl_module.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    context._duplex_files = (certfile, keyfile or certfile)
    return context


def _tls_files(ssl) -> tuple[str, str]:
    if ssl is None:
        return ("", "")
    if isinstance(ssl, tuple) and len(ssl) == 2:
        return (str(ssl[0]), str(ssl[1]))
    files = getattr(ssl, "_duplex_files", None)
    if files:
        return files
    raise TypeError("duplex serves TLS from certificate files: pass "
                    "ssl=duplex.server_ssl_context(certfile, keyfile) or ssl=(certfile, keyfile)")


class _SocketInfo:
    """What ``server.sockets`` offers: ``getsockname()`` of each listening socket."""

    def __init__(self, host: str, port: int):
        self._name = (host, port)

    def getsockname(self):
        return self._name


class _HandshakeContext:
    """The first argument of ``process_request(connection, request)``: duplex decides before a
    connection object exists, so this stands in for it and offers ``respond()``."""

    def __init__(self, request: Request):
        self.request = request

    def respond(self, status, text: str = "") -> Response:
        return Response(int(status), body=text.encode())


class Server:
    """A running server: ``close()``, ``wait_closed()``, ``serve_forever()``, ``sockets``,
    ``publish(topic, message)``. Made by ``serve()``."""

    def __init__(self, handler, loop, settings, *, process_request=None, origins=None):
        self._loop = loop
        self._handler = handler
        self._engine = engine_for(loop)
        self._tasks: set[asyncio.Task] = set()
        self._closing = False
        self._closed = loop.create_future()
        self._process_request = process_request
        self._origins = list(origins) if origins is not None else None
        self._sockets: list[_SocketInfo] = []
        # Each server gets its own connection class, so `server` (and the handler) are class
        # attributes: nothing stored per connection for them.
        if isinstance(handler, type) and issubclass(handler, WebSocketHandler):
            settings.callbacks = True
            cls = type(handler.__name__, (handler,), {"server": self})
            opened = self._opened_callbacks
        else:
            if not callable(handler):
                raise TypeError("handler must be a coroutine function or a WebSocketHandler class")
            cls = type("ServerConnection", (ServerConnection,), {"server": self, "_loop": loop})
            opened = self._opened_coroutine
        accept = self._accept if (process_request is not None or origins is not None) else None
        self._core = _core.Server(self._engine, self._engine, cls, opened, accept, settings)

    # Called by C++.

    def _accept(self, path: str, headers: list) -> int:
        request = Request(path, Headers(headers))
        if self._origins is not None:
            origin = request.headers.get("Origin")
            if origin not in self._origins:
                return 403
        if self._process_request is not None:
            result = self._process_request(_HandshakeContext(request), request)
            if result is None:
                return 0
            if isinstance(result, int):
                return result
            return int(getattr(result, "status_code", 500))
        return 0

    def _opened_coroutine(self, connection, path, headers, subprotocol) -> None:
        connection.request = Request(path, Headers(headers))
        connection.subprotocol = subprotocol
        task = self._loop.create_task(self._run(connection))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _opened_callbacks(self, connection, path, headers, subprotocol) -> None:
        if subprotocol is not None:
            connection.subprotocol = subprotocol
        connection.on_open(Request(path, Headers(headers)))

    async def _run(self, connection: ServerConnection) -> None:
        try:
            await self._handler(connection)
        except ConnectionClosed:
            pass  # the peer left while the handler was talking to it
        except Exception as exc:
            logger.error("connection handler failed", exc_info=(type(exc), exc, exc.__traceback__))
            connection._close(1011, "internal error")
        else:
            connection._close(1000, "")
        await connection.wait_closed()

    # The server's API.

    @property
    def sockets(self) -> list:
        return list(self._sockets)

    @property
    def port(self) -> int:
        return self._core.port

    def publish(self, topic: str, message) -> int:
        """Sends ``message`` to every connection subscribed to ``topic`` (``ws.subscribe``): one
        frame built in C++ and shared by all. Returns how many got it."""
        return self._core.publish(topic, message)

    def is_serving(self) -> bool:
        return not self._closing

    def close(self, close_connections: bool = True) -> None:
        """Stops listening and closes every connection with 1001 (going away)."""
        if self._closing:
            return
        self._closing = True
        self._core.shutdown()

    async def wait_closed(self) -> None:
        """Waits until every connection is closed and every handler has returned."""
        while self._core.connection_count > 0:
            await asyncio.sleep(0.01)
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._core.release()
        if not self._closed.done():
            self._closed.set_result(None)

    async def serve_forever(self) -> None:
        """Serves until cancelled (Ctrl-C under ``asyncio.run``), then closes every connection
        with 1001 and waits for them."""
        try:
            await asyncio.shield(self._closed)
        except asyncio.CancelledError:
            self.close()
            await self.wait_closed()
            raise

    async def start_serving(self) -> None:
        pass

    async def __aenter__(self) -> "Server":
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()
        await self.wait_closed()


def _idle_timeout(ping_interval, ping_timeout) -> tuple[int, bool]:
    # duplex pings a connection silent for `ping_interval` seconds and closes it if it stays
    # silent as long again: one deadline per connection instead of a ping timer each.
    if ping_interval is None:
        return (0, False)
    return (max(1, round(ping_interval)), True)


def _max_queue(max_queue) -> int:
    # python-websockets takes a number or a (high, low) pair; duplex resumes at a quarter.
    if max_queue is None:
        return 0
    return int(max_queue[0] if isinstance(max_queue, tuple) else max_queue)


class serve:
    """Starts a WebSocket server: ``async with duplex.serve(handler, host, port) as server:``
    or ``server = await duplex.serve(...)``.

    Arguments as python-websockets' ``serve``: ``ssl`` (``server_ssl_context(...)`` or a
    ``(certfile, keyfile)`` pair), ``compression`` ("deflate" or None), ``max_size`` (None: no
    limit), ``ping_interval``/``ping_timeout``, ``close_timeout``, ``open_timeout``, ``origins``,
    ``process_request`` (called before the upgrade: return None to accept, or a status / a
    Response to refuse), ``subprotocols``, ``write_limit``.
    """

    def __init__(self, handler, host=None, port=None, *, ssl=None, compression="deflate",
                 max_size=2**20, ping_interval=20, ping_timeout=20, close_timeout=10,
                 open_timeout=10, origins=None, process_request=None, subprotocols=None,
                 write_limit=2**15, max_queue=16, logger=None, server_header=None,
                 **kwargs):
        # logger and server_header are accepted for python-websockets' sake and
        # have no effect (docs/python.md says why); anything else unknown is a mistake.
        if kwargs:
            raise TypeError(f"serve() got unsupported arguments: {', '.join(sorted(kwargs))}")
        if compression not in ("deflate", None):
            raise ValueError(f"unsupported compression: {compression}")
        self._handler = handler
        self._host = host if host not in (None, "") else "0.0.0.0"
        self._port = 0 if port is None else int(port)
        self._tls = _tls_files(ssl)
        settings = _core.ServerSettings()
        settings.compression = compression == "deflate"
        settings.max_message_size = 2**63 if max_size is None else int(max_size)
        settings.idle_timeout, settings.auto_ping = _idle_timeout(ping_interval, ping_timeout)
        settings.close_timeout = max(1, round(close_timeout or 1))
        settings.handshake_timeout = max(1, round(open_timeout or 10))
        settings.write_limit = write_limit if isinstance(write_limit, int) else write_limit[0]
        settings.max_backpressure = max(4 << 20, settings.write_limit * 4)
        settings.max_queue = _max_queue(max_queue)
        if subprotocols:
            settings.subprotocols = list(subprotocols)
        self._settings = settings
        self._process_request = process_request
        self._origins = origins
        self.server: Server | None = None

    async def _start(self) -> Server:
        loop = asyncio.get_running_loop()
        server = Server(self._handler, loop, self._settings,
                        process_request=self._process_request, origins=self._origins)
        server._core.listen(self._host, self._port, *self._tls)
        server._sockets.append(_SocketInfo(self._host, server._core.port))
        self.server = server
        return server

    def __await__(self):
        return self._start().__await__()

    async def __aenter__(self) -> Server:
        return await self._start()

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        await self.server.wait_closed()
