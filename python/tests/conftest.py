"""Fixtures for the duplex package's tests.

`run` runs a coroutine function to completion on a fresh event loop, once with asyncio's default
loop and once with uvloop (tests that take it are parametrized over both), with a time limit.
The package under test is the one on sys.path: ctest puts the build tree's staged package
(<build>/python/stage) first; run by hand, `make python` and .venv/bin/python -m pytest.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

try:
    import uvloop
except ImportError:  # pragma: no cover - Debian's python3-uvloop is a test dependency
    uvloop = None

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

LOOPS = ["asyncio", "uvloop"]


def run_with(kind: str, coro_fn, timeout: float = 20.0):
    async def main():
        return await asyncio.wait_for(coro_fn(), timeout)

    factory = uvloop.new_event_loop if kind == "uvloop" else None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main())


@pytest.fixture(params=LOOPS)
def run(request):
    if request.param == "uvloop" and uvloop is None:
        pytest.skip("uvloop is not installed")
    return lambda coro_fn, timeout=20.0: run_with(request.param, coro_fn, timeout)


@pytest.fixture
def run_asyncio():
    return lambda coro_fn, timeout=20.0: run_with("asyncio", coro_fn, timeout)
