"""Crash safety under churn: pages come and go (polite closes and aborted TCP), several throw
at once to the hub's demo:throws, one watches; duplexd is killed with SIGKILL at a random
moment, restarted on the same channel store, and the whole thing runs again, several times.
After every restart each throw any page saw (pushed, or acknowledged to its thrower) is in
history, with the offset and content it was seen with, in order, and nothing is duplicated;
what earlier runs stored is still there, and offsets keep increasing. (tests/hubd has the short,
single-client version of this.)"""

from __future__ import annotations

import asyncio
import json
import random

import websockets

from duplexd_util import THROWS, Page, history, start_duplexd

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
        self.seen: dict[int, tuple[str, str]] = {}  # offset -> (kind, text)
        self.live = 0  # pushes and acknowledgements received in this life
        self.thrown = 0
        self.problems: list[str] = []
        self.killed = asyncio.Event()

    def saw(self, offset: int, data: dict) -> None:
        self.live += 1
        entry = (data["kind"], data["text"])
        if self.seen.setdefault(offset, entry) != entry:
            self.problems.append(f"offset {offset} seen as {entry} and {self.seen[offset]}")

    async def read(self, page: Page, sent: dict[int, dict]) -> None:
        try:
            while True:
                message = await page.read(timeout=60)
                if "push" in message:
                    self.saw(message["push"]["pub"]["offset"], message["push"]["pub"]["data"])
                elif message["id"] in sent and "result" in message:
                    self.saw(message["result"]["offset"], sent[message["id"]])
                elif "error" in message:
                    self.problems.append(f"error reply {message}")
        except (websockets.exceptions.WebSocketException, OSError, asyncio.TimeoutError):
            pass

    async def thrower(self, n: int) -> None:
        rng = random.Random(self.rng.random())
        while not self.killed.is_set():
            try:
                page = await Page.open(self.server, close_timeout=1)
                sent: dict[int, dict] = {}
                await page.send("subscribe", {"channel": THROWS})
                reader = asyncio.create_task(self.read(page, sent))
                for _ in range(rng.randint(1, 150)):
                    data = {"kind": rng.choice(KINDS),
                            "text": f"c{self.cycle}w{n}i{self.thrown}"}
                    self.thrown += 1
                    page.next_id += 1
                    sent[page.next_id] = data
                    await page.ws.send(json.dumps({"id": page.next_id, "publish": {
                        "channel": THROWS, "data": data}}))
                    if rng.random() < 0.2:
                        await asyncio.sleep(rng.random() * 0.01)
                await asyncio.sleep(rng.random() * 0.05)
                if rng.random() < 0.5:
                    await page.close()
                else:
                    page.ws.transport.abort()  # gone without a close frame, throws in flight
                await reader
            except (websockets.exceptions.WebSocketException, OSError) as e:
                if not self.killed.is_set():
                    await asyncio.sleep(0.01)  # the kill may land between is_set and here
                    if not self.killed.is_set():
                        self.problems.append(f"thrower {n}: {e!r}")
                        return

    async def watcher(self) -> None:
        try:
            page = await Page.open(self.server, max_size=None)
            await page.send("subscribe", {"channel": THROWS})
            await self.read(page, {})
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
            stored = [(p["offset"], p["data"]["kind"], p["data"]["text"])
                      for p in asyncio.run(history(server))]
            seqs = [s for s, _, _ in stored]
            print(f"\nlife {cycle}: {run.thrown} thrown, {run.live} pushes and acks received, "
                  f"{len(stored) - len(before)} stored, {len(stored)} in history")
            assert seqs == list(range(1, len(seqs) + 1)), "history out of order or with gaps"
            texts = [t for _, _, t in stored]
            assert len(set(texts)) == len(texts), "a throw was stored twice"
            by_seq = {s: (k, t) for s, k, t in stored}
            lost = {s: e for s, e in run.seen.items() if by_seq.get(s) != e}
            assert not lost, f"{len(lost)} throws seen but missing or changed: " \
                             f"{sorted(lost.items())[:5]}"
            # Earlier lives' history is kept as it was; this life's throws come after it.
            assert stored[:len(before)] == before
            assert all(t.startswith(f"c{cycle}w") for _, _, t in stored[len(before):])
            assert run.live > 0 and len(stored) > len(before), "nothing was thrown"
            before = stored
    finally:
        server.stop_and_check()
