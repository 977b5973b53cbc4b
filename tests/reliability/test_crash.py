"""Crash safety under churn: pages come and go (polite closes and aborted TCP), several throw
at once, one watches; duplexd is killed with SIGKILL at a random moment, restarted on the same
history file, and the whole thing runs again, several times. After every restart each throw any
page saw broadcast is in history, with the seq and content it was broadcast with, in order, and
nothing is duplicated; what earlier runs stored is still there, and seqs keep increasing.
(tests/duplexd has the short, single-page version of this.)"""

from __future__ import annotations

import asyncio
import json
import random

import websockets

from duplexd_util import history, recv_json, start_duplexd, ws_url

CYCLES = 4
THROWERS = 6
KINDS = ["tomato", "candy", "egg", "cat"]
FLAGS = ["--rate", "1000000", "--burst", "1000000", "--history", "1000000"]


class Run:
    """One life of the server: what pages saw, and what went wrong before the kill."""

    def __init__(self, server, cycle: int, rng: random.Random):
        self.server = server
        self.cycle = cycle
        self.rng = rng
        self.seen: dict[int, tuple[str, str]] = {}  # seq -> (kind, text), history included
        self.live = 0  # throws received live (broadcast) in this life
        self.thrown = 0
        self.problems: list[str] = []
        self.killed = asyncio.Event()

    def saw(self, message: dict) -> None:
        assert message["type"] in ("history", "throw"), message
        self.live += message["type"] == "throw"
        for item in message["items"] if message["type"] == "history" else [message]:
            entry = (item["kind"], item["text"])
            if self.seen.setdefault(item["seq"], entry) != entry:
                self.problems.append(f"seq {item['seq']} seen as {entry} and "
                                     f"{self.seen[item['seq']]}")

    async def read(self, ws) -> None:
        try:
            async for raw in ws:
                self.saw(json.loads(raw))
        except (websockets.exceptions.WebSocketException, OSError):
            pass

    async def thrower(self, n: int) -> None:
        rng = random.Random(self.rng.random())
        while not self.killed.is_set():
            try:
                # Like the page: ask only for what this page has not seen.
                since = max(self.seen, default=0)
                async with websockets.connect(ws_url(self.server, since), close_timeout=1) as ws:
                    reader = asyncio.create_task(self.read(ws))
                    for _ in range(rng.randint(1, 150)):
                        text = f"c{self.cycle}w{n}i{self.thrown}"
                        self.thrown += 1
                        await ws.send(json.dumps({"type": "throw", "kind": rng.choice(KINDS),
                                                  "text": text}))
                        if rng.random() < 0.2:
                            await asyncio.sleep(rng.random() * 0.01)
                    await asyncio.sleep(rng.random() * 0.05)
                    if rng.random() < 0.5:
                        await ws.close()
                    else:
                        ws.transport.abort()  # gone without a close frame, throws in flight
                    await reader
            except (websockets.exceptions.WebSocketException, OSError) as e:
                if not self.killed.is_set():
                    await asyncio.sleep(0.01)  # the kill may land between is_set and here
                    if not self.killed.is_set():
                        self.problems.append(f"thrower {n}: {e!r}")
                        return

    async def watcher(self) -> None:
        try:
            async with websockets.connect(ws_url(self.server), max_size=None) as ws:
                await self.read(ws)
        except (websockets.exceptions.WebSocketException, OSError) as e:
            if not self.killed.is_set():
                self.problems.append(f"watcher: {e!r}")

    async def run_until_killed(self) -> None:
        tasks = [asyncio.create_task(self.watcher())]
        await asyncio.sleep(0.2)
        tasks += [asyncio.create_task(self.thrower(n)) for n in range(THROWERS)]
        await asyncio.sleep(self.rng.uniform(1.0, 3.0))
        self.killed.set()
        self.server.kill()  # SIGKILL: no shutdown code runs
        await asyncio.wait_for(asyncio.gather(*tasks), 30)


def test_kill_9_under_churn_loses_no_throw_anyone_saw(tmp_path):
    rng = random.Random(7)
    data = tmp_path / "crash"
    before: list[tuple[int, str, str]] = []
    server = start_duplexd(data, *FLAGS)
    try:
        for cycle in range(CYCLES):
            run = Run(server, cycle, rng)
            asyncio.run(run.run_until_killed())
            assert not run.problems, run.problems[:5]
            server = start_duplexd(data, *FLAGS)
            stored = [(i["seq"], i["kind"], i["text"]) for i in asyncio.run(history(server))]
            seqs = [s for s, _, _ in stored]
            print(f"\nlife {cycle}: {run.thrown} thrown, {run.live} broadcasts received, "
                  f"{len(stored) - len(before)} stored, {len(stored)} in history")
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "history out of order"
            texts = [t for _, _, t in stored]
            assert len(set(texts)) == len(texts), "a throw was stored twice"
            by_seq = {s: (k, t) for s, k, t in stored}
            lost = {s: e for s, e in run.seen.items() if by_seq.get(s) != e}
            assert not lost, f"{len(lost)} broadcast throws missing or changed: " \
                             f"{sorted(lost.items())[:5]}"
            # Earlier lives' history is kept as it was; this life's throws come after it.
            assert stored[:len(before)] == before
            assert all(t.startswith(f"c{cycle}w") for _, _, t in stored[len(before):])
            assert run.live > 0 and len(stored) > len(before), "nothing was thrown"
            before = stored
    finally:
        server.stop_and_check()
