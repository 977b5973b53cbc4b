"""Storage faults: duplexd with a history file capped by --history-max-bytes (SQLite
max_page_count: a write beyond it fails with SQLITE_FULL, as on a full disk). A stream of
throws fills the file; from then on throws are answered "unavailable", and nothing is broadcast
(acknowledged) that was not stored. The server keeps running; restarted with a larger cap it
has every broadcast throw, in order, and stores new ones again."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import websockets

from duplexd_util import history, recv_json, start_duplexd, ws_url

THROWS = 3000
CAP = 64 * 1024  # 16 pages of 4 KiB: a few hundred throws
KINDS = ["tomato", "candy", "egg", "cat"]


async def stream(server) -> tuple[list[dict], dict[str, str], list[dict]]:
    """Throws THROWS numbered throws from one page while another watches. Returns what the
    thrower saw broadcast, the answer to each throw by text ("ack" or an error code), and what
    the watcher saw."""
    answers: dict[str, str] = {}
    acked: list[dict] = []
    watched: list[dict] = []
    async with websockets.connect(ws_url(server)) as thrower, \
            websockets.connect(ws_url(server)) as watcher:
        assert (await recv_json(thrower))["type"] == "history"
        assert (await recv_json(watcher))["type"] == "history"

        async def throw_all():
            for i in range(THROWS):
                await thrower.send(json.dumps(
                    {"type": "throw", "kind": KINDS[i % 4], "text": f"t{i}"}))
                if i % 50 == 49:
                    await asyncio.sleep(0.005)  # several commits, not one batch

        sender = asyncio.create_task(throw_all())
        # Throws are validated as they come and answered after their group commit, in the
        # order they were thrown: each one gets exactly one answer, its broadcast or an error.
        while len(answers) < THROWS:
            message = await recv_json(thrower)
            text = f"t{len(answers)}"
            if message["type"] == "throw":
                assert message["text"] == text, f"{message} answers {text}"
                acked.append(message)
                answers[text] = "ack"
            else:
                assert message["type"] == "error", message
                assert message["code"] == "unavailable", message
                answers[text] = message["code"]
        await sender
        while len(watched) < len(acked):
            message = await recv_json(watcher)
            assert message["type"] == "throw", message
            watched.append(message)
    return acked, answers, watched


def test_a_full_history_file_refuses_throws_loses_none_and_recovers(tmp_path):
    data = tmp_path / "full"
    server = start_duplexd(data, "--history-max-bytes", str(CAP), "--history", "1000000",
                           "--rate", "1000000", "--burst", "1000000")
    try:
        acked, answers, watched = asyncio.run(asyncio.wait_for(stream(server), 120))
        refused = [text for text, answer in answers.items() if answer != "ack"]
        print(f"\n{len(acked)} throws stored and broadcast, {len(refused)} answered unavailable; "
              f"history file {(data / 'history.db').stat().st_size} bytes (cap {CAP})")
        assert 0 < len(acked) < THROWS and refused, "the cap never filled the file"
        # The watcher saw exactly what the thrower saw, in order, with increasing seqs.
        assert watched == acked
        seqs = [m["seq"] for m in acked]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        first_refused = min(int(t[1:]) for t in refused)
        print(f"first refusal at throw {first_refused}; acknowledged after it: "
              f"{sum(1 for m in acked if int(m['text'][1:]) > first_refused)}")

        # Still running: health, and a page that connects gets exactly what was acknowledged.
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=5) as r:
            assert r.status == 200
        stored = asyncio.run(history(server))
        strip = [(m["seq"], m["kind"], m["text"]) for m in acked]
        assert [(i["seq"], i["kind"], i["text"]) for i in stored] == strip
        assert not set(refused) & {i["text"] for i in stored}, "a refused throw was stored"
        assert server.alive()
    finally:
        server.stop_and_check()

    # Storage comes back (a larger cap): everything acknowledged is there, in order, and new
    # throws are stored and broadcast again, numbered after the old ones.
    again = start_duplexd(data, "--history-max-bytes", str(64 * CAP), "--history", "1000000")
    try:
        stored = asyncio.run(history(again))
        assert [(i["seq"], i["kind"], i["text"]) for i in stored] == strip

        async def throw_more():
            async with websockets.connect(ws_url(again, since=strip[-1][0])) as ws:
                assert (await recv_json(ws))["items"] == []
                for i in range(5):
                    await ws.send(json.dumps({"type": "throw", "kind": "egg", "text": f"n{i}"}))
                return [await recv_json(ws) for _ in range(5)]

        more = asyncio.run(asyncio.wait_for(throw_more(), 30))
        assert [m["type"] for m in more] == ["throw"] * 5
        assert [m["seq"] for m in more] == sorted(m["seq"] for m in more)
        assert more[0]["seq"] > strip[-1][0]
    finally:
        again.stop_and_check()
