"""Starting duplexd and talking to it as a page does (docs/demo-protocol.md), for the storage
and crash tests of this folder."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import websockets

from support import servers


def start_duplexd(data_dir: Path, *flags: str) -> servers.ServerProcess:
    command = os.environ.get("DUPLEXD") or str(servers.REPO / "build/release/apps/duplexd")
    return servers.ServerProcess([command, "--host", "127.0.0.1", "--port", "0", "--quiet",
                                  "--data", str(data_dir), *flags], name="duplexd")


def ws_url(server, since: int = 0) -> str:
    return f"ws://127.0.0.1:{server.port}/ws?since={since}"


async def recv_json(ws, timeout: float = 10) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def history(server) -> list[dict]:
    """Every stored item, oldest first: the history messages a fresh page gets (chunked, so read
    until the server says nothing more for a while)."""
    items: list[dict] = []
    async with websockets.connect(ws_url(server), max_size=None) as ws:
        first = await recv_json(ws)
        assert first["type"] == "history"
        items += first["items"]
        while True:
            try:
                message = await recv_json(ws, timeout=1.0)
            except asyncio.TimeoutError:
                return items
            assert message["type"] == "history", f"unexpected {message}"
            items += message["items"]
