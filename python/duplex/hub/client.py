"""``duplex.hub.Client``: web/duplex.js for Python, on asyncio over ``duplex.connect``.

What it promises the application, as duplex.js does: publications reach a subscription in
offset order, each once; after a reconnect every channel is resubscribed from the last offset
and epoch seen, and when the hub cannot recover (history trimmed, epoch changed) the
subscription says so (``RecoveryFailed``) instead of silently missing messages; a publish is
acknowledged once and stored once however often the connection drops before its
acknowledgement, because its idempotency key travels with every retry.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import random

from ..client import connect as ws_connect
from ..exceptions import ConnectionClosed, InvalidURI
from .errors import (ClientClosedError, DisconnectedError, HubError, HubTimeoutError,
                     TokenExpiredError, UnauthorizedError, NotSubscribedError,
                     AlreadySubscribedError, UnavailableError, error_from)
from .subscription import Publication, Subscription, call_soon

__all__ = ["Client"]

logger = logging.getLogger("duplex.hub")

# Close codes after which reconnecting cannot help (docs/protocol.md, "Pushes").
_UNAUTHORIZED_CLOSE = 4001
_TOKEN_EXPIRED_CLOSE = 4002
_DISCONNECTED_CLOSE = 4003


def backoff_delay(attempt: int, min_delay: float, max_delay: float, rand=random.random) -> float:
    """Seconds to wait before reconnect attempt ``attempt`` (0 first): uniformly random in the
    upper half of a window that doubles from ``min_delay`` up to ``max_delay``, so a crowd of
    clients that lost the same server does not come back in lockstep."""
    cap = min(max_delay, min_delay * 2 ** min(attempt, 30))
    return cap / 2 + rand() * cap / 2


class _Outgoing:
    """A publish not yet acknowledged: resent, with its key, after every reconnect."""

    __slots__ = ("channel", "data", "key", "future")

    def __init__(self, channel, data, key, future):
        self.channel, self.data, self.key, self.future = channel, data, key, future
        # Retrieved here, so a publish whose caller went away logs no "never retrieved".
        future.add_done_callback(lambda f: f.cancelled() or f.exception())


class Client:
    """A client of duplexd's hub (docs/protocol.md).

    ``url``: ``ws[s]://HOST:PORT/connection``. ``token``: a JWT, or None. ``get_token``: a
    function (plain or async) returning a fresh token; it is called when there is no token yet
    and whenever the hub says the token expired, and the client then reconnects with the new
    one. ``min_delay`` / ``max_delay``: the reconnect backoff window in seconds (jittered);
    ``timeout``: seconds to wait for replies to subscribe, history, presence and ping;
    ``client_id``: the prefix of idempotency keys (random by default); ``connect_options``:
    keyword arguments for ``duplex.connect`` (``ssl``, ``origin``, ...).

        async with duplex.hub.Client(url, token=jwt) as hub:
            sub = await hub.subscribe("talk:main", last=50)
            await hub.publish("talk:main", {"text": "hi"})
            async for item in sub:
                ...
    """

    def __init__(self, url: str, token: str | None = None, get_token=None, *,
                 min_delay: float = 0.2, max_delay: float = 10.0, timeout: float = 10.0,
                 client_id: str | None = None, connect_options: dict | None = None):
        self.url = url
        self.token = token
        self.get_token = get_token
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.timeout = timeout
        self.client_id = client_id or os.urandom(8).hex()
        self.connect_options = dict(connect_options or {})
        self.state = "disconnected"  # disconnected | connecting | connected | closed
        self.info: dict | None = None  # the connect result: client, user, expires
        self._token_stale = token is None and get_token is not None
        self._ws = None
        self._runner: asyncio.Task | None = None
        self._next_id = 1
        self._key_counter = 0
        self._inflight: dict[int, asyncio.Future] = {}
        self._outbox: dict[str, _Outgoing] = {}  # in publish order
        self._subs: dict[str, Subscription] = {}
        self._waiters: list[asyncio.Future] = []
        self._listeners: dict[str, list] = {}
        self._close_info: tuple[int, str] | None = None
        self._send_lock: asyncio.Lock | None = None
        self._tasks: set[asyncio.Task] = set()
        self.reconnects = 0  # connections made after the first: for tests and metrics

    # ---- events ----------------------------------------------------------------------------

    def on(self, event: str, fn):
        """Calls ``fn(value)`` on: ``state`` (the new state), ``connect`` (the connect result),
        ``disconnect`` ((code, reason)), ``publication`` (every Publication, personal channels
        too), ``join`` / ``leave`` (dicts with channel, client, user), ``recovery_failed``
        (RecoveryFailed), ``error`` (HubError). Returns a function that removes it."""
        self._listeners.setdefault(event, []).append(fn)
        return lambda: self._listeners.get(event, []).remove(fn)

    def _emit(self, event: str, value) -> None:
        for fn in list(self._listeners.get(event, ())):
            call_soon(fn, value)

    def _set_state(self, state: str) -> None:
        if self.state != state:
            self.state = state
            self._emit("state", state)

    # ---- lifecycle ---------------------------------------------------------------------------

    async def connect(self) -> dict:
        """Returns the connect result once connected. Raises the hub's error when it refuses the
        token (no retry can help) or ``ClientClosedError`` when ``close()`` comes first; a
        server that is down is retried with backoff, without end."""
        if self.state == "connected":
            return self.info
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append(waiter)
        if self._runner is None or self._runner.done():
            self._set_state("connecting")
            self._send_lock = asyncio.Lock()
            self._runner = loop.create_task(self._run())
        return await waiter

    async def close(self) -> None:
        """Closes the connection for good: pending publishes and subscriptions end with
        ``ClientClosedError`` (subscription iterators simply end)."""
        self._set_state("closed")
        runner, self._runner = self._runner, None
        ws, self._ws = self._ws, None
        self._fail(ClientClosedError("the client was closed"), everything=True, final=None)
        if runner is not None and runner is not asyncio.current_task():
            runner.cancel()
            try:
                await runner
            except (asyncio.CancelledError, Exception):
                pass
        if ws is not None:
            await ws.close()

    async def __aenter__(self) -> "Client":
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def _token_now(self):
        if self._token_stale and self.get_token is not None:
            token = self.get_token()
            if inspect.isawaitable(token):
                token = await token
            self.token = token
            self._token_stale = False
        return self.token

    async def _run(self) -> None:
        attempt = 0
        first = True
        while self.state != "closed":
            self._set_state("connecting")
            try:
                token = await self._token_now()
            except Exception as exc:
                return self._refuse(UnauthorizedError(f"token refresh failed: {exc}"))
            try:
                ws = await ws_connect(self.url, **self.connect_options)
            except InvalidURI as exc:
                return self._refuse(HubError(str(exc), code="bad_request"))
            except Exception as exc:  # down, refused, 5xx, 503 over the limit: try again
                logger.debug("duplex.hub: cannot connect to %s: %s", self.url, exc)
                await self._sleep_backoff(attempt)
                attempt += 1
                continue
            if self.state == "closed":
                await ws.close()
                return
            self._ws = ws
            self._close_info = None
            reader = asyncio.get_running_loop().create_task(self._read(ws))
            try:
                info = await self._command({"connect": {"token": token} if token else {}},
                                           ws=ws)
            except DisconnectedError:
                pass  # the reader sees the close; reconnect below
            except (HubTimeoutError, UnavailableError):
                # No answer, or the hub could not ask its back end (docs/protocol.md,
                # Proxies): try again with backoff.
                await ws.close()
            except TokenExpiredError as exc:
                if self.get_token is None:
                    await ws.close()
                    return self._refuse(exc)
                self._token_stale = True
            except HubError as exc:
                await ws.close()
                return self._refuse(exc)
            else:
                if not first:
                    self.reconnects += 1
                first = False
                attempt = 0
                self.info = info
                self._set_state("connected")
                self._emit("connect", info)
                for waiter in self._waiters:
                    if not waiter.done():
                        waiter.set_result(info)
                self._waiters.clear()
                # Subscribes first, then the retried publishes, in publish order: the hub
                # answers in order, so recovered publications come before retried acks.
                for sub in list(self._subs.values()):
                    self._send_subscribe(sub)
                for entry in list(self._outbox.values()):
                    self._send_publish(entry)
            if self._ws is ws and self._token_stale:
                await ws.close()
            code, reason = await reader
            was_connected = self.state == "connected"
            if self._ws is ws:
                self._ws = None
            if self.state == "closed":
                return
            if was_connected:
                self._emit("disconnect", (code, reason))
            self._fail(DisconnectedError(f"connection closed ({code})"), everything=False,
                       final=None)
            for sub in self._subs.values():
                sub.pending, sub.buffer = True, []
            if code in (_UNAUTHORIZED_CLOSE, _DISCONNECTED_CLOSE):
                cls = UnauthorizedError if code == _UNAUTHORIZED_CLOSE else DisconnectedError
                return self._refuse(cls(reason or f"closed with {code}"))
            if code == _TOKEN_EXPIRED_CLOSE:
                if self.get_token is None:
                    return self._refuse(TokenExpiredError(reason or "token expired"))
                self._token_stale = True
            if self._token_stale:
                continue  # a fresh token, now: the server was fine
            await self._sleep_backoff(attempt)
            attempt += 1

    async def _sleep_backoff(self, attempt: int) -> None:
        self._set_state("disconnected")
        await asyncio.sleep(backoff_delay(attempt, self.min_delay, self.max_delay))

    def _refuse(self, error: HubError) -> None:
        """A refusal no retry can fix (bad token, disconnected by the server API): stop and tell
        every waiter, publisher and subscription."""
        self._set_state("closed")
        ws, self._ws = self._ws, None
        if ws is not None:
            self._spawn(ws.close())
        self._emit("error", error)
        self._fail(error, everything=True, final=error)

    def _fail(self, error: HubError, *, everything: bool, final) -> None:
        for future in self._inflight.values():
            if not future.done():
                future.set_exception(error)
                future.exception()
        self._inflight.clear()
        if not everything:
            return
        for entry in self._outbox.values():
            if not entry.future.done():
                entry.future.set_exception(error)
        self._outbox.clear()
        for sub in self._subs.values():
            sub.end(final)
        self._subs.clear()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(error)
        self._waiters.clear()

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- the wire ----------------------------------------------------------------------------

    async def _read(self, ws) -> tuple[int, str]:
        try:
            async for text in ws:
                if self._ws is not ws:
                    break
                self._on_message(text)
        except ConnectionClosed:
            pass
        except Exception:  # a bug here must not leave the client hanging
            logger.exception("duplex.hub: reading failed")
            await ws.close(1011)
        code, reason = self._close_info or (ws.close_code or 1006, ws.close_reason or "")
        if self._ws is ws:
            # Now, not when the runner gets to it: it may itself be waiting for a reply.
            self._fail(DisconnectedError(f"connection closed ({code})"), everything=False,
                       final=None)
        return code, reason

    def _on_message(self, text) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if "push" in message:
            return self._on_push(message["push"])
        future = self._inflight.pop(message.get("id"), None)
        error = message.get("error")
        if future is None:
            if error:
                self._emit("error", error_from(error.get("code", ""), error.get("message", "")))
            return
        if future.done():
            return
        if error:
            future.set_exception(error_from(error.get("code", ""), error.get("message", "")))
        else:
            future.set_result(message.get("result") or {})

    def _on_push(self, push: dict) -> None:
        if "disconnect" in push:
            d = push["disconnect"]
            self._close_info = (d.get("code", 1006), d.get("reason", ""))
            return
        channel = push.get("channel")
        sub = self._subs.get(channel)
        if "pub" in push:
            if sub is None:
                # A personal channel (#user) or one being unsubscribed: no order to keep.
                pub = push["pub"]
                self._emit("publication", Publication(channel, pub.get("offset", 0),
                                                      pub.get("data")))
            else:
                sub.push(push["pub"])
        elif "join" in push or "leave" in push:
            kind = "join" if "join" in push else "leave"
            event = {"channel": channel, **push[kind]}
            self._emit(kind, event)
            if sub is not None:
                call_soon(sub.on_join if kind == "join" else sub.on_leave, event)

    async def _command(self, body: dict, *, ws=None, timeout: bool = True) -> dict:
        """One command on the current connection; ``DisconnectedError`` if it drops first."""
        ws = ws or self._ws
        if ws is None or (self.state != "connected" and "connect" not in body):
            raise DisconnectedError("not connected")
        command_id = self._next_id
        self._next_id += 1
        future = asyncio.get_running_loop().create_future()
        self._inflight[command_id] = future
        try:
            async with self._send_lock:
                await ws.send(json.dumps({"id": command_id, **body}, separators=(",", ":")))
        except ConnectionClosed:
            self._inflight.pop(command_id, None)
            raise DisconnectedError("connection closed") from None
        if not timeout:
            return await future
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout)
        except asyncio.TimeoutError:
            self._inflight.pop(command_id, None)
            raise HubTimeoutError(f"no reply in {self.timeout} s") from None

    # ---- subscriptions -----------------------------------------------------------------------

    async def subscribe(self, channel: str, callback=None, *, since=None, last: int | None = None,
                        on_recovery_failed=None, on_join=None, on_leave=None) -> Subscription:
        """Subscribes and returns the ``Subscription`` once the hub has answered (its
        ``result`` is the reply). ``since``: ``{"offset", "epoch"}`` or ``(offset, epoch)``,
        start by recovering from there; ``last``: start with the newest N stored publications,
        and start over the same way when a later recovery fails. ``callback(publication)``
        (plain or async) receives the publications instead of the iterator. The subscription
        lives across reconnects until ``unsubscribe``. Raises the hub's error (ForbiddenError,
        NotFoundError, ...) when it refuses."""
        if self.state == "closed":
            raise ClientClosedError("the client is closed; connect() again")
        if channel in self._subs:
            raise AlreadySubscribedError(f"already subscribed to {channel}")
        sub = Subscription(self, channel, callback, since=since, last=last,
                           on_recovery_failed=on_recovery_failed, on_join=on_join,
                           on_leave=on_leave)
        self._subs[channel] = sub
        if self.state == "connected":
            self._send_subscribe(sub)
        return await asyncio.shield(sub._first)

    def _send_subscribe(self, sub: Subscription) -> None:
        self._spawn(self._subscribe_once(sub, sub.subscribe_body()))

    async def _subscribe_once(self, sub: Subscription, body: dict) -> None:
        try:
            result = await self._command({"subscribe": body})
        except (DisconnectedError, ClientClosedError):
            return  # resent on reconnect
        except HubTimeoutError:
            if self._ws is not None:
                await self._ws.close()  # the reconnect resubscribes
            return
        except HubError as error:
            if isinstance(error, TokenExpiredError) and self._refreshable():
                return
            if self._subs.get(sub.channel) is sub:
                del self._subs[sub.channel]
                self._emit("error", error)
                sub.end(error)
            return
        if self._subs.get(sub.channel) is not sub:
            return
        if not sub.subscribed(result) and self.state == "connected":
            # Start over as on the first subscribe; the hub handles commands in order, so the
            # fresh subscribe's publications and the pushes after it connect without a gap.
            self._spawn(self._ignore_errors(self._command({"unsubscribe": {"channel": sub.channel}})))
            self._send_subscribe(sub)

    @staticmethod
    async def _ignore_errors(coro) -> None:
        try:
            await coro
        except HubError:
            pass

    def _refreshable(self) -> bool:
        """The token ran out between two sweeps of the hub: with ``get_token``, reconnect with
        a fresh token and resend then, rather than failing the command."""
        if self.get_token is None:
            return False
        self._token_stale = True
        if self._ws is not None:
            self._spawn(self._ws.close())
        return True

    async def unsubscribe(self, channel: str) -> None:
        sub = self._subs.pop(channel, None)
        if sub is None:
            raise NotSubscribedError(f"not subscribed to {channel}")
        sub.end()
        if self.state == "connected":
            await self._command({"unsubscribe": {"channel": channel}})

    # ---- publish and the rest ----------------------------------------------------------------

    async def publish(self, channel: str, data, *, key: str | None = None) -> dict:
        """Returns ``{"offset", "epoch"}`` once the hub has stored the publication; raises the
        hub's error (ForbiddenError, TooLargeError, RateLimitedError, ...) when it refuses.
        An unacknowledged publish is resent with the same idempotency ``key`` after every
        reconnect, so it is stored once. Waits for a connection when there is none."""
        if self.state == "closed":
            raise ClientClosedError("the client is closed; connect() again")
        if key is None:
            self._key_counter += 1
            key = f"{self.client_id}-{self._key_counter}"
        entry = _Outgoing(channel, data, key, asyncio.get_running_loop().create_future())
        self._outbox[key] = entry
        if self.state == "connected":
            self._send_publish(entry)
        return await asyncio.shield(entry.future)

    def _send_publish(self, entry: _Outgoing) -> None:
        self._spawn(self._publish_once(entry))

    async def _publish_once(self, entry: _Outgoing) -> None:
        body = {"channel": entry.channel, "data": entry.data, "key": entry.key}
        try:
            result = await self._command({"publish": body}, timeout=False)
        except (DisconnectedError, ClientClosedError):
            return  # retried with the same key after the reconnect
        except TokenExpiredError as error:
            if self._refreshable():
                return
            result = error
        except HubError as error:
            result = error
        if self._outbox.get(entry.key) is not entry:
            return
        del self._outbox[entry.key]
        if entry.future.done():
            return
        if isinstance(result, HubError):
            entry.future.set_exception(result)
        else:
            entry.future.set_result(result)

    async def history(self, channel: str, *, since=None, limit: int | None = None) -> dict:
        """``{"epoch", "offset", "publications": [{"offset", "data"}, ...]}``: without
        ``since`` the newest ``limit`` (default 100), oldest first."""
        body: dict = {"channel": channel}
        if since is not None:
            if isinstance(since, dict):
                body["since"] = since
            else:
                body["since"] = {"offset": since[0], "epoch": since[1]}
        if limit is not None:
            body["limit"] = limit
        return await self._command({"history": body})

    async def presence(self, channel: str) -> dict:
        """``{client_id: {"user": ...}}`` of the channel's subscribers."""
        return (await self._command({"presence": {"channel": channel}})).get("clients", {})

    async def ping(self) -> None:
        await self._command({"ping": {}})

    async def rpc(self, method: str, data=None):
        """A call the server's back end answers through its rpc proxy (docs/protocol.md,
        "rpc"): returns the answer's data; a refusal raises the back end's error class."""
        body: dict = {"method": method}
        if data is not None:
            body["data"] = data
        return (await self._command({"rpc": body})).get("data")
