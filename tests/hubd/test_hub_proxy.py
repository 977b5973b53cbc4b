"""The proxies (docs/protocol.md, "Proxies") through a real duplexd and a real back end
(aiohttp, backend_support.py): connect decided by the upgrade's cookie, refused, timed out and
unreachable; subscribe refused; publish refused and replaced; rpc answered and failing; a
slow back end holding up nobody else; and duplexd on four loops, each asking for its own
connections (hub.loops4 runs the whole file on four loops as well)."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from backend_support import Backend  # noqa: E402
from hub_support import Client, api, hub, run  # noqa: E402,F401 (hub is a fixture)
from test_hub_loops import loop_of, metrics  # noqa: E402


@pytest.fixture
def backend():
    b = Backend()
    yield b
    b.stop()


def config(backend, timeout_ms=1000, **overrides):
    proxy = {name: {"url": backend.url("/" + name), "timeout_ms": timeout_ms}
             for name in ("connect", "subscribe", "publish", "rpc")}
    proxy["headers"] = ["Cookie", "X-Forwarded-For"]
    proxy.update(overrides)
    return {"namespaces": {
        "chat": {"history_size": 100, "anonymous": False, "subscribe_proxy": True,
                 "publish_proxy": True},
        "open": {"history_size": 10}},
        "proxy": proxy}


def as_user(name):
    return {"extra_headers": {"Cookie": f"theme=dark; session={name}"}}


def test_connect_maps_the_upgrade_cookie_to_a_user_who_then_chats(hub, backend):
    server = hub(config=config(backend))

    async def go():
        alice = await Client.open(server, **as_user("alice"))
        bob = await Client.open(server, **as_user("bob"))
        connected = await alice.call("connect")
        assert connected["result"]["user"] == "alice", connected
        assert (await bob.call("connect"))["result"]["user"] == "bob"
        request = backend.bodies("/connect")[0]
        assert request["headers"] == {"Cookie": "theme=dark; session=alice"}
        assert request["transport"] == "websocket"
        assert request["client"] == connected["result"]["client"]
        assert "result" in await bob.call("subscribe", {"channel": "chat:main"})
        assert backend.bodies("/subscribe")[-1] == {
            "client": bob.ws and backend.bodies("/subscribe")[-1]["client"],
            "user": "bob", "channel": "chat:main"}
        ack = await alice.call("publish", {"channel": "chat:main", "data": {"text": "hi bob"}})
        assert ack["result"]["offset"] == 1, ack
        assert (await bob.push())["pub"]["data"] == {"text": "hi bob"}
        assert backend.bodies("/publish")[-1]["data"] == {"text": "hi bob"}
        assert backend.bodies("/publish")[-1]["user"] == "alice"
        # The channels the back end named: bob is subscribed to chat:news by the server.
        status, _ = api(server, "publish", {"channel": "chat:news", "data": {"n": 1}})
        assert status == 200
        assert (await bob.push())["channel"] == "chat:news"

    run(go())


def test_connect_without_a_session_is_refused_with_the_back_ends_code(hub, backend):
    server = hub(config=config(backend))

    async def go():
        nobody = await Client.open(server)
        await nobody.ws.send(json.dumps({"id": 1, "connect": {}}))
        # Sent behind the connect: never handled, since the connect is refused.
        await nobody.ws.send(json.dumps({"id": 2, "subscribe": {"channel": "open:x"}}))
        reply = json.loads(await nobody.ws.recv())
        assert reply == {"id": 1, "error": {"code": "unauthorized", "message": "log in first"}}
        push = json.loads(await nobody.ws.recv())
        assert push == {"push": {"disconnect": {"code": 4001, "reason": "log in first"}}}
        await nobody.ws.wait_closed()
        assert nobody.ws.close_code == 4001
        banned = await Client.open(server, **as_user("banned"))
        assert (await banned.call("connect"))["error"]["code"] == "forbidden"
        # Without connecting, a connection is anonymous: chat:* is not for it.
        anonymous = await Client.open(server)
        refused = await anonymous.call("subscribe", {"channel": "chat:main"})
        assert refused["error"]["code"] == "unauthorized"
        assert not backend.bodies("/subscribe")

    run(go())


def test_commands_sent_behind_the_connect_wait_for_it_in_order(hub, backend):
    server = hub(config=config(backend))
    backend.delay["/connect"] = 0.3

    async def go():
        alice = await Client.open(server, **as_user("alice"))
        for message in ({"id": 1, "connect": {}},
                        {"id": 2, "subscribe": {"channel": "chat:main"}},
                        {"id": 3, "publish": {"channel": "chat:main", "data": {"text": "first"}}}):
            await alice.ws.send(json.dumps(message))
        replies = {}
        pubs = []
        while len(replies) < 3 or not pubs:
            message = json.loads(await asyncio.wait_for(alice.ws.recv(), 5))
            if "push" in message:
                pubs.append(message["push"])
            else:
                replies[message["id"]] = message
        assert replies[1]["result"]["user"] == "alice"
        assert "result" in replies[2] and replies[3]["result"]["offset"] == 1, replies
        assert pubs[0]["pub"]["data"] == {"text": "first"}

    run(go())


def test_a_slow_back_end_times_out_as_unavailable_and_holds_up_nobody_else(hub, backend):
    server = hub(config=config(backend, timeout_ms=1500))
    backend.delay["/connect"] = 5

    async def go():
        slow = await Client.open(server, **as_user("alice"))
        other = await Client.open(server)
        started = time.monotonic()
        waiting = asyncio.ensure_future(slow.call("connect"))
        await asyncio.sleep(0.05)
        # Another connection is answered while the first still waits for the back end.
        assert (await other.call("ping"))["result"] == {}
        assert (await other.call("subscribe", {"channel": "open:x"}))["result"]["offset"] == 0
        assert not waiting.done()
        reply = await waiting
        elapsed = time.monotonic() - started
        assert reply["error"]["code"] == "unavailable", reply
        assert "did not answer within 1500 ms" in reply["error"]["message"]
        assert 1.4 < elapsed < 4.5
        # Unavailable is not a refusal: the connection stays and may connect again.
        backend.delay["/connect"] = 0
        assert (await slow.call("connect"))["result"]["user"] == "alice"
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as r:
            metrics = r.read().decode()
        assert "\nduplex_hub_proxy_requests_total 2\n" in metrics
        assert "\nduplex_hub_proxy_unavailable_total 1\n" in metrics

    run(go())


def test_a_back_end_that_is_down_or_broken_is_unavailable(hub, backend):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    proxy = config(backend)["proxy"]
    proxy["connect"] = {"url": f"http://127.0.0.1:{closed_port}/connect"}
    proxy["rpc"] = {"url": backend.url("/broken")}
    server = hub(config={"namespaces": {"open": {}}, "proxy": proxy})

    async def go():
        client = await Client.open(server, **as_user("alice"))
        reply = await client.call("connect")
        assert reply["error"]["code"] == "unavailable"
        assert "cannot be reached" in reply["error"]["message"]
        rpc = await client.call("rpc", {"method": "add", "data": {}})
        assert rpc["error"] == {"code": "unavailable",
                                "message": "the back end's rpc proxy answered HTTP 500"}
        assert (await client.call("ping"))["result"] == {}

    run(go())


def test_subscribe_refused_by_the_back_end(hub, backend):
    server = hub(config=config(backend))

    async def go():
        alice = await Client.open(server, **as_user("alice"))
        await alice.call("connect")
        await alice.ws.send(json.dumps({"id": 1, "subscribe": {"channel": "chat:secret"}}))
        # Behind the subscribe: handled once it is answered (and, not subscribed, alice gets
        # no push of it).
        await alice.ws.send(json.dumps(
            {"id": 2, "publish": {"channel": "chat:secret", "data": {"text": "x"}}}))
        first = json.loads(await alice.ws.recv())
        assert first == {"id": 1, "error": {"code": "forbidden", "message": "not for alice"}}
        second = json.loads(await alice.ws.recv())
        assert second["id"] == 2 and second["result"]["offset"] == 1, second
        assert "result" in await alice.call("subscribe", {"channel": "chat:main"})
        assert alice.pushes == []

    run(go())


def test_publish_refused_or_replaced_by_the_back_end(hub, backend):
    server = hub(config=config(backend))

    async def go():
        alice = await Client.open(server, **as_user("alice"))
        bob = await Client.open(server, **as_user("bob"))
        await alice.call("connect")
        await bob.call("connect")
        await bob.call("subscribe", {"channel": "chat:main"})
        refused = await alice.call("publish", {"channel": "chat:main",
                                               "data": {"text": "you rude person"}})
        assert refused["error"] == {"code": "bad_request", "message": "no rude words"}
        replaced = await alice.call("publish", {"channel": "chat:main",
                                                "data": {"text": "replace me"}})
        assert replaced["result"]["offset"] == 1, replaced
        assert (await bob.push())["pub"] == {"offset": 1,
                                             "data": {"text": "replaced", "by": "alice"}}
        status, history = api(server, "history", {"channel": "chat:main"})
        assert [p["data"] for p in history["result"]["publications"]] == [
            {"text": "replaced", "by": "alice"}]
        # Publishes of one connection are asked one at a time, and stored in the order sent.
        for i in range(5):
            await alice.ws.send(json.dumps({"id": 100 + i, "publish": {
                "channel": "chat:main", "data": {"text": f"n{i}"}}}))
        texts = [(await bob.push())["pub"]["data"]["text"] for _ in range(5)]
        assert texts == [f"n{i}" for i in range(5)]

    run(go())


def test_a_publish_the_back_end_does_not_answer_is_not_stored(hub, backend):
    server = hub(config=config(backend, timeout_ms=300))

    async def go():
        alice = await Client.open(server, **as_user("alice"))
        await alice.call("connect")
        backend.delay["/publish"] = 2
        reply = await alice.call("publish", {"channel": "chat:main", "data": {"text": "late"}})
        assert reply["error"]["code"] == "unavailable"
        status, history = api(server, "history", {"channel": "chat:main"})
        assert history["result"]["publications"] == []

    run(go())


def test_rpc_is_answered_by_the_back_end(hub, backend):
    server = hub(config=config(backend))

    async def go():
        alice = await Client.open(server, **as_user("alice"))
        await alice.call("connect")
        answer = await alice.call("rpc", {"method": "add", "data": {"a": 2, "b": 3}})
        assert answer["result"] == {"data": {"sum": 5, "user": "alice",
                                             "cookie": "theme=dark; session=alice"}}
        failing = await alice.call("rpc", {"method": "nope"})
        assert failing["error"] == {"code": "not_found", "message": "no method nope"}
        assert backend.bodies("/rpc")[-1]["data"] is None
        missing = await alice.call("rpc", {"data": 1})
        assert missing["error"]["code"] == "bad_request"

    run(go())


def test_rpc_without_a_proxy_is_not_found(hub):
    server = hub()

    async def go():
        client = await Client.open(server)
        reply = await client.call("rpc", {"method": "add"})
        assert reply["error"]["code"] == "not_found"

    run(go())


@pytest.mark.parametrize("bad, words", [
    ({"proxy": {"connect": {"url": "ftp://x"}}}, "proxy.connect.url: must be an http"),
    ({"proxy": {"connect": {"url": "http://"}}}, "proxy.connect.url: must be an http"),
    ({"proxy": {"connect": {"timeout_ms": 5}}}, "proxy.connect.url: is required"),
    ({"proxy": {"connect": {"url": "http://127.0.0.1/c", "timeout_ms": 0}}}, "proxy.connect.timeout_ms"),
    ({"proxy": {"conect": {"url": "http://127.0.0.1/c"}}}, "proxy.conect: unknown option"),
    ({"proxy": {"headers": "Cookie"}}, "proxy.headers: must be a list"),
    ({"namespaces": {"chat": {"publish_proxy": True}}}, "needs proxy.publish.url"),
])
def test_check_config_refuses_bad_proxy_settings(tmp_path, bad, words):
    import os
    import subprocess
    from support import servers
    command = os.environ.get("DUPLEXD") or str(servers.REPO / "build/release/apps/duplexd")
    path = tmp_path / "hub.json"
    path.write_text(json.dumps(bad, indent=2))
    done = subprocess.run([command, "check-config", str(path)], capture_output=True, text=True)
    assert done.returncode != 0
    assert words in done.stdout + done.stderr, done


def test_connections_that_close_while_the_back_end_decides_are_forgotten(hub, backend):
    server = hub(config=config(backend))

    async def go():
        alice = await Client.open(server, **as_user("alice"))
        await alice.call("connect")
        backend.delay.update({"/connect": 0.3, "/subscribe": 0.3, "/publish": 0.3, "/rpc": 0.3})
        leaving = await Client.open(server, **as_user("bob"))
        await leaving.ws.send(json.dumps({"id": 1, "connect": {}}))
        await alice.ws.send(json.dumps({"id": 2, "subscribe": {"channel": "chat:a"}}))
        await alice.ws.send(json.dumps(
            {"id": 3, "publish": {"channel": "chat:b", "data": {"text": "gone"}}}))
        await alice.ws.send(json.dumps({"id": 4, "rpc": {"method": "add", "data": {"a": 1, "b": 1}}}))
        await asyncio.sleep(0.05)
        await leaving.close()
        await alice.close()
        await asyncio.sleep(0.5)  # the answers arrive for connections that are gone
        status, history = api(server, "history", {"channel": "chat:b"})
        assert history["result"]["publications"] == []  # nobody left to acknowledge: not stored
        backend.delay.clear()
        again = await Client.open(server, **as_user("carol"))
        assert (await again.call("connect"))["result"]["user"] == "carol"

    run(go())


def test_on_four_loops_each_loop_asks_the_back_end_for_its_own_connections(hub, backend):
    # One connection per loop (round-robin hands four in a row to four loops), each asking the
    # back end at the same time: every answer must come back to its own connection, on its
    # loop (the connect's user, the rpc's sum), and the proxied publishes of all four loops
    # land in one channel with one offset sequence.
    server = hub("--threads", "4", "--log-level", "debug", config=config(backend))
    users = [f"user{i}" for i in range(4)]

    async def go():
        clients = [await Client.open(server, **as_user(user)) for user in users]
        backend.delay.update({"/connect": 0.2, "/rpc": 0.2})  # all four in flight at once
        connected = await asyncio.gather(*(c.call("connect") for c in clients))
        assert [r["result"]["user"] for r in connected] == users, connected
        assert sorted(loop_of(server, c.ws) for c in clients) == [0, 1, 2, 3]
        subscribed = await asyncio.gather(
            *(c.call("subscribe", {"channel": "chat:main"}) for c in clients))
        assert all("result" in r for r in subscribed), subscribed
        acks = await asyncio.gather(*(
            c.call("publish", {"channel": "chat:main", "data": {"text": f"from {user}"}})
            for c, user in zip(clients, users)))
        assert sorted(a["result"]["offset"] for a in acks) == [1, 2, 3, 4], acks
        for c in clients:
            got = [(await c.push())["pub"] for _ in users]
            assert sorted(p["offset"] for p in got) == [1, 2, 3, 4]
            assert sorted(p["data"]["text"] for p in got) == [f"from {u}" for u in users]
        sums = await asyncio.gather(*(
            c.call("rpc", {"method": "add", "data": {"a": i, "b": 100}})
            for i, c in enumerate(clients)))
        assert [(s["result"]["data"]["sum"], s["result"]["data"]["user"]) for s in sums] == [
            (100 + i, user) for i, user in enumerate(users)], sums

    run(go())
    counted = metrics(server)
    assert counted["duplex_hub_proxy_requests_total"] == 16  # 4 loops x connect, subscribe,
    assert counted["duplex_hub_proxy_unavailable_total"] == 0  # publish and rpc


def test_the_example_back_ends_hub_config_is_valid():
    import os
    import subprocess
    from support import servers
    command = os.environ.get("DUPLEXD") or str(servers.REPO / "build/release/apps/duplexd")
    path = servers.REPO / "examples/python/backend/hub.json"
    done = subprocess.run([command, "check-config", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done
    assert done.stdout.strip().endswith(": ok")
