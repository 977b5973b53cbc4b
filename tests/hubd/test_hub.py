"""The hub protocol (docs/protocol.md) against a real duplexd: every command, the error codes,
acknowledged and idempotent publish, recovery across a killed server, recovery refused after
trimming, token auth, the Origin allow-list and the server API."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hub_support import Client, api, hub, run, token  # noqa: E402,F401 (hub is a fixture)


def test_publish_is_acknowledged_after_it_is_stored_and_delivered(hub):
    server = hub()

    async def go():
        a, b = await Client.open(server), await Client.open(server)
        assert (await a.call("connect"))["result"]["client"].startswith("c-")
        sub = await b.call("subscribe", {"channel": "talk:main"})
        assert sub["result"]["offset"] == 0 and len(sub["result"]["epoch"]) == 16
        ack = await a.call("publish", {"channel": "talk:main", "data": {"text": "hi"}})
        assert ack["result"] == {"offset": 1, "epoch": sub["result"]["epoch"]}
        pub = await b.push()
        assert pub == {"channel": "talk:main", "pub": {"offset": 1, "data": {"text": "hi"}}}
        assert (await a.call("ping"))["result"] == {}
        history = await a.call("history", {"channel": "talk:main"})
        assert history["result"]["publications"] == [{"offset": 1, "data": {"text": "hi"}}]
        await a.close()
        await b.close()

    run(go())


@pytest.mark.parametrize("channel", ["talk:sent-together", "demo:sent-together"])
def test_a_publish_sent_right_after_a_subscribe_reaches_its_own_sender(hub, channel):
    # The commands of one connection take effect in the order sent, even while the subscribe
    # waits for the engine (presence in talk:*, the store's read): both frames go in one write,
    # so the server reads them in one loop iteration.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from support import rawws

    server = hub()
    conn = rawws.open_ws(server.port, "/connection")
    data = {"text": "mine"} if channel.startswith("talk") else {"kind": "cat"}
    subscribe = json.dumps({"id": 1, "subscribe": {"channel": channel}}).encode()
    publish = json.dumps({"id": 2, "publish": {"channel": channel, "data": data}}).encode()
    conn.send(rawws.frame(rawws.OP_TEXT, subscribe) + rawws.frame(rawws.OP_TEXT, publish))
    replies, pushes = {}, []
    while len(replies) < 2 or not pushes:
        message = json.loads(conn.read_frame().payload)
        if "push" in message:
            if "pub" in message["push"]:  # not the presence join it announces too
                pushes.append(message["push"])
        else:
            replies[message["id"]] = message
    assert "result" in replies[1], replies
    assert replies[2]["result"]["offset"] == 1, replies
    assert pushes[0] == {"channel": channel, "pub": {"offset": 1, "data": data}}
    conn.close()


@pytest.mark.parametrize("command, code", [
    ({"id": 1, "frobnicate": {}}, "unknown_command"),
    ({"id": 2, "subscribe": {}}, "bad_request"),
    ({"id": 3, "subscribe": {"channel": "nowhere:x"}}, "not_found"),
    ({"id": 4, "subscribe": {"channel": "bad channel!"}}, "bad_request"),
    ({"id": 5, "subscribe": {"channel": "private:x"}}, "unauthorized"),
    ({"id": 6, "unsubscribe": {"channel": "talk:main"}}, "not_subscribed"),
    ({"id": 7, "publish": {"channel": "talk:x", "data": "x" * 20000}}, "too_large"),
    ({"id": 8, "presence": {"channel": "private:x"}}, "forbidden"),
    ({"subscribe": {"channel": "talk:main"}}, "bad_request"),
])
def test_malformed_commands_get_their_error_code_and_the_connection_stays(hub, command, code):
    server = hub()

    async def go():
        c = await Client.open(server)
        await c.ws.send(json.dumps(command))
        reply = await c._read()
        assert reply["error"]["code"] == code, reply
        assert reply["id"] == command.get("id", 0)
        assert (await c.call("ping"))["result"] == {}
        await c.close()

    run(go())


def test_subscribing_twice_and_binary_frames_are_errors_and_not_json_closes_1007(hub):
    server = hub()

    async def go():
        c = await Client.open(server)
        await c.call("subscribe", {"channel": "talk:a"})
        assert (await c.call("subscribe", {"channel": "talk:a"}))["error"]["code"] == "already_subscribed"
        await c.ws.send(b'{"id":9,"ping":{}}')
        assert (await c._read())["error"]["code"] == "bad_request"
        await c.ws.send("this is not json")
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            await c._read()
        assert c.ws.close_code == 1007

    run(go())


def test_a_retried_publish_with_the_same_key_is_stored_once(hub):
    server = hub()

    async def go():
        pub, sub = await Client.open(server), await Client.open(server)
        await sub.call("subscribe", {"channel": "talk:k"})
        first = await pub.call("publish", {"channel": "talk:k", "data": 1, "key": "c1-1"})
        again = await pub.call("publish", {"channel": "talk:k", "data": 1, "key": "c1-1"})
        other = await pub.call("publish", {"channel": "talk:k", "data": 2, "key": "c1-2"})
        assert first["result"] == again["result"]
        assert other["result"]["offset"] == first["result"]["offset"] + 1
        got = [await sub.push(), await sub.push()]
        assert [p["pub"]["data"] for p in got] == [1, 2]
        history = await pub.call("history", {"channel": "talk:k"})
        assert [p["data"] for p in history["result"]["publications"]] == [1, 2]

    run(go())


def test_a_reconnecting_client_recovers_exactly_what_it_missed_across_a_killed_server(hub, tmp_path):
    data = tmp_path / "kept"
    server = hub(data=data)
    port = server.port

    async def before():
        pub, sub = await Client.open(server), await Client.open(server)
        r = await sub.call("subscribe", {"channel": "talk:live"})
        for i in range(5):
            await pub.call("publish", {"channel": "talk:live", "data": i})
        seen = [(await sub.push())["pub"] for _ in range(5)]
        epoch = (await pub.call("history", {"channel": "talk:live"}))["result"]["epoch"]
        for i in range(5, 8):  # the subscriber "misses" these (it stops reading)
            await pub.call("publish", {"channel": "talk:live", "data": i})
        return r, seen, epoch

    _, seen, epoch = run(before())
    assert [p["offset"] for p in seen] == [1, 2, 3, 4, 5]
    server.kill()
    again = hub("--port", str(port), data=data)

    async def after():
        sub = await Client.open(again)
        r = await sub.call("subscribe", {"channel": "talk:live",
                                         "since": {"offset": 5, "epoch": epoch}})
        assert r["result"]["recovered"] is True
        assert [p["data"] for p in r["result"]["publications"]] == [5, 6, 7]
        assert r["result"]["offset"] == 8
        pub = await Client.open(again)
        await pub.call("publish", {"channel": "talk:live", "data": 8})
        assert (await sub.push())["pub"] == {"offset": 9, "data": 8}
        wrong = await sub.call("subscribe", {"channel": "talk:other",
                                             "since": {"offset": 3, "epoch": "0123456789abcdef"}})
        assert wrong["result"]["recovered"] is False

    run(after())


def test_recovery_is_refused_when_history_was_trimmed_past_the_client(hub):
    server = hub(config={"namespaces": {"small": {"history_size": 5}}})

    async def go():
        pub = await Client.open(server)
        first = await pub.call("publish", {"channel": "small:x", "data": 0})
        for i in range(1, 20):
            await pub.call("publish", {"channel": "small:x", "data": i})
        sub = await Client.open(server)
        r = await sub.call("subscribe", {"channel": "small:x", "since": {
            "offset": first["result"]["offset"], "epoch": first["result"]["epoch"]}})
        assert r["result"]["recovered"] is False
        assert r["result"]["offset"] == 20
        recent = await sub.call("subscribe", {"channel": "small:y"})
        assert "error" not in recent

    run(go())


def test_presence_max_refuses_one_member_more_until_one_leaves(hub):
    server = hub(config={"namespaces": {"pair": {"presence": True, "presence_max": 2}}})

    async def go():
        a, b, c = [await Client.open(server) for _ in range(3)]
        assert "result" in await a.call("subscribe", {"channel": "pair:x"})
        assert "result" in await b.call("subscribe", {"channel": "pair:x"})
        full = await c.call("subscribe", {"channel": "pair:x"})
        assert full["error"]["code"] == "limit_exceeded", full
        assert "result" in await a.call("unsubscribe", {"channel": "pair:x"})
        assert "result" in await c.call("subscribe", {"channel": "pair:x"})

    run(go())


def test_tokens_valid_expired_forged_and_granted(hub):
    server = hub()
    now = int(time.time())

    async def go():
        good = await Client.open(server)
        r = await good.call("connect", {"token": token({"sub": "alice", "exp": now + 60,
                                                        "channels": ["private:alice-*"]})})
        assert r["result"]["user"] == "alice"
        assert "error" not in await good.call("subscribe", {"channel": "private:alice-notes"})
        denied = await good.call("subscribe", {"channel": "private:bob-notes"})
        assert denied["error"]["code"] == "forbidden"
        for bad, code in [
            (token({"sub": "x", "exp": now - 10}), "token_expired"),
            (token({"sub": "x"}, secret="wrong"), "unauthorized"),
            (token({"sub": "x"}, alg="none").rsplit(".", 1)[0] + ".", "unauthorized"),
            ("not.a.token", "unauthorized"),
        ]:
            c = await Client.open(server)
            reply = await c.call("connect", {"token": bad})
            assert reply["error"]["code"] == code, bad
            assert bad not in reply["error"]["message"]
            await c.close()
        # A bad token in the query string: disconnect push 4001, then close 4001.
        c = await Client.open(server, "?token=" + token({"sub": "x"}, secret="wrong"))
        push = await c.push("disconnect")
        assert push["disconnect"]["code"] == 4001
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            await c._read()
        assert c.ws.close_code == 4001

    run(go())


def test_personal_channels_reach_a_user_and_the_api_disconnects_them(hub):
    server = hub()

    async def go():
        alice = await Client.open(server, "?token=" + token({"sub": "alice"}))
        await alice.call("ping")
        status, body = api(server, "publish", {"channel": "#alice", "data": {"note": "hi"}})
        assert status == 200, body
        assert (await alice.push())["pub"]["data"] == {"note": "hi"}
        status, body = api(server, "disconnect", {"user": "alice"})
        assert body == {"result": {"disconnected": 1}}
        push = await alice.push("disconnect")
        assert push["disconnect"]["code"] == 4003

    run(go())


def test_presence_join_leave_and_listing(hub):
    server = hub()

    async def go():
        a, b = await Client.open(server), await Client.open(server)
        await a.call("subscribe", {"channel": "talk:room"})
        assert (await a.push("join"))["join"]["client"] == (await a.call("connect"))["result"]["client"]
        await b.call("subscribe", {"channel": "talk:room"})
        join = await a.push("join")
        listing = await a.call("presence", {"channel": "talk:room"})
        assert len(listing["result"]["clients"]) == 2
        await b.close()
        leave = await a.push("leave")
        assert leave["leave"]["client"] == join["join"]["client"]

    run(go())


def test_the_server_api_needs_its_key(hub):
    server = hub()
    assert api(server, "publish", {"channel": "talk:x", "data": 1}, key=None)[0] == 401
    status, body = api(server, "publish", {"channel": "talk:x", "data": 1}, key="nope")
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = api(server, "publish", {"channel": "talk:x", "data": 1})
    assert status == 200 and body["result"]["offset"] == 1
    status, body = api(server, "history", {"channel": "talk:x"})
    assert body["result"]["publications"] == [{"offset": 1, "data": 1}]
    status, body = api(server, "publish", {"channel": "nowhere:x", "data": 1})
    assert status == 404 and body["error"]["code"] == "not_found"


def test_origin_allow_list_refuses_other_browsers(hub):
    server = hub("--allow-origin", "http://good.example")

    async def go():
        ok = await Client.open(server, origin="http://good.example")
        await ok.call("ping")
        with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
            await Client.open(server, origin="http://evil.example")
        assert refused.value.status_code == 403
        # Non-browser clients send no Origin and are not affected.
        plain = await Client.open(server)
        await plain.call("ping")

    run(go())
