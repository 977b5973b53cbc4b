"""What a subscription hands the application: publications in offset order, each once, and a
``RecoveryFailed`` marker where a reconnect could not recover what was missed.

The ordering state (offset and epoch seen, pushes held while a subscribe is in flight) lives
here; ``Client`` decides when to (re)subscribe.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Publication", "RecoveryFailed", "Subscription"]

logger = logging.getLogger("duplex.hub")

_END = object()


@dataclass(frozen=True)
class Publication:
    """One publication: ``offset`` is its place in the channel's history (0 in channels without
    history); ``replayed`` is True when it came in a subscribe reply (``last`` or a recovery)
    rather than as a live push."""

    channel: str
    offset: int
    data: Any
    replayed: bool = False


@dataclass(frozen=True)
class RecoveryFailed:
    """The hub could not replay what this subscription missed while disconnected (history
    trimmed, or reset: a new ``epoch``). Publications before ``offset`` may be missing: reload
    the state, e.g. from ``Client.history``. With ``last=N`` the subscription starts over and
    the newest N publications follow."""

    channel: str
    epoch: str
    offset: int


def call_soon(fn: Callable | None, value) -> None:
    """Runs an application callback; a coroutine function's coroutine becomes a task, and an
    exception is logged rather than breaking the client's reader."""
    if fn is None:
        return
    try:
        result = fn(value)
        if inspect.isawaitable(result):
            asyncio.ensure_future(result)
    except Exception:
        logger.exception("duplex.hub: a callback raised")


class Subscription:
    """A channel subscribed through ``Client.subscribe``; it lives across reconnects until
    ``unsubscribe()``. Iterate it (``async for item in sub``) to receive ``Publication`` and
    ``RecoveryFailed`` items in order, unless a callback was given (then the callback gets the
    publications and nothing is queued). ``epoch``, ``offset`` (the last seen) and ``recovered``
    (None before any recovery, then the last recovery's outcome) describe where it stands."""

    def __init__(self, client, channel: str, callback=None, *, since=None, last=None,
                 on_recovery_failed=None, on_join=None, on_leave=None):
        self._client = client
        self.channel = channel
        self.callback = callback
        self.last = last
        self.on_recovery_failed = on_recovery_failed
        self.on_join = on_join
        self.on_leave = on_leave
        offset, epoch = _since(since)
        self.offset: int | None = offset
        self.epoch: str | None = epoch
        self.recovered: bool | None = None
        self.result: dict | None = None  # the last subscribe reply
        self.pending = True  # a subscribe is in flight: pushes wait in `buffer`
        self.buffer: list[dict] = []
        self.sent_since = False
        self.active = True
        self._queue: asyncio.Queue = asyncio.Queue()
        self._first: asyncio.Future = asyncio.get_running_loop().create_future()

    def __repr__(self) -> str:
        return f"<Subscription {self.channel} offset={self.offset} epoch={self.epoch!r}>"

    # The subscribe body for the next (re)subscribe.
    def subscribe_body(self) -> dict:
        self.pending = True
        self.buffer = []
        body: dict = {"channel": self.channel}
        if self.offset is not None:
            body["since"] = {"offset": self.offset, "epoch": self.epoch or ""}
            if not self.epoch:
                body["since"]["offset"] = 0  # an unnamed epoch: ask for everything
        elif self.last:
            body["last"] = self.last
        self.sent_since = "since" in body
        return body

    def subscribed(self, result: dict) -> bool:
        """Takes a subscribe reply. Returns False when recovery failed and the subscription
        must start over with ``last`` (the caller resubscribes)."""
        self.result = result
        if self.sent_since and result.get("recovered") is False:
            self.recovered = False
            lost = RecoveryFailed(self.channel, result.get("epoch", ""), result.get("offset", 0))
            self._put(lost)
            call_soon(self.on_recovery_failed, lost)
            self._client._emit("recovery_failed", lost)
            if self.last:
                self.offset = self.epoch = None
                return False
            self.offset, self.epoch = result.get("offset", 0), result.get("epoch", "")
        else:
            if self.sent_since:
                self.recovered = True
            else:
                self.offset = None  # what came before the reply's offset is not ours to deliver
            if result.get("epoch"):
                self.epoch = result["epoch"]
        for pub in result.get("publications") or []:
            self.deliver(pub, replayed=True)
        offset = result.get("offset", 0)
        if self.offset is None or offset > self.offset:
            self.offset = offset
        self.pending = False
        for pub in self.buffer:
            self.deliver(pub)
        self.buffer = []
        if not self._first.done():
            self._first.set_result(self)
        return True

    def push(self, pub: dict) -> None:
        if self.pending:
            self.buffer.append(pub)
        else:
            self.deliver(pub)

    def deliver(self, pub: dict, replayed: bool = False) -> None:
        offset = pub.get("offset", 0)
        if offset > 0:
            if self.offset is not None and offset <= self.offset:
                return  # seen already
            self.offset = offset
        publication = Publication(self.channel, offset, pub.get("data"), replayed)
        self._client._emit("publication", publication)
        if self.callback is not None:
            call_soon(self.callback, publication)
        else:
            self._queue.put_nowait(publication)

    def _put(self, item) -> None:
        if self.callback is None:
            self._queue.put_nowait(item)

    def end(self, error: BaseException | None = None) -> None:
        """No more items: the iterator ends (or raises ``error``)."""
        if not self.active:
            return
        self.active = False
        if not self._first.done():
            self._first.set_exception(error or _closed())
            self._first.exception()  # retrieved: nobody may be waiting
        self._queue.put_nowait(error if error is not None else _END)

    def __aiter__(self):
        return self

    async def __anext__(self):
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self._queue.put_nowait(item)
            raise item
        return item

    async def unsubscribe(self) -> None:
        await self._client.unsubscribe(self.channel)


def _since(since) -> tuple[int | None, str | None]:
    if since is None:
        return None, None
    if isinstance(since, dict):
        return int(since["offset"]), str(since.get("epoch") or "")
    offset, epoch = since
    return int(offset), str(epoch or "")


def _closed():
    from .errors import ClientClosedError
    return ClientClosedError("the client was closed")
