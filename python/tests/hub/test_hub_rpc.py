"""duplex.hub.Client.rpc against a real duplexd whose rpc proxy is a real back end (aiohttp,
tests/hubd/backend_support.py): answered, refused with the back end's error class, and a back
end that does not answer in time as UnavailableError."""

from __future__ import annotations

import json
import sys

import pytest

import duplex.hub as hub
from hub_fixtures import REPO, NAMESPACES, Duplexd, run  # noqa: F401

sys.path.insert(0, str(REPO / "tests" / "hubd"))
from backend_support import Backend  # noqa: E402


@pytest.fixture
def proxied(tmp_path):
    backend = Backend()
    server = Duplexd(tmp_path)
    server.config.write_text(json.dumps({
        "namespaces": NAMESPACES,
        "proxy": {"rpc": {"url": backend.url("/rpc"), "timeout_ms": 300}}}))
    server.start()
    yield server, backend
    for process in server.all:
        if process.alive():
            process.stop_and_check()
    backend.stop()


def test_rpc_is_answered_or_refused_by_the_back_end(proxied):
    server, backend = proxied

    async def go():
        async with hub.Client(server.url) as client:
            answer = await client.rpc("add", {"a": 40, "b": 2})
            assert answer == {"sum": 42, "user": "", "cookie": ""}
            with pytest.raises(hub.NotFoundError, match="no method nope"):
                await client.rpc("nope")
            backend.delay["/rpc"] = 1
            with pytest.raises(hub.UnavailableError, match="did not answer within 300 ms"):
                await client.rpc("add", {"a": 1, "b": 1})

    run(go)
