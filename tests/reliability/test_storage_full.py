"""Storage faults: duplexd with its channel store capped by --history-max-bytes (SQLite
max_page_count: a write beyond it fails with SQLITE_FULL, as on a full disk). Streams of
throws to the hub's demo:throws fill the file; from then on publishes are answered
"unavailable", and nothing is acknowledged or pushed that was not stored. The server keeps
running; restarted with a larger cap it has every acknowledged throw, in order, and stores new
ones again."""

from __future__ import annotations

import asyncio
import urllib.request

from duplexd_util import THROWS, Page, history, start_duplexd

THROWERS = 5
PER_THROWER = 200  # within the hub's command burst (200), so no command is rate limited
CAP = 64 * 1024  # 16 pages of 4 KiB: a few hundred throws
KINDS = ["tomato", "candy", "egg", "cat"]
FLAGS = ["--history", "1000000", "--rate", "1000000", "--burst", "1000000"]


def throw_data(n: int, i: int) -> dict:
    return {"kind": KINDS[i % 4], "text": f"w{n}t{i}-" + "x" * 48}


async def stream(server) -> tuple[list[dict], dict[str, str], list[dict]]:
    """Several pages throw at once while another watches. Returns the acknowledged throws as
    {"offset", "data"}, the answer to each throw by text ("ack" or an error code), and what the
    watcher was pushed."""
    answers: dict[str, str] = {}
    acked: list[dict] = []
    watcher = await Page.open(server)
    subscribed = (await watcher.call("subscribe", {"channel": THROWS}))["result"]
    assert subscribed["offset"] == 0

    async def thrower(n: int) -> None:
        page = await Page.open(server)
        sent: dict[int, dict] = {}
        for i in range(PER_THROWER):
            data = throw_data(n, i)
            sent[await page.send("publish", {"channel": THROWS, "data": data})] = data
            if i % 50 == 49:
                await asyncio.sleep(0.005)  # several commits, not one batch
        # Each publish gets exactly one answer: its acknowledgement or an error.
        for id, data in sent.items():
            reply = await page.reply(id, timeout=30)
            if "result" in reply:
                acked.append({"offset": reply["result"]["offset"], "data": data})
                answers[data["text"]] = "ack"
            else:
                assert reply["error"]["code"] == "unavailable", reply
                answers[data["text"]] = reply["error"]["code"]
        await page.close()

    await asyncio.gather(*(thrower(n) for n in range(THROWERS)))
    acked.sort(key=lambda p: p["offset"])
    while len(watcher.pubs) < len(acked):
        await watcher.read()
    await watcher.close()
    return acked, answers, watcher.pubs


def test_a_full_channel_store_refuses_throws_loses_none_and_recovers(tmp_path):
    data = tmp_path / "full"
    server = start_duplexd(data, "--history-max-bytes", str(CAP), *FLAGS)
    try:
        acked, answers, watched = asyncio.run(asyncio.wait_for(stream(server), 120))
        refused = [text for text, answer in answers.items() if answer != "ack"]
        files = sum(f.stat().st_size for f in data.glob("channels.db*"))
        print(f"\n{len(acked)} throws stored and acknowledged, {len(refused)} answered "
              f"unavailable; channel store and its WAL {files} bytes (cap {CAP} on the store)")
        assert len(answers) == THROWERS * PER_THROWER
        assert 0 < len(acked) and refused, "the cap never filled the file"
        # Offsets are consecutive: a refused batch gave out none. The watcher was pushed exactly
        # what was acknowledged, in order.
        assert [p["offset"] for p in acked] == list(range(1, len(acked) + 1))
        assert watched == acked

        # Still running: health, and history is exactly what was acknowledged.
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=5) as r:
            assert r.status == 200
        assert asyncio.run(history(server)) == acked
        assert server.alive()
    finally:
        server.stop_and_check()

    # Storage comes back (a larger cap): everything acknowledged is there, in order, and new
    # throws are stored and acknowledged again, numbered after the old ones.
    again = start_duplexd(data, "--history-max-bytes", str(64 * CAP), *FLAGS)
    try:
        assert asyncio.run(history(again)) == acked

        async def throw_more():
            page = await Page.open(again)
            replies = [await page.call("publish", {"channel": THROWS,
                                                   "data": {"kind": "egg", "text": f"n{i}"}})
                       for i in range(5)]
            await page.close()
            return replies

        more = asyncio.run(asyncio.wait_for(throw_more(), 30))
        assert [r["result"]["offset"] for r in more] == \
            list(range(len(acked) + 1, len(acked) + 6))
    finally:
        again.stop_and_check()
