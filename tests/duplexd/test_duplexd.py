"""duplexd end to end, as a page sees it: throws broadcast to everyone, errors in the documented
JSON shape, history replayed on (re)connect, nothing lost across a restart (a real SQLite file),
and no gap or duplicate at the boundary between history and live throws."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import random
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
                                  "--data", str(data_dir), *flags], name="duplexd")


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


def ws_url(server, since=0):
    return f"ws://127.0.0.1:{server.port}/ws?since={since}"


async def recv_json(ws, timeout=10):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def throw(ws, kind="tomato", text=None):
    message = {"type": "throw", "kind": kind}
    if text is not None:
        message["text"] = text
    await ws.send(json.dumps(message))


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_a_throw_reaches_every_page_and_later_pages_get_it_as_history(duplexd):
    server = duplexd()

    async def go():
        async with websockets.connect(ws_url(server)) as a, \
                websockets.connect(ws_url(server)) as b:
            first_a, first_b = await recv_json(a), await recv_json(b)
            assert first_a["type"] == "history" and first_a["items"] == []
            assert first_a["epoch"] == first_b["epoch"] and len(first_a["epoch"]) == 16
            await throw(a, "cat", "miaow")
            for ws in (a, b):
                live = await recv_json(ws)
                assert live["type"] == "throw"
                assert (live["seq"], live["kind"], live["text"]) == (1, "cat", "miaow")
                assert isinstance(live["at"], int) and live["at"] > 1_600_000_000_000
        async with websockets.connect(ws_url(server)) as c:
            history = await recv_json(c)
            assert [(i["seq"], i["kind"], i["text"]) for i in history["items"]] == [(1, "cat", "miaow")]

    run(go())


@pytest.mark.parametrize("message, code", [
    ("not json", "bad_json"),
    ("[1,2]", "bad_json"),
    ('{"type":"hug","kind":"tomato"}', "bad_json"),
    ('{"type":"throw"}', "bad_kind"),
    ('{"type":"throw","kind":"rock"}', "bad_kind"),
    ('{"type":"throw","kind":"tomato","text":42}', "bad_text"),
    ('{"type":"throw","kind":"tomato","text":"' + "x" * 65 + '"}', "bad_text"),
    ('{"type":"throw","kind":"tomato","text":"a\\nb"}', "bad_text"),
    ('{"type":"throw","kind":"tomato","text":"' + "y" * 2000 + '"}', "too_large"),
    (b'{"type":"throw","kind":"tomato"}', "bad_json"),  # binary, not text
])
def test_invalid_throws_get_the_error_shape_and_nothing_is_stored(duplexd, message, code):
    server = duplexd()

    async def go():
        async with websockets.connect(ws_url(server)) as ws:
            await recv_json(ws)
            await ws.send(message)
            error = await recv_json(ws)
            assert error == {"type": "error", "code": code, "message": error["message"]}
            assert isinstance(error["message"], str) and error["message"]
            # The connection stays usable, and the bad throw was not stored or broadcast.
            await throw(ws, "egg")
            live = await recv_json(ws)
            assert (live["type"], live["seq"], live["kind"]) == ("throw", 1, "egg")

    run(go())


def test_64_characters_of_text_are_fine_even_when_they_are_not_ascii(duplexd):
    server = duplexd()

    async def go():
        async with websockets.connect(ws_url(server)) as ws:
            await recv_json(ws)
            await throw(ws, "candy", "é" * 64)
            assert (await recv_json(ws))["text"] == "é" * 64

    run(go())


def test_throws_beyond_the_rate_limit_are_refused(duplexd):
    server = duplexd("--rate", "1", "--burst", "3")

    async def go():
        async with websockets.connect(ws_url(server)) as ws:
            await recv_json(ws)
            for _ in range(5):
                await throw(ws)
            answers = [await recv_json(ws) for _ in range(5)]
            # Errors are answered at once, throws after the iteration's commit: count, not order.
            throws = [a for a in answers if a["type"] == "throw"]
            errors = [a for a in answers if a["type"] == "error"]
            assert len(throws) == 3 and len(errors) == 2
            assert {e["code"] for e in errors} == {"rate_limited"}

    run(go())


def test_history_survives_a_restart_and_seqs_keep_counting(duplexd, tmp_path):
    data = tmp_path / "kept"
    server = duplexd(data=data)

    async def throw_five():
        async with websockets.connect(ws_url(server)) as ws:
            epoch = (await recv_json(ws))["epoch"]
            for kind in ["tomato", "candy", "egg", "cat", "tomato"]:
                await throw(ws, kind)
                await recv_json(ws)
            return epoch

    epoch = run(throw_five())
    server.stop_and_check()
    assert (data / "history.db").exists()

    again = duplexd(data=data)

    async def check():
        async with websockets.connect(ws_url(again)) as ws:
            history = await recv_json(ws)
            assert history["epoch"] == epoch
            assert [i["kind"] for i in history["items"]] == ["tomato", "candy", "egg", "cat", "tomato"]
            assert [i["seq"] for i in history["items"]] == [1, 2, 3, 4, 5]
            await throw(ws, "cat")
            assert (await recv_json(ws))["seq"] == 6
        async with websockets.connect(ws_url(again, since=4)) as ws:
            assert [i["seq"] for i in (await recv_json(ws))["items"]] == [5, 6]

    run(check())


def test_a_killed_server_loses_no_throw_anyone_saw(duplexd, tmp_path):
    """Persist before broadcast: every throw a page saw is in history after kill -9."""
    data = tmp_path / "crash"
    server = duplexd("--rate", "100000", "--burst", "100000", data=data)
    seen = []

    async def stream():
        async with websockets.connect(ws_url(server)) as ws:
            await recv_json(ws)
            for _ in range(200):
                await throw(ws)
            while len(seen) < 150:
                seen.append((await recv_json(ws))["seq"])

    run(stream())
    server.kill()  # SIGKILL mid-stream: no shutdown code runs
    again = duplexd(data=data)

    async def check():
        async with websockets.connect(ws_url(again)) as ws:
            stored = [i["seq"] for i in (await recv_json(ws))["items"]]
            assert set(seen) <= set(stored)
            assert stored == sorted(stored)

    run(check())


def test_history_is_bounded_by_count(duplexd):
    server = duplexd("--history", "10", "--rate", "1000", "--burst", "1000")

    async def go():
        async with websockets.connect(ws_url(server)) as ws:
            await recv_json(ws)
            for _ in range(30):
                await throw(ws)
            for _ in range(30):
                await recv_json(ws)
        # Trimming runs in small steps after commits; give it a moment.
        for _ in range(50):
            async with websockets.connect(ws_url(server)) as ws:
                seqs = [i["seq"] for i in (await recv_json(ws))["items"]]
            if len(seqs) == 10:
                break
            await asyncio.sleep(0.05)
        assert seqs == list(range(21, 31))

    run(go())


def test_no_gap_and_no_duplicate_between_history_and_live_under_concurrent_throws(duplexd):
    """Throwers stream throws while pages keep connecting; every page must see 1..N exactly once,
    in order, whatever moment it connected at."""
    server = duplexd("--rate", "100000", "--burst", "100000")
    throwers, per_thrower, pages = 3, 150, 25
    total = throwers * per_thrower

    async def thrower():
        async with websockets.connect(ws_url(server)) as ws:
            await recv_json(ws)
            for i in range(per_thrower):
                await throw(ws, random.choice(["tomato", "candy", "egg", "cat"]), str(i))
                if i % 10 == 0:
                    await asyncio.sleep(0.002)
            # Drain our own copies so the server never sees us as a slow reader.
            got = 0
            while got < total:
                if (await recv_json(ws))["type"] == "throw":
                    got += 1

    async def page(delay):
        await asyncio.sleep(delay)
        async with websockets.connect(ws_url(server), max_size=None) as ws:
            seqs = []
            while not seqs or seqs[-1] < total:
                message = await recv_json(ws, timeout=30)
                if message["type"] == "history":
                    seqs += [i["seq"] for i in message["items"]]
                elif message["type"] == "throw":
                    seqs.append(message["seq"])
            return seqs

    async def go():
        tasks = [asyncio.create_task(thrower()) for _ in range(throwers)]
        results = await asyncio.gather(*[page(random.uniform(0, 0.4)) for _ in range(pages)])
        await asyncio.gather(*tasks)
        for seqs in results:
            assert seqs == list(range(1, total + 1))

    run(go())


def test_health_metrics_and_the_page_are_served_over_http(duplexd):
    server = duplexd()
    base = f"http://127.0.0.1:{server.port}"
    with urllib.request.urlopen(base + "/healthz", timeout=10) as r:
        assert r.status == 200 and r.read() == b"ok\n"
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        text = r.read().decode()
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    for name in ["duplex_connections", "duplex_messages_in_total", "duplex_messages_out_total",
                 "duplex_history_items", "duplex_slow_consumers_dropped_total"]:
        assert f"# TYPE {name} " in text
        assert any(line.split(" ")[0] == name for line in text.splitlines()
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
        response = rawws.http_exchange(server.port, rawws.upgrade_request("/ws"))
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
        assert (await recv_json(third))["type"] == "history"
        await third.close()
        await second.close()

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
