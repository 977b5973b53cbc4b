"""/healthz says the process answers; /readyz says the store can be read and written, and
answers 503 naming the file and the reason when it cannot (the data directory removed or made
read-only under a running server, the store's write lock held by another process). At --log-level info, duplexd logs a line per HTTP request (API calls
included) and per WebSocket connection, and one at shutdown, as text or as JSON lines."""

from __future__ import annotations

import asyncio
import json
import re
import shutil

import websockets

import duplexd_service as d


def test_healthz_and_readyz_until_the_data_directory_is_removed(tmp_path):
    data = tmp_path / "data"
    server = d.start(data, "--log-level", "error")
    try:
        health = d.request(server, "GET", "/healthz")
        assert (health.status, health.body) == (200, "ok\n")
        ready = d.request(server, "GET", "/readyz")
        assert (ready.status, ready.body) == (200, "ready\n")

        shutil.rmtree(data)
        gone = d.request(server, "GET", "/readyz")
        assert gone.status == 503
        assert gone.body == (f"not ready: cannot create {data}/.readyz-probe: "
                             "no such file or directory\n")
        # The directory back, the store's file not: still not ready, and it says which file.
        data.mkdir()
        still = d.request(server, "GET", "/readyz")
        assert still.status == 503
        assert still.body.startswith(f"not ready: {data}/channels.db: no such file or directory")
        # Liveness is another question: the process still answers.
        assert d.request(server, "GET", "/healthz").status == 200
    finally:
        server.stop_and_check()
    assert f"error not ready: cannot create {data}/.readyz-probe" in server.stderr()


def test_readyz_writes_the_store_and_is_503_while_another_process_holds_its_write_lock(tmp_path):
    """The data directory still takes a file and the store still reads: only a write through
    the store tells that publishes would fail now."""
    import sqlite3

    data = tmp_path / "data"
    server = d.start(data, "--log-level", "off")
    try:
        assert d.request(server, "GET", "/readyz").status == 200
        other = sqlite3.connect(data / "channels.db", isolation_level=None)
        try:
            assert other.execute("SELECT checks FROM readiness").fetchone()[0] >= 1
            other.execute("BEGIN IMMEDIATE")
            refused = d.request(server, "GET", "/readyz")
            assert refused.status == 503
            assert refused.body == (f"not ready: {data}/channels.db: write: "
                                    "database is locked\n")
            other.execute("ROLLBACK")
            assert d.request(server, "GET", "/readyz").status == 200
        finally:
            other.close()
    finally:
        server.stop_and_check()


def exercise(server):
    assert d.request(server, "GET", "/healthz").status == 200
    assert d.request(server, "GET", "/connection").status == 426
    assert d.api(server, "/api/publish", {"channel": "talk:x", "data": 1}).status == 200

    async def go():
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/connection") as ws:
            await ws.send(json.dumps({"id": 1, "ping": {}}))
            await asyncio.wait_for(ws.recv(), 10)

    asyncio.run(go())


def test_info_logs_requests_connections_and_shutdown_as_json(tmp_path):
    server = d.start(tmp_path / "data", "--log-level", "info", "--log-format", "json")
    exercise(server)
    server.stop_and_check()
    records = [json.loads(line) for line in server.stderr().splitlines() if line.strip()]
    assert all(set(r) == {"time", "level", "message"} for r in records)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["time"]) for r in records)
    messages = [r["message"] for r in records if r["level"] == "info"]
    assert any(re.fullmatch(r"http 127\.0\.0\.1:\d+ GET /healthz 200 [0-9.]+ ms", m)
               for m in messages), messages
    assert any(re.fullmatch(r"http 127\.0\.0\.1:\d+ POST /api/publish 200 [0-9.]+ ms", m)
               for m in messages), messages
    assert any(re.fullmatch(r"http 127\.0\.0\.1:\d+ GET /connection refused 426: "
                            r"missing Upgrade header", m) for m in messages), messages
    assert any(re.fullmatch(r"ws 127\.0\.0\.1:\d+ /connection closed 1000 after [0-9.]+ s", m)
               for m in messages), messages
    assert re.fullmatch(r"duplexd stopped after [0-9.]+ s", messages[-1]), messages


def test_info_logs_as_text_and_nothing_per_request_at_the_default_level(tmp_path):
    server = d.start(tmp_path / "text", "--log-level", "info")
    exercise(server)
    server.stop_and_check()
    assert re.search(r"^\d{4}-\d\d-\d\dT[0-9:.]+Z info  http 127\.0\.0\.1:\d+ GET /healthz 200 ",
                     server.stderr(), re.M), server.stderr()
    quiet = d.start(tmp_path / "quiet")
    exercise(quiet)
    quiet.stop_and_check()
    assert quiet.stderr() == ""


def test_readyz_says_permission_denied_when_the_data_directory_turns_read_only():
    """Root writes anywhere, so as root duplexd runs as nobody (setpriv) in a directory nobody
    owns; the directory is then made read-only under the running server."""
    import os
    import tempfile
    from pathlib import Path

    from support import servers

    parent = Path(tempfile.mkdtemp(prefix="duplexd-ready-"))
    parent.chmod(0o755)
    data = parent / "data"
    data.mkdir()
    argv = [d.duplexd_command(), "--host", "127.0.0.1", "--port", "0", "--quiet",
            "--log-level", "off", "--data", str(data), *servers.duplexd_loops()]
    if os.geteuid() == 0:
        os.chown(data, 65534, 65534)
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    server = servers.ServerProcess(argv, name="duplexd")
    try:
        assert d.request(server, "GET", "/readyz").status == 200
        data.chmod(0o555)
        refused = d.request(server, "GET", "/readyz")
        assert refused.status == 503
        assert refused.body == (f"not ready: cannot create {data}/.readyz-probe: "
                                "permission denied\n")
        data.chmod(0o755)
        assert d.request(server, "GET", "/readyz").status == 200
    finally:
        server.stop_and_check()
        shutil.rmtree(parent)
