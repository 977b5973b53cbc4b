"""duplex.hub.Client against a real duplexd: subscribe (iterator and callback, `last`),
publish acknowledged, history, presence, unsubscribe, personal channels, and the hub's error
codes arriving as exception classes."""

from __future__ import annotations

import asyncio

import pytest

import duplex.hub as hub
from hub_fixtures import API_KEY, duplexd, make_token, run, until  # noqa: F401


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_publish_is_acknowledged_and_reaches_the_iterator_in_order(duplexd, loop):
    factory = None
    if loop == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        factory = uvloop.new_event_loop

    async def go():
        async with hub.Client(duplexd.url) as sub_client, hub.Client(duplexd.url) as pub_client:
            sub = await sub_client.subscribe("talk:a")
            assert sub.result["offset"] == 0 and len(sub.result["epoch"]) == 16
            acks = [await pub_client.publish("talk:a", {"n": i}) for i in range(3)]
            assert [a["offset"] for a in acks] == [1, 2, 3]
            assert {a["epoch"] for a in acks} == {sub.result["epoch"]}
            got = [await anext(sub) for _ in range(3)]
            assert [(p.channel, p.offset, p.data, p.replayed) for p in got] == [
                ("talk:a", 1, {"n": 0}, False), ("talk:a", 2, {"n": 1}, False),
                ("talk:a", 3, {"n": 2}, False)]
            history = await pub_client.history("talk:a", limit=2)
            assert [p["data"] for p in history["publications"]] == [{"n": 1}, {"n": 2}]
            since = await pub_client.history("talk:a", since=(1, sub.result["epoch"]))
            assert [p["offset"] for p in since["publications"]] == [2, 3]
            await sub_client.unsubscribe("talk:a")
            with pytest.raises(StopAsyncIteration):
                await anext(sub)
            with pytest.raises(hub.NotSubscribedError):
                await sub_client.unsubscribe("talk:a")

    run(go, loop_factory=factory)


def test_last_replays_the_newest_then_a_callback_gets_the_live_ones(duplexd):
    async def go():
        async with hub.Client(duplexd.url) as client:
            for i in range(5):
                await client.publish("talk:b", i)
            received = []
            sub = await client.subscribe("talk:b", received.append, last=2)
            await client.publish("talk:b", 5)
            await until(lambda: len(received) == 3)
            assert [(p.offset, p.data, p.replayed) for p in received] == [
                (4, 3, True), (5, 4, True), (6, 5, False)]
            assert sub.offset == 6
            async_seen = []

            async def on_pub(p):
                async_seen.append(p.data)

            await client.subscribe("talk:c", on_pub)
            await client.publish("talk:c", "x")
            await until(lambda: async_seen == ["x"])

    run(go)


def test_presence_join_and_personal_channels(duplexd):
    async def go():
        alice = hub.Client(duplexd.url, token=make_token("alice"))
        bob = hub.Client(duplexd.url, token=make_token("bob"))
        info = await alice.connect()
        assert info["user"] == "alice"
        await bob.connect()
        joins = []
        await alice.subscribe("talk:room", on_join=joins.append)
        await bob.subscribe("talk:room")
        await until(lambda: any(j["user"] == "bob" for j in joins))
        clients = await alice.presence("talk:room")
        assert sorted(c["user"] for c in clients.values()) == ["alice", "bob"]
        personal = []
        alice.on("publication", lambda p: p.channel == "#alice" and personal.append(p.data))
        hub.Api(duplexd.base_url, API_KEY).publish("#alice", {"note": "hi"})
        await until(lambda: personal == [{"note": "hi"}])
        await alice.ping()
        await alice.close()
        await bob.close()
        assert alice.state == "closed"

    run(go)


def test_the_hubs_error_codes_are_exception_classes(duplexd):
    async def go():
        async with hub.Client(duplexd.url) as client:
            with pytest.raises(hub.NotFoundError) as e:
                await client.publish("nowhere:x", 1)
            assert e.value.code == "not_found" and "nowhere" in e.value.message
            with pytest.raises(hub.TooLargeError):
                await client.publish("tiny:x", "y" * 100)
            with pytest.raises(hub.ForbiddenError):
                await client.publish("news:x", 1)
            with pytest.raises(hub.UnauthorizedError):  # anonymous in a namespace without it
                await client.subscribe("private:x")
            with pytest.raises(hub.BadRequestError):
                await client.history("talk:x", limit=5000)
            await client.subscribe("talk:x")
            with pytest.raises(hub.AlreadySubscribedError):
                await client.subscribe("talk:x")
            with pytest.raises(hub.NotFoundError):
                await client.subscribe("nowhere:y")
            # The client goes on after every refusal.
            assert (await client.publish("talk:x", "fine"))["offset"] == 1
        with pytest.raises(hub.ClientClosedError):
            await client.publish("talk:x", "after close")
        forged = hub.Client(duplexd.url, token=make_token("mallory", secret="wrong"))
        with pytest.raises(hub.UnauthorizedError) as e:
            await forged.connect()
        assert not isinstance(e.value, hub.TokenExpiredError)
        assert forged.state == "closed"
        assert issubclass(hub.HubTimeoutError, TimeoutError)
        assert hub.error_from("something_new", "m").code == "something_new"

    run(go)


def test_a_publish_waits_for_the_connection_and_the_server_coming_up(tmp_path):
    from hub_fixtures import Duplexd

    server = Duplexd(tmp_path)
    server.start()
    port = server.port
    server.kill9()

    async def go():
        client = hub.Client(f"ws://127.0.0.1:{port}/connection", min_delay=0.05, max_delay=0.2)
        connecting = asyncio.ensure_future(client.connect())
        publishing = asyncio.ensure_future(client.publish("talk:late", "queued"))
        await asyncio.sleep(0.3)
        assert not connecting.done() and client.state in ("connecting", "disconnected")
        server.start()  # in this thread: duplexd dies with the thread that started it
        await connecting
        assert (await publishing)["offset"] == 1
        await client.close()

    try:
        run(go)
    finally:
        server.process.stop_and_check()


def test_the_reconnect_delay_doubles_up_to_its_cap_and_is_jittered():
    from duplex.hub.client import backoff_delay

    assert [backoff_delay(n, 0.2, 10.0, rand=lambda: 0.0) for n in range(8)] == [
        0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    assert [backoff_delay(n, 0.2, 10.0, rand=lambda: 1.0) for n in range(8)] == [
        0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0, 10.0]
    delays = {backoff_delay(3, 0.2, 10.0) for _ in range(50)}
    assert len(delays) > 40 and all(0.8 <= d <= 1.6 for d in delays)
    assert backoff_delay(1000, 0.2, 10.0) <= 10.0
