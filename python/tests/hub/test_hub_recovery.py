"""duplex.hub.Client across a duplexd killed with kill -9 mid-stream and restarted on the same
data dir: every acknowledged publish is stored once and reaches the subscriber once, in order;
and across a restart on a fresh data dir (history reset: a new epoch), where recovery is
refused and the caller is told."""

from __future__ import annotations

import asyncio

import duplex.hub as hub
from hub_fixtures import API_KEY, duplexd, run, until  # noqa: F401

COUNT = 150  # by the client (within the hub's per-connection burst of 200 commands)
TOTAL = COUNT + 5  # and 5 by the server API while the clients are away


def test_kill_9_mid_stream_loses_nothing_acknowledged_and_repeats_nothing(duplexd):
    url = duplexd.url

    async def go():
        subscriber = hub.Client(url, min_delay=0.05, max_delay=0.3)
        publisher = hub.Client(url, min_delay=0.05, max_delay=0.3)
        await subscriber.connect()
        await publisher.connect()
        received = []
        sub = await subscriber.subscribe("talk:stream", received.append)
        acks = {}
        numbers = iter(range(COUNT))
        read_reply = publisher._on_message
        crash = asyncio.Event()

        def lose_replies(text):
            # The acknowledgements of the publishes in flight when the server dies are lost
            # with it: the one thing kill -9 cannot make happen on demand, so the test drops
            # them on arrival (pushes still pass).
            if '"push"' in text:
                read_reply(text)

        async def worker():
            # Ten publishers at once, each publishing the next number as soon as its last one
            # is acknowledged.
            for i in numbers:
                acks[i] = await publisher.publish("talk:stream", i)
                if len(acks) == COUNT // 3:
                    publisher._on_message = lose_replies
                    crash.set()

        async def kill_and_restart():
            await crash.wait()
            # Each of the ten workers has one publish out; wait until the hub stored them all
            # (the subscriber has them), then kill it before the client saw one acknowledgement.
            await until(lambda: len(publisher._outbox) == 10
                        and len(received) == len(acks) + 10)
            duplexd.kill9()
            publisher._on_message = read_reply
            await asyncio.sleep(0.1)
            duplexd.start()  # blocks the loop briefly; duplexd dies with the thread that started it
            # Published before either client is back (the loop is blocked until they are
            # stored): the subscriber gets them only by recovering.
            api = hub.Api(duplexd.base_url, API_KEY)
            for i in range(COUNT, TOTAL):
                api.publish("talk:stream", i)

        await asyncio.gather(*(worker() for _ in range(10)), kill_and_restart())
        await until(lambda: len(received) >= TOTAL, timeout=15)
        await asyncio.sleep(0.1)  # anything twice would arrive now
        assert publisher.reconnects >= 1 and subscriber.reconnects >= 1
        assert sub.recovered is True
        assert len({a["offset"] for a in acks.values()}) == COUNT, "each acknowledged once"
        assert [p.offset for p in received] == list(range(1, TOTAL + 1))
        assert sorted(p.data for p in received) == list(range(TOTAL))
        by_offset = {p.offset: p.data for p in received}
        assert all(by_offset[a["offset"]] == i for i, a in acks.items())
        stored = hub.Api(duplexd.base_url, API_KEY).history("talk:stream", limit=1000)
        assert sorted(p["data"] for p in stored["publications"]) == list(range(TOTAL))
        await subscriber.close()
        await publisher.close()

    run(go)


def test_a_refused_recovery_is_reported_and_last_starts_over(duplexd):
    url = duplexd.url
    api = hub.Api(duplexd.base_url, API_KEY)

    async def go():
        client = hub.Client(url, min_delay=0.05, max_delay=0.3)
        await client.connect()
        lost = []
        failures = []
        client.on("recovery_failed", failures.append)
        plain = await client.subscribe("talk:plain", on_recovery_failed=lost.append)
        fresh = await client.subscribe("talk:fresh", last=2)
        for i in range(3):
            api.publish("talk:plain", i)
            api.publish("talk:fresh", i)
        assert [(await anext(plain)).data for _ in range(3)] == [0, 1, 2]
        assert [(await anext(fresh)).data for _ in range(3)] == [0, 1, 2]
        old_epoch = plain.epoch
        # A fresh data dir: the channels' histories are reset, their epochs new.
        duplexd.kill9()
        duplexd.start(data="other")
        api.publish("talk:fresh", "a")  # may come before or after the client is back
        await until(lambda: len(failures) == 2)
        assert plain.recovered is False
        assert lost and lost[0].channel == "talk:plain" and lost[0].epoch != old_epoch
        item = await anext(plain)
        assert isinstance(item, hub.RecoveryFailed) and item.epoch == plain.epoch
        # The subscription lives on: live publications follow.
        api.publish("talk:plain", "after")
        assert (await anext(plain)).data == "after"
        # With `last`, the subscription starts over with the newest publications.
        assert isinstance(await anext(fresh), hub.RecoveryFailed)
        api.publish("talk:fresh", "b")
        rest = [await anext(fresh), await anext(fresh)]
        assert [p.data for p in rest] == ["a", "b"]
        assert rest[0].offset == 1 and rest[1].offset == 2
        await client.close()

    run(go)


def test_a_subscribe_with_since_recovers_or_says_it_cannot(duplexd):
    api = hub.Api(duplexd.base_url, API_KEY)
    first = api.publish("small:x", 0)
    for i in range(1, 3):
        api.publish("small:x", i)

    async def go():
        async with hub.Client(duplexd.url) as client:
            ok = await client.subscribe("small:x", since=first)
            assert ok.recovered is True
            assert [(await anext(ok)).data for _ in range(2)] == [1, 2]
            for i in range(3, 20):
                api.publish("small:x", i)  # keeps 5: offsets 16..20
            async with hub.Client(duplexd.url) as late:
                trimmed = await late.subscribe("small:x", since=(1, first["epoch"]))
                assert trimmed.recovered is False and trimmed.epoch == first["epoch"]
                item = await anext(trimmed)
                assert isinstance(item, hub.RecoveryFailed) and item.offset == 20
                await client.publish("small:x", "live")
                assert (await anext(trimmed)).offset == 21

    run(go)
