"""The hub across loops (issue #13): a real duplexd on 4 loops (on this 2-core machine), with each
test placing its connections on the loops it needs. Round-robin hands connections to the loops
in turn; which loop took one is read from duplexd's debug log ("ws ADDR /connection open on loop
N"), so a test opens connections until one lands where it wants it (at most one per loop).

A publish on loop 1 reaches a subscriber on loop 3 with one offset sequence and one epoch,
recovery after a reconnect that lands on another loop, presence and its pushes across loops,
channels without history across loops, /api/disconnect of a user connected on several loops,
/metrics and the admin page's feed over every loop, connection limits over every loop, and a
graceful shutdown under load where every client gets 1001."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hub_support import API_KEY, Client, api, hub, run, token  # noqa: E402,F401 (hub: fixture)

LOOPS = 4
CONFIG = {"namespaces": {
    "talk": {"history_size": 100, "presence": True},
    "live": {"history_size": 0, "presence": True},  # delivered, never stored
}}


def start(hub, *flags):
    return hub("--threads", str(LOOPS), "--log-level", "debug", *flags, config=CONFIG)


def loop_of(server, ws, timeout=5.0) -> int:
    """The loop serving this client's connection, from duplexd's debug line about it."""
    port = ws.local_address[1]
    line = re.compile(rf"ws 127\.0\.0\.1:{port} /connection open on loop (\d+)")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = line.search(server.stderr())
        if found:
            return int(found.group(1))
        time.sleep(0.01)
    raise AssertionError(f"no open line for port {port} in duplexd's log")


async def open_on(server, loop: int, query: str = "") -> Client:
    """A client whose connection is on `loop`. The others opened on the way stay open (closed
    when the test ends) so that they do not free a place the test counts on."""
    for _ in range(LOOPS + 1):
        client = await Client.open(server, query)
        await client.call("ping")  # the open line is written before the first reply
        if loop_of(server, client.ws) == loop:
            return client
    raise AssertionError(f"round-robin never reached loop {loop}")


def metrics(server) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as r:
        values = {}
        for line in r.read().decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values


def test_a_publish_on_loop_1_reaches_loop_3_and_recovery_works_from_another_loop(hub):
    server = start(hub)

    async def go():
        subscriber = await open_on(server, 3)
        publisher = await open_on(server, 1)
        sub = (await subscriber.call("subscribe", {"channel": "talk:x"}))["result"]
        epoch = sub["epoch"]
        for i in range(1, 4):
            ack = await publisher.call("publish", {"channel": "talk:x", "data": {"n": i}})
            assert ack["result"] == {"offset": i, "epoch": epoch}  # one sequence, one epoch
        for i in range(1, 4):
            assert (await subscriber.push())["pub"] == {"offset": i, "data": {"n": i}}
        # The subscriber goes; two more; it comes back on loop 2 and recovers exactly those.
        await subscriber.close()
        for i in (4, 5):
            await publisher.call("publish", {"channel": "talk:x", "data": {"n": i}})
        back = await open_on(server, 2)
        reply = await back.call("subscribe", {"channel": "talk:x",
                                              "since": {"offset": 3, "epoch": epoch}})
        assert reply["result"]["recovered"] is True, reply
        assert reply["result"]["publications"] == [{"offset": 4, "data": {"n": 4}},
                                                   {"offset": 5, "data": {"n": 5}}]
        # And live again from loop 0: no gap, no duplicate.
        other = await open_on(server, 0)
        await other.call("publish", {"channel": "talk:x", "data": {"n": 6}})
        assert (await back.push())["pub"] == {"offset": 6, "data": {"n": 6}}
        await back.call("ping")
        assert [p for p in back.pushes if "pub" in p] == []

    run(go())


def test_presence_spans_the_loops(hub):
    server = start(hub)

    async def go():
        members = [await open_on(server, loop) for loop in range(LOOPS)]
        ids = [(await m.call("connect"))["result"]["client"] for m in members]
        for i, m in enumerate(members):
            assert "result" in await m.call("subscribe", {"channel": "talk:room"})
            # Everyone already there hears of the newcomer, whatever their loop.
            for earlier in members[:i + 1]:
                assert (await earlier.push("join"))["join"]["client"] == ids[i]
        for m in members:
            listed = (await m.call("presence", {"channel": "talk:room"}))["result"]["clients"]
            assert set(listed) == set(ids)
        status, body = api(server, "presence", {"channel": "talk:room"})
        assert status == 200 and set(body["result"]["clients"]) == set(ids)
        # One leaves on loop 2: the others hear it on their loops.
        await members[2].call("unsubscribe", {"channel": "talk:room"})
        for loop in (0, 1, 3):
            assert (await members[loop].push("leave"))["leave"]["client"] == ids[2]

    run(go())


def test_channels_without_history_cross_loops_in_order(hub):
    server = start(hub)

    async def go():
        subscribers = [await open_on(server, loop) for loop in (1, 2, 3)]
        for s in subscribers:
            await s.call("subscribe", {"channel": "live:ticks"})
        publisher = await open_on(server, 0)
        await publisher.call("subscribe", {"channel": "live:ticks"})
        count = 150  # within a connection's burst of commands (200)
        # Sent without waiting: many publishes in each of the server's iterations.
        for i in range(count):
            await publisher.ws.send(json.dumps(
                {"id": i + 1, "publish": {"channel": "live:ticks", "data": i}}))
        for s in [*subscribers, publisher]:
            got = [(await s.push())["pub"] for _ in range(count)]
            assert got == [{"offset": 0, "data": i} for i in range(count)]
        await publisher.call("ping")
        assert all(publisher.replies[i + 1]["result"]["offset"] == 0 for i in range(count))

    run(go())


def test_api_disconnect_reaches_a_user_on_every_loop(hub):
    server = start(hub)

    async def go():
        alice = [await open_on(server, loop, "?token=" + token({"sub": "alice"}))
                 for loop in range(LOOPS)]
        bob = await open_on(server, 2, "?token=" + token({"sub": "bob"}))
        status, body = api(server, "disconnect", {"user": "alice"})
        assert (status, body) == (200, {"result": {"disconnected": LOOPS}})
        for connection in alice:
            assert (await connection.push("disconnect"))["disconnect"]["code"] == 4003
            await connection.ws.wait_closed()
            assert connection.ws.close_code == 4003
        assert (await bob.call("ping"))["result"] == {}
        status, body = api(server, "disconnect", {"user": "alice"})
        assert body == {"result": {"disconnected": 0}}

    run(go())


def test_metrics_and_the_admin_feed_count_every_loop(hub):
    server = start(hub)

    async def go():
        clients = [await open_on(server, loop) for loop in range(LOOPS)]
        for c in clients:
            await c.call("subscribe", {"channel": "talk:counted"})
        await clients[0].call("publish", {"channel": "talk:counted", "data": 1})
        for c in clients:
            await c.push()
        values = metrics(server)
        assert values["duplex_hub_clients"] == LOOPS
        assert values["duplex_hub_subscriptions"] == LOOPS
        assert values["duplex_hub_channels"] == 1  # the same channel on 4 loops is one
        assert values["duplex_hub_publishes_total"] == 1
        # Every loop's commands: at least the pings, subscribes and the publish.
        assert values["duplex_hub_messages_in_total"] >= 2 * LOOPS + 1
        assert values["duplex_hub_store_commit_seconds_count"] == 1
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/admin/live") as admin:
            await admin.send(json.dumps({"login": API_KEY}, separators=(",", ":")))
            assert json.loads(await admin.recv())["type"] == "welcome"
            stats = json.loads(await asyncio.wait_for(admin.recv(), 10))
            assert stats["type"] == "stats"
            assert stats["clients"] == LOOPS and stats["subscriptions"] == LOOPS
            assert stats["channels"] == [{"channel": "talk:counted", "subscribers": LOOPS,
                                          "offset": 1}]

    run(go())


@pytest.mark.parametrize("flag", ["--max-connections", "--max-connections-per-ip"])
def test_connection_limits_count_every_loop(hub, flag):
    server = start(hub, flag, "5")

    async def go():
        # Five places, spread over the four loops by round-robin.
        clients = [await Client.open(server) for _ in range(5)]
        loops = {loop_of(server, c.ws) for c in clients}
        assert loops == set(range(LOOPS))
        with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
            await websockets.connect(f"ws://127.0.0.1:{server.port}/connection")
        assert refused.value.status_code == 503
        await clients[1].close()
        for _ in range(100):  # once the close has been counted, on its own loop
            try:
                late = await Client.open(server)
                break
            except websockets.exceptions.InvalidStatusCode:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("no room after a connection closed")
        assert (await late.call("ping"))["result"] == {}

    run(go())


def test_graceful_shutdown_under_load_closes_every_client_with_1001(hub):
    server = start(hub)

    async def go():
        clients = [await Client.open(server) for _ in range(4 * LOOPS)]
        assert {loop_of(server, c.ws) for c in clients} == set(range(LOOPS))
        for c in clients:
            await c.call("subscribe", {"channel": "talk:load"})

        async def read_until_closed(c):
            try:
                while True:
                    await c.ws.recv()
            except websockets.exceptions.ConnectionClosed:
                return c.ws.close_code

        async def publish_until_closed(c):
            n = 0
            try:
                while True:
                    n += 1
                    await c.ws.send(json.dumps(
                        {"id": 10_000 + n, "publish": {"channel": "talk:load", "data": n}}))
                    await asyncio.sleep(0.002)
            except websockets.exceptions.ConnectionClosed:
                pass

        readers = [asyncio.create_task(read_until_closed(c)) for c in clients]
        publishers = [asyncio.create_task(publish_until_closed(c)) for c in clients[:LOOPS]]
        await asyncio.sleep(0.5)  # publishes and pushes on every loop
        server.sigterm()
        codes = await asyncio.wait_for(asyncio.gather(*readers), 10)
        await asyncio.gather(*publishers)
        assert codes == [1001] * len(clients)

    run(go())
    assert server.terminate() == 0
