"""duplex.hub.Client against a real duplexd whose proxies are a real back end (aiohttp,
tests/hubd/backend_support.py): rpc answered, refused with the back end's error class, and a
back end that does not answer in time as UnavailableError; connect decided by a cookie, refused
for good without one, and retried while the back end does not answer."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

import duplex.hub as hub
from hub_fixtures import REPO, NAMESPACES, Duplexd, run, until  # noqa: F401

sys.path.insert(0, str(REPO / "tests" / "hubd"))
from backend_support import Backend  # noqa: E402


@pytest.fixture
def proxied(tmp_path):
    backend = Backend()
    server = Duplexd(tmp_path)
    server.config.write_text(json.dumps({
        "namespaces": NAMESPACES,
        "proxy": {"rpc": {"url": backend.url("/rpc"), "timeout_ms": 300},
                  "connect": {"url": backend.url("/connect"), "timeout_ms": 300}}}))
    server.start()
    yield server, backend
    for process in server.all:
        if process.alive():
            process.stop_and_check()
    backend.stop()


def test_rpc_is_answered_or_refused_by_the_back_end(proxied):
    server, backend = proxied

    async def go():
        cookie = {"additional_headers": {"Cookie": "session=alice"}}
        async with hub.Client(server.url, connect_options=cookie) as client:
            answer = await client.rpc("add", {"a": 40, "b": 2})
            assert answer == {"sum": 42, "user": "alice", "cookie": "session=alice"}
            with pytest.raises(hub.NotFoundError, match="no method nope"):
                await client.rpc("nope")
            backend.delay["/rpc"] = 1
            with pytest.raises(hub.UnavailableError, match="did not answer within 300 ms"):
                await client.rpc("add", {"a": 1, "b": 1})

    run(go)


def test_connect_is_refused_without_a_session_and_retried_while_the_back_end_is_slow(proxied):
    server, backend = proxied

    async def go():
        with pytest.raises(hub.UnauthorizedError, match="log in first"):
            async with hub.Client(server.url) as client:
                await client.connect()
        backend.delay["/connect"] = 1
        cookie = {"additional_headers": {"Cookie": "session=bob"}}
        client = hub.Client(server.url, connect_options=cookie, min_delay=0.05, max_delay=0.2)
        connecting = asyncio.ensure_future(client.connect())
        await until(lambda: len(backend.bodies("/connect")) >= 2)  # asked, timed out, asked again
        assert not connecting.done()
        backend.delay.clear()
        info = await asyncio.wait_for(connecting, 10)
        assert info["user"] == "bob"
        await client.close()

    run(go)
