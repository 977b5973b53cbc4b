"""Starting duplexd and talking to its hub as the tomato page does (channel demo:throws,
docs/protocol.md), for the storage and crash tests of this folder."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import websockets

from support import servers

THROWS = "demo:throws"


def start_duplexd(data_dir: Path, *flags: str) -> servers.ServerProcess:
    command = os.environ.get("DUPLEXD") or str(servers.REPO / "build/release/apps/duplexd")
    return servers.ServerProcess([command, "--host", "127.0.0.1", "--port", "0", "--quiet",
                                  "--data", str(data_dir), *servers.duplexd_loops(flags), *flags],
                                 name="duplexd")


def hub_url(server) -> str:
    return f"ws://127.0.0.1:{server.port}/connection"


class Page:
    """One hub connection: commands sent with ids, replies kept by id, `pub` pushes in order."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.replies: dict[int, dict] = {}
        self.pubs: list[dict] = []  # {"offset", "data"} of demo:throws, as pushed

    @classmethod
    async def open(cls, server, **kwargs) -> "Page":
        return cls(await websockets.connect(hub_url(server), **kwargs))

    async def send(self, method: str, params: dict) -> int:
        """Sends a command without waiting for its reply; returns its id."""
        self.next_id += 1
        await self.ws.send(json.dumps({"id": self.next_id, method: params}))
        return self.next_id

    async def read(self, timeout: float = 10) -> dict:
        message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        if "push" in message:
            assert "pub" in message["push"], message
            self.pubs.append(message["push"]["pub"])
        else:
            self.replies[message["id"]] = message
        return message

    async def reply(self, id: int, timeout: float = 10) -> dict:
        while id not in self.replies:
            await self.read(timeout)
        return self.replies.pop(id)

    async def call(self, method: str, params: dict) -> dict:
        return await self.reply(await self.send(method, params))

    async def close(self) -> None:
        await self.ws.close()


async def history(server) -> list[dict]:
    """Every stored throw of demo:throws, oldest first, as {"offset", "data"}: `history` pages
    from the first offset on (a reply carries at most 1,000)."""
    page = await Page.open(server, max_size=None)
    try:
        top = (await page.call("history", {"channel": THROWS, "limit": 1}))["result"]
        items: list[dict] = []
        since = 0
        while since < top["offset"]:
            result = (await page.call("history", {
                "channel": THROWS, "since": {"offset": since, "epoch": top["epoch"]},
                "limit": 1000}))["result"]
            assert result["epoch"] == top["epoch"], result
            assert result["publications"], f"nothing after offset {since} of {top['offset']}"
            items += result["publications"]
            since = items[-1]["offset"]
        return items
    finally:
        await page.close()
