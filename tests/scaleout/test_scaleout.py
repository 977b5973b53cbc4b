"""Several duplexd nodes sharing channels through Redis (issue #14, docs/scaling.md): three
nodes over two Redis shards, each test with its own redis-server and duplexd processes."""

from __future__ import annotations

import asyncio
import time
import urllib.request

import pytest
import websockets

from scaleout_support import Client, api, cluster, run, run_duplexd, token  # noqa: F401
from support.slow_link import SlowLink

# Channels that land on both shards of two (jump hash of the name; checked below).
CHANNELS = [f"talk:room{i}" for i in range(6)]


def three_nodes(cluster, env=None):
    a, b = cluster.redis(), cluster.redis()
    return [cluster.node(a.url, b.url, env=env) for _ in range(3)], (a, b)


def keys_on(redis) -> bytes:
    return redis.command("KEYS", "duplex:*")


def test_a_publish_on_one_node_reaches_subscribers_on_the_others_once(cluster):
    (na, nb, nc), (ra, rb) = three_nodes(cluster)

    async def go():
        pub, sb, sc = await Client.open(na), await Client.open(nb), await Client.open(nc)
        for ch in CHANNELS:
            await sb.call("subscribe", {"channel": ch})
            await sc.call("subscribe", {"channel": ch})
        for ch in CHANNELS:
            r = await pub.call("publish", {"channel": ch, "data": {"on": ch}})
            assert r["result"]["offset"] == 1, r
        for s in (sb, sc):
            got = sorted([(await s.push())["pub"]["data"]["on"] for _ in CHANNELS])
            assert got == sorted(CHANNELS)
        await asyncio.sleep(0.3)  # nothing else comes: each publication once
        for s in (sb, sc):
            s.ws.close_timeout = 1
            while True:
                try:
                    await s._read(timeout=0.2)
                except asyncio.TimeoutError:
                    break
            assert [p for p in s.pushes if "pub" in p] == []
        # A channel without history crosses nodes too (offset 0, not stored).
        await sb.call("subscribe", {"channel": "live:x"})
        await pub.call("publish", {"channel": "live:x", "data": 7})
        assert (await sb.push())["pub"] == {"offset": 0, "data": 7}

    run(go())
    # The channels are spread over both shards.
    assert b"talk:room" in keys_on(ra) and b"talk:room" in keys_on(rb)


@pytest.fixture
def slow_links():
    """slow_links(port, delay): a SlowLink to that port, stopped after the test's nodes (ask for
    this fixture before `cluster`)."""
    links = []

    def make(port: int, delay: float) -> SlowLink:
        links.append(SlowLink(port, delay))
        return links[-1]

    yield make
    for link in links:
        link.stop()


def test_a_subscribe_without_history_is_answered_once_its_node_gets_every_later_publication(
        slow_links, cluster):
    # Node `far` reaches Redis 0.3 s late each way: its SUBSCRIBE lands long after a publish
    # made through `near` right after far's answer, unless far answers only once it is in effect.
    redis = cluster.redis()
    link = slow_links(redis.port, 0.3)
    near, far = cluster.node(redis.url), cluster.node(f"redis://127.0.0.1:{link.port}")

    async def go():
        pub, sub = await Client.open(near), await Client.open(far)
        for i in range(3):
            channel = f"live:far{i}"
            assert "result" in await sub.call("subscribe", {"channel": channel})
            await pub.call("publish", {"channel": channel, "data": i})
            assert (await sub.push())["pub"] == {"offset": 0, "data": i}

    run(go())


def test_a_subscribe_made_while_its_nodes_pubsub_link_is_remade_waits_for_it(cluster):
    # Answered once the link is back (0.3 s here; unavailable only after 2 s without it), and
    # then gets what is published, with history or without.
    redis = cluster.redis()
    near = cluster.node(redis.url)
    node = cluster.node(redis.url, env={"DUPLEXD_TEST_REDIS_RECONNECT_MS": "300"})

    async def go():
        pub, sub = await Client.open(near), await Client.open(node)
        await sub.call("ping")
        assert b"ERR" not in redis.command("CLIENT", "KILL", "TYPE", "pubsub")
        await asyncio.sleep(0.1)  # the node has seen its link go, and not yet made it again
        for channel in ("live:back", "tiny:back"):
            r = await sub.call("subscribe", {"channel": channel})
            assert "result" in r, r
            await pub.call("publish", {"channel": channel, "data": channel})
            assert (await sub.push())["pub"]["data"] == channel

    run(go())


def test_a_node_subscribes_once_per_channel_and_unsubscribes_after_the_last_leaves(cluster):
    redis = cluster.redis()
    env = {"DUPLEXD_TEST_UNSUBSCRIBE_AFTER_MS": "300"}
    a, b = cluster.node(redis.url, env=env), cluster.node(redis.url, env=env)

    def subscribed_nodes():
        reply = redis.command("PUBSUB", "NUMSUB", "duplex:{talk:once}")
        return int(reply.split(b"\r\n")[-2][1:])

    async def go():
        clients = [await Client.open(n) for n in (a, a, a, b)]
        for c in clients:
            await c.call("subscribe", {"channel": "talk:once"})
        assert subscribed_nodes() == 2  # four clients, two nodes
        for c in clients[:3]:
            await c.close()
        deadline = time.monotonic() + 5
        while subscribed_nodes() != 1:  # a left 0.3 s after its last subscriber
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        # b still delivers; a subscribes again for a new client.
        again = await Client.open(a)
        await again.call("subscribe", {"channel": "talk:once"})
        assert subscribed_nodes() == 2
        await clients[3].call("publish", {"channel": "talk:once", "data": 1})
        assert (await again.push())["pub"] == {"offset": 1, "data": 1}

    run(go())


def test_a_client_that_moves_from_node_a_to_node_c_recovers_exactly_what_it_missed(cluster):
    (na, nb, nc), _ = three_nodes(cluster)

    async def go():
        sub, pub = await Client.open(na), await Client.open(nb)
        r = await sub.call("subscribe", {"channel": "talk:move"})
        epoch = r["result"]["epoch"]
        await pub.call("publish", {"channel": "talk:move", "data": 1})
        assert (await sub.push())["pub"] == {"offset": 1, "data": 1}
        await sub.close()
        for i in range(2, 5):
            await pub.call("publish", {"channel": "talk:move", "data": i})
        moved = await Client.open(nc)
        r = await moved.call("subscribe", {"channel": "talk:move",
                                           "since": {"offset": 1, "epoch": epoch}})
        assert r["result"]["recovered"] is True
        assert [p["data"] for p in r["result"]["publications"]] == [2, 3, 4]
        assert r["result"]["offset"] == 4 and r["result"]["epoch"] == epoch
        await pub.call("publish", {"channel": "talk:move", "data": 5})
        assert (await moved.push())["pub"] == {"offset": 5, "data": 5}
        # Trimmed past the client (tiny keeps 3): not recovered, and it says so.
        for i in range(6):
            await pub.call("publish", {"channel": "tiny:t", "data": i})
        r = await moved.call("subscribe", {"channel": "tiny:t",
                                           "since": {"offset": 1, "epoch": epoch}})
        assert r["result"]["recovered"] is False

    run(go())


def test_an_idempotent_retry_sent_to_another_node_is_stored_once(cluster):
    (na, nb, nc), _ = three_nodes(cluster)

    async def go():
        a, b, watcher = await Client.open(na), await Client.open(nb), await Client.open(nc)
        await watcher.call("subscribe", {"channel": "talk:idem"})
        first = await a.call("publish", {"channel": "talk:idem", "data": "x", "key": "k-1"})
        again = await b.call("publish", {"channel": "talk:idem", "data": "x", "key": "k-1"})
        assert first["result"] == again["result"]
        status, body = api(nc, "publish", {"channel": "talk:idem", "data": "x", "key": "k-1"})
        assert status == 200 and body["result"] == first["result"]
        other = await b.call("publish", {"channel": "talk:idem", "data": "y", "key": "k-2"})
        assert other["result"]["offset"] == first["result"]["offset"] + 1
        got = [(await watcher.push())["pub"]["data"] for _ in range(2)]
        assert got == ["x", "y"]
        history = await watcher.call("history", {"channel": "talk:idem"})
        assert [p["data"] for p in history["result"]["publications"]] == ["x", "y"]

    run(go())


def test_presence_pushes_cross_the_loops_of_one_node_once(cluster):
    """Three clients of one node on its three loops (round-robin: in the order they connect).
    A join on loop 1 reaches the subscriber on loop 0 once: between the loops of a node it goes
    by the node's own hand-off (CrossLoopBatches), and the copy that comes back from Redis is
    not delivered again."""
    node = cluster.node(cluster.redis().url, threads=3)

    async def go():
        clients = [await Client.open(node) for _ in range(3)]
        ids = [(await c.call("connect"))["result"]["client"] for c in clients]
        await clients[0].call("subscribe", {"channel": "talk:loops"})
        await clients[1].call("subscribe", {"channel": "talk:loops"})
        joins = [(await clients[0].push("join"))["join"]["client"] for _ in range(2)]
        assert joins == ids[:2]  # its own, then loop 1's
        assert (await clients[1].push("join"))["join"]["client"] == ids[1]
        await clients[1].call("unsubscribe", {"channel": "talk:loops"})
        assert (await clients[0].push("leave"))["leave"]["client"] == ids[1]
        # Nothing more comes: each push once. Loop 2 has no subscriber and gets none.
        for client in clients:
            while True:
                try:
                    await client._read(timeout=0.3)
                except asyncio.TimeoutError:
                    break
        assert [p for p in clients[0].pushes if "join" in p or "leave" in p] == []
        assert clients[2].pushes == []

    run(go())


def test_presence_spans_nodes_and_a_killed_nodes_members_expire(cluster):
    (na, nb, nc), _ = three_nodes(cluster, env={"DUPLEXD_TEST_PRESENCE_TTL_MS": "1500"})

    async def go():
        a, b, c = await Client.open(na), await Client.open(nb), await Client.open(nc)
        ida = (await a.call("connect"))["result"]["client"]
        idb = (await b.call("connect"))["result"]["client"]
        assert ida != idb  # client ids are unique across nodes
        await a.call("subscribe", {"channel": "talk:here"})
        await b.call("subscribe", {"channel": "talk:here"})
        join = await a.push("join")
        while join["join"]["client"] != idb:  # a's own join comes first
            join = await a.push("join")
        listing = await c.call("presence", {"channel": "talk:here"})
        assert set(listing["result"]["clients"]) == {ida, idb}
        status, body = api(nc, "presence", {"channel": "talk:here"})
        assert status == 200 and set(body["result"]["clients"]) == {ida, idb}
        # Refreshed while the node lives: still there after two TTLs.
        await asyncio.sleep(3.2)
        listing = await c.call("presence", {"channel": "talk:here"})
        assert set(listing["result"]["clients"]) == {ida, idb}
        na.kill()  # kill -9: no leave, no goodbye
        deadline = time.monotonic() + 5
        while True:
            listing = await c.call("presence", {"channel": "talk:here"})
            if set(listing["result"]["clients"]) == {idb}:
                break
            assert time.monotonic() < deadline, listing
            await asyncio.sleep(0.2)

    run(go())


def test_a_user_disconnected_through_one_node_loses_its_connections_on_every_node(cluster):
    (na, nb, nc), _ = three_nodes(cluster)

    async def go():
        as_alice = "?token=" + token({"sub": "alice"})
        alice_b, alice_c = await Client.open(nb, as_alice), await Client.open(nc, as_alice)
        bob_c = await Client.open(nc, "?token=" + token({"sub": "bob"}))
        for c in (alice_b, alice_c, bob_c):
            await c.call("ping")
        # Asked on A, where alice has no connection: B's and C's are ended; the answer counts
        # A's only (docs/scaling.md).
        status, body = api(na, "disconnect", {"user": "alice"})
        assert status == 200 and body == {"result": {"disconnected": 0}}, body
        for c in (alice_b, alice_c):
            assert (await c.push("disconnect"))["disconnect"]["code"] == 4003
            await c.ws.wait_closed()
            assert c.ws.close_code == 4003
        assert "result" in await bob_c.call("ping")  # another user's connection stays
        # One on the answering node is ended and counted, one on C too.
        alice_a, alice_c = await Client.open(na, as_alice), await Client.open(nc, as_alice)
        await alice_a.call("ping")
        await alice_c.call("ping")
        status, body = api(na, "disconnect", {"user": "alice"})
        assert status == 200 and body == {"result": {"disconnected": 1}}, body
        for c in (alice_a, alice_c):
            assert (await c.push("disconnect"))["disconnect"]["code"] == 4003

    run(go())


def test_presence_max_spans_nodes(cluster):
    (na, nb, nc), _ = three_nodes(cluster)

    async def go():
        a, b, c = await Client.open(na), await Client.open(nb), await Client.open(nc)
        assert "result" in await a.call("subscribe", {"channel": "pair:x"})
        assert "result" in await b.call("subscribe", {"channel": "pair:x"})
        reply = await c.call("subscribe", {"channel": "pair:x"})
        assert reply["error"]["code"] == "limit_exceeded", reply

    run(go())


def test_readyz_follows_redis(cluster):
    r = cluster.redis()
    node = cluster.node(r.url)

    def readyz():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{node.port}/readyz", timeout=5) as res:
                return res.status, res.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    assert readyz()[0] == 200
    r.kill()
    status, text = readyz()
    assert status == 503 and f"127.0.0.1:{r.port}" in text, text

    async def unavailable():
        c = await Client.open(node)
        reply = await c.call("publish", {"channel": "talk:down", "data": 1})
        assert reply["error"]["code"] == "unavailable", reply
        # Presence that Redis cannot join is unavailable, not a full channel.
        reply = await c.call("subscribe", {"channel": "talk:down"})
        assert reply["error"]["code"] == "unavailable", reply
        # A channel without history too: this node could not get the other nodes' publications.
        reply = await c.call("subscribe", {"channel": "live:down"})
        assert reply["error"]["code"] == "unavailable", reply
        reply = await c.call("subscribe", {"channel": "tiny:down"})  # history, no presence
        assert reply["error"]["code"] == "unavailable", reply
        # A user disconnect still ends this node's connections, and says the others were not
        # told.
        alice = await Client.open(node, "?token=" + token({"sub": "alice"}))
        await alice.call("ping")
        status, body = api(node, "disconnect", {"user": "alice"})
        assert status == 503 and body["error"]["code"] == "unavailable", body
        assert "disconnected 1 connection(s) on this node" in body["error"]["message"], body
        assert (await alice.push("disconnect"))["disconnect"]["code"] == 4003

    run(unavailable())
    r.start()
    deadline = time.monotonic() + 5
    while readyz()[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_bad_engine_urls_wrong_passwords_and_absent_redis_fail_in_one_line(cluster, tmp_path):
    def check(result, *words):
        lines = result.stderr.strip().splitlines()
        assert result.returncode != 0, result
        assert len(lines) == 1, result.stderr
        for w in words:
            assert w in lines[0], lines[0]

    data = str(tmp_path / "d")
    check(run_duplexd("--data", data, "--engine", "http://127.0.0.1:1"), "--engine")
    check(run_duplexd("--data", data, "--engine", "redis://127.0.0.1:99999"), "--engine")
    check(run_duplexd("--data", data, "--engine", "redis://127.0.0.1:1"), "--engine",
          "127.0.0.1:1")
    # A name that does not resolve: one line naming it, however long the resolver takes (it
    # runs off the engine's loop).
    check(run_duplexd("--data", data, "--engine", "redis://no-such-host.invalid:6379"), "--engine",
          "cannot resolve no-such-host.invalid", "redis://no-such-host.invalid:6379")
    locked = cluster.redis(password="right")
    wrong = locked.url.replace(":right@", ":wrong@")
    check(run_duplexd("--data", data, "--engine", wrong), "--engine")
    assert "wrong" not in run_duplexd("--data", data, "--engine", wrong).stderr  # no password
    # The right one works.
    cluster.node(locked.url)


def test_redis_given_by_host_name_serves_as_by_address(cluster):
    redis = cluster.redis()
    by_name = redis.url.replace("127.0.0.1", "localhost")
    assert "localhost" in by_name
    a, b = cluster.node(by_name), cluster.node(redis.url)

    async def go():
        publisher, subscriber = await Client.open(a), await Client.open(b)
        await subscriber.call("subscribe", {"channel": "talk:named"})
        r = await publisher.call("publish", {"channel": "talk:named", "data": {"n": 1}})
        assert r["result"]["offset"] == 1, r
        assert (await subscriber.push())["pub"]["data"] == {"n": 1}

    run(go())
    status, body = api(a, "history", {"channel": "talk:named"})
    assert status == 200 and body["result"]["publications"][0]["data"] == {"n": 1}, body


def test_nothing_acknowledged_is_lost_when_redis_is_killed_and_restarted(cluster):
    redis = cluster.redis(durable=True)
    node, other = cluster.node(redis.url), cluster.node(redis.url)
    acked: dict[int, int] = {}

    async def publisher(stop):
        c = await Client.open(node)
        i = 0
        while not stop.is_set():
            i += 1
            while True:  # retried with the same key until acknowledged
                try:
                    r = await c.call("publish", {"channel": "talk:durable", "data": i,
                                                 "key": f"p-{i}"})
                except (websockets.ConnectionClosed, asyncio.TimeoutError):
                    c = await Client.open(node)
                    continue
                if "result" in r:
                    acked[i] = r["result"]["offset"]
                    break
                # unavailable while Redis is down; rate_limited when those retries come fast
                assert r["error"]["code"] in ("unavailable", "rate_limited"), r
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.01)  # under the connection's 100 commands a second

    async def go():
        # A subscriber on the other node stays connected through the outage: its node
        # resubscribes and delivers what it missed from the stream.
        watcher = await Client.open(other)
        await watcher.call("subscribe", {"channel": "talk:durable"})
        stop = asyncio.Event()
        task = asyncio.create_task(publisher(stop))
        await asyncio.sleep(0.5)
        redis.kill()
        await asyncio.sleep(0.3)
        redis.start()
        await asyncio.sleep(1.0)
        stop.set()
        await task
        top = max(acked.values())
        seen = []
        while not seen or seen[-1] < top:
            seen.append((await watcher.push())["pub"]["offset"])
        assert seen == list(range(1, top + 1))
        reader = await Client.open(node)
        r = await reader.call("subscribe", {"channel": "talk:durable", "since": {"offset": 0,
                                                                                 "epoch": ""}})
        stored = {p["data"]: p["offset"] for p in r["result"]["publications"]}
        assert r["result"]["recovered"] is True
        for i, offset in acked.items():
            assert stored.get(i) == offset, (i, offset)
        assert len(stored) == len(set(stored.values()))

    run(go())
    assert len(acked) > 20


def test_a_node_killed_under_load_loses_its_clients_to_the_others_who_recover_everything(cluster):
    (na, nb, nc), _ = three_nodes(cluster)
    acked = []

    async def go():
        pub = await Client.open(na)
        sub = await Client.open(nb)
        r = await sub.call("subscribe", {"channel": "talk:load"})
        epoch = r["result"]["epoch"]
        seen = []

        async def publish(n):
            for i in range(n):
                reply = await pub.call("publish", {"channel": "talk:load", "data": i})
                acked.append(reply["result"]["offset"])

        task = asyncio.create_task(publish(200))
        while len(seen) < 50:
            seen.append((await sub.push())["pub"]["offset"])
        nb.kill()
        # Whatever was read before the kill is what the client saw; it moves to C.
        while True:
            try:
                await sub._read(timeout=1)
            except Exception:
                break
        seen += [p["pub"]["offset"] for p in sub.pushes if "pub" in p]
        moved = await Client.open(nc)
        r = await moved.call("subscribe", {"channel": "talk:load",
                                           "since": {"offset": seen[-1], "epoch": epoch}})
        assert r["result"]["recovered"] is True
        seen += [p["offset"] for p in r["result"]["publications"]]
        await task
        while len(seen) < 200:
            seen.append((await moved.push())["pub"]["offset"])
        assert seen == list(range(1, 201))
        assert sorted(acked) == list(range(1, 201))

    run(go())


def test_subscribers_of_a_node_that_missed_trimmed_publications_are_told_to_recover(cluster):
    redis = cluster.redis()
    env = {"DUPLEXD_TEST_REDIS_RECONNECT_MS": "1500"}
    a, b = cluster.node(redis.url, env=env), cluster.node(redis.url, env=env)

    async def go():
        pub, sub, kept = await Client.open(a), await Client.open(b), await Client.open(b)
        r = await sub.call("subscribe", {"channel": "tiny:gap"})
        epoch = r["result"]["epoch"]
        await kept.call("subscribe", {"channel": "talk:kept"})
        # B's pub/sub connection is cut; while it is away, more is published than tiny keeps
        # (3) and a little on talk:kept.
        assert b"ERR" not in redis.command("CLIENT", "KILL", "TYPE", "pubsub")
        for i in range(5):
            await pub.call("publish", {"channel": "tiny:gap", "data": i})
        for i in range(2):
            await pub.call("publish", {"channel": "talk:kept", "data": i})
        # talk:kept is caught up from the stream once B is back, each publication once.
        got = [(await kept.push(timeout=10))["pub"] for _ in range(2)]
        assert got == [{"offset": 1, "data": 0}, {"offset": 2, "data": 1}]
        # tiny:gap cannot be: its subscriber is told to reconnect and recover (4009).
        push = await sub.push("disconnect", timeout=10)
        assert push["disconnect"]["code"] == 4009
        # CLIENT KILL cut A's pub/sub connection too: until A has it back, a subscribe there
        # may answer unavailable, which a client retries.
        again = await Client.open(a)
        deadline = time.monotonic() + 10
        while True:
            r = await again.call("subscribe", {"channel": "tiny:gap",
                                               "since": {"offset": 0, "epoch": epoch}})
            if "result" in r or time.monotonic() > deadline:
                break
            assert r["error"]["code"] == "unavailable", r
            await asyncio.sleep(0.2)
        assert r["result"]["recovered"] is False and r["result"]["offset"] == 5

    run(go())


def test_a_redis_that_lost_its_data_gives_new_epochs_and_subscribers_are_told(cluster):
    redis = cluster.redis()  # no appendonly: a restart starts empty
    a, b = cluster.node(redis.url), cluster.node(redis.url)

    async def go():
        sub, pub = await Client.open(b), await Client.open(a)
        r = await sub.call("subscribe", {"channel": "talk:lost"})
        old = r["result"]["epoch"]
        await pub.call("publish", {"channel": "talk:lost", "data": 1})
        assert (await sub.push())["pub"]["offset"] == 1
        redis.kill()
        redis.start()
        deadline = time.monotonic() + 10
        while True:  # once the node is connected again, the channel starts over
            r = await pub.call("publish", {"channel": "talk:lost", "data": 2})
            if "result" in r:
                break
            assert time.monotonic() < deadline, r
            await asyncio.sleep(0.1)
        assert r["result"]["epoch"] != old and r["result"]["offset"] == 1
        # B's subscriber held offsets of the lost history: it is told to reconnect (4009), and
        # its resubscribe says recovered: false.
        assert (await sub.push("disconnect"))["disconnect"]["code"] == 4009
        again = await Client.open(b)
        r = await again.call("subscribe", {"channel": "talk:lost",
                                           "since": {"offset": 1, "epoch": old}})
        assert r["result"]["recovered"] is False and r["result"]["epoch"] != old

    run(go())
