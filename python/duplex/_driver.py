"""One duplex engine per asyncio loop, driven by it.

The engine's epoll descriptor is watched with ``loop.add_reader``: when it is readable asyncio
calls ``engine.poll()``, which runs one non-blocking iteration of the C++ loop (reads, handlers,
the corked flush). The engine asks for its timers with ``loop.call_later`` and flushes sends made
from coroutines with one ``loop.call_soon`` per asyncio iteration. No thread of its own.
"""

from __future__ import annotations

import asyncio
import logging

from . import _core

logger = logging.getLogger("duplex")

# asyncio loops are not all weak-referenceable (uvloop's is not): keep (loop, engine) pairs and
# drop those of closed loops.
_engines: dict[int, tuple[asyncio.AbstractEventLoop, _core.Engine]] = {}


def _report(connection, exc: BaseException) -> None:
    logger.error("connection handler failed", exc_info=(type(exc), exc, exc.__traceback__))


def engine_for(loop: asyncio.AbstractEventLoop) -> _core.Engine:
    entry = _engines.get(id(loop))
    if entry is not None and entry[0] is loop:
        return entry[1]
    for key, (other, _) in list(_engines.items()):
        if other.is_closed():
            del _engines[key]
    engine = _core.Engine()
    engine.attach(loop.call_soon, loop.call_later, _report)
    loop.add_reader(engine.fd(), engine.poll)
    _engines[id(loop)] = (loop, engine)
    return engine
