"""duplexd end to end, what is not the hub's protocol (tests/hubd has that): health, metrics and
the page over HTTP, the connection limits, and the command line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support import servers  # noqa: E402


def start_duplexd(data_dir: Path, *flags: str) -> servers.ServerProcess:
    command = os.environ.get("DUPLEXD") or str(servers.REPO / "build/release/apps/duplexd")
    return servers.ServerProcess([command, "--host", "127.0.0.1", "--port", "0", "--quiet",
                                  "--data", str(data_dir), *servers.duplexd_loops(flags), *flags],
                                 name="duplexd")


@pytest.fixture
def duplexd(tmp_path):
    started = []

    def start(*flags, data=None):
        server = start_duplexd(data or tmp_path / "data", *flags)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.alive():
            server.stop_and_check()


def ws_url(server):
    return f"ws://127.0.0.1:{server.port}/connection"


async def ping(ws, timeout=10):
    """A hub command and its reply: the connection is up and served."""
    await ws.send('{"id": 1, "ping": {}}')
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_health_metrics_and_the_page_are_served_over_http(duplexd):
    server = duplexd()
    base = f"http://127.0.0.1:{server.port}"
    with urllib.request.urlopen(base + "/healthz", timeout=10) as r:
        assert r.status == 200 and r.read() == b"ok\n"
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        text = r.read().decode()
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    # tests/duplexd/test_metrics.py moves every family; here: the hub's are there.
    for name in ["duplex_server_connections", "duplex_hub_messages_out_total",
                 "duplex_hub_slow_subscribers_closed_total"]:
        assert f"# TYPE {name} " in text
        assert any(line.split("{")[0].split(" ")[0] == name for line in text.splitlines()
                   if not line.startswith("#"))
    with urllib.request.urlopen(base + "/", timeout=10) as r:
        page = r.read().decode()
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "tomato" in page
    from support import rawws
    assert rawws.http_exchange(server.port, b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n"
                                            b"Connection: close\r\n\r\n").status == 403
    assert rawws.http_exchange(server.port, b"GET /no-such-file.js HTTP/1.1\r\nHost: x\r\n"
                                            b"Connection: close\r\n\r\n").status == 404


@pytest.mark.parametrize("flag", ["--max-connections", "--max-connections-per-ip"])
def test_connections_over_the_limit_get_503_and_room_comes_back(duplexd, flag):
    server = duplexd(flag, "2")
    from support import rawws

    async def go():
        first = await websockets.connect(ws_url(server))
        second = await websockets.connect(ws_url(server))
        with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
            await websockets.connect(ws_url(server))
        assert refused.value.status_code == 503
        response = rawws.http_exchange(server.port, rawws.upgrade_request("/connection"))
        assert response.status == 503 and response.header("retry-after") == "5"
        await first.close()
        # Once one has gone (and the refused ones have lingered out), a new one gets in.
        for _ in range(100):
            try:
                third = await websockets.connect(ws_url(server))
                break
            except websockets.exceptions.InvalidStatusCode:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("no room after a connection closed")
        assert (await ping(third)) == {"id": 1, "result": {}}
        await third.close()
        await second.close()

    run(go())


@pytest.mark.parametrize("flags, negotiated", [([], True), (["--no-deflate"], False)])
def test_no_deflate_reaches_the_hub_route(duplexd, flags, negotiated):
    server = duplexd(*flags)

    async def go():
        async with websockets.connect(ws_url(server)) as ws:  # offers permessage-deflate
            assert bool(ws.extensions) == negotiated
            assert (await ping(ws)) == {"id": 1, "result": {}}

    run(go())


@pytest.mark.parametrize("program", ["duplexd", "duplex-echo"])
@pytest.mark.parametrize("flags,message", [
    (["--port", "abc"], "bad value for --port: abc"),
    (["--port", "70000"], "bad value for --port: 70000"),
    (["--port", "-1"], "bad value for --port: -1"),
    (["--port"], "missing value for --port"),
    (["--log-level", "loud"], "bad value for --log-level: loud"),
    (["--frobnicate"], "unknown flag --frobnicate"),
    (["--cert", "c.pem"], "--cert and --key go together"),
    (["--threads", "0"], "--threads must be between 1 and 1024"),
    (["--threads", "1025"], "--threads must be between 1 and 1024"),
    (["--threads", "four"], "bad value for --threads: four"),
])
def test_a_bad_command_line_is_refused_with_a_reason(program, flags, message):
    """The servers share one flag parser: a value that is not a number in range is an error,
    not a silent port 0 (which would listen somewhere random) or a port modulo 65536."""
    if program == "duplexd":
        command = [os.environ.get("DUPLEXD") or str(servers.REPO / "build/release/apps/duplexd")]
    else:
        command = servers.duplex_echo_command()
    done = subprocess.run([*command, *flags], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    # One line that says what and where to look, not the whole usage (issue #15).
    assert done.stderr == f"{program}: {message} (see {program} --help)\n"
