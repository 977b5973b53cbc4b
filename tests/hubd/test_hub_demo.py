"""What the tomato page needs from the hub, against a real duplexd: subscribe with `last`, an
epoch on channels that were never published to, per-namespace publish rates, and duplexd's
`demo` namespace with its throw rules (docs/protocol.md)."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hub_support import Client, api, hub, run  # noqa: E402,F401 (hub is a fixture)

EPOCH = re.compile(r"^[0-9a-f]{16}$")
CONFIG = {"namespaces": {
    "talk": {"history_size": 1000},
    "small": {"history_size": 3},
    "plain": {},
    # One publication per 2 s: the test's three quick publishes stay well within one interval
    # even on a loaded machine.
    "slow": {"history_size": 100, "publish_rate": 0.5, "publish_burst": 2},
}}


async def publish_all(client, channel, items):
    return [(await client.call("publish", {"channel": channel, "data": d}))["result"]
            for d in items]


def test_subscribe_last_gives_the_newest_oldest_first_and_live_pushes_follow(hub):
    server = hub(config=CONFIG)

    async def go():
        pub = await Client.open(server)
        await publish_all(pub, "talk:last", list(range(1, 8)))
        sub = await Client.open(server)
        r = (await sub.call("subscribe", {"channel": "talk:last", "last": 5}))["result"]
        assert r["offset"] == 7 and EPOCH.match(r["epoch"])
        assert r["publications"] == [{"offset": o, "data": o} for o in range(3, 8)]
        assert "recovered" not in r
        ack = (await pub.call("publish", {"channel": "talk:last", "data": 8}))["result"]
        assert ack == {"offset": 8, "epoch": r["epoch"]}
        assert (await sub.push())["pub"] == {"offset": 8, "data": 8}

        # Fewer kept than asked: what is kept. Zero: none, but the position.
        await publish_all(pub, "small:x", list(range(1, 11)))
        r = (await sub.call("subscribe", {"channel": "small:x", "last": 500}))["result"]
        assert [p["offset"] for p in r["publications"]] == [8, 9, 10] and r["offset"] == 10
        r = (await sub.call("subscribe", {"channel": "talk:zero", "last": 0}))["result"]
        assert r["publications"] == [] and r["offset"] == 0 and EPOCH.match(r["epoch"])
        # A namespace without history has nothing to give, and no epoch.
        r = (await sub.call("subscribe", {"channel": "plain:x", "last": 10}))["result"]
        assert r == {"epoch": "", "offset": 0, "publications": []}
        # The most a subscribe may ask for is duplexd's maxRecovery (10,000).
        r = await sub.call("subscribe", {"channel": "talk:most", "last": 10000})
        assert r["result"]["publications"] == []

    run(go())


def test_publications_during_a_last_subscribe_are_neither_lost_nor_repeated(hub):
    server = hub(config=CONFIG)

    async def go():
        pub = await Client.open(server)
        await publish_all(pub, "talk:race", list(range(50)))
        # Publishes in flight while the subscribe is read: each offset arrives exactly once,
        # either in the reply or as a push.
        sends = [pub.ws.send(json.dumps({"id": 1 + i, "publish": {"channel": "talk:race",
                                                                   "data": 50 + i}}))
                 for i in range(50)]
        sub = await Client.open(server)
        subscribing = sub.call("subscribe", {"channel": "talk:race", "last": 10000})
        _, r = await asyncio.gather(asyncio.gather(*sends), subscribing)
        offsets = [p["offset"] for p in r["result"]["publications"]]
        assert offsets == list(range(1, r["result"]["offset"] + 1))
        while offsets[-1] < 100:
            offsets.append((await sub.push())["pub"]["offset"])
        assert offsets == list(range(1, 101))

    run(go())


@pytest.mark.parametrize("params, message", [
    ({"last": 10001}, "subscribe.last must be an integer from 0 to 10000"),
    ({"last": -1}, "subscribe.last must be a non-negative integer"),
    ({"last": 2.5}, "subscribe.last must be a non-negative integer"),
    ({"last": "5"}, "subscribe.last must be a non-negative integer"),
    ({"last": 5, "since": {"offset": 0, "epoch": ""}},
     "subscribe.last and subscribe.since exclude each other"),
])
def test_bad_last_values_are_bad_requests_and_the_connection_stays(hub, params, message):
    server = hub(config=CONFIG)

    async def go():
        c = await Client.open(server)
        r = await c.call("subscribe", {"channel": "talk:x", **params})
        assert r["error"] == {"code": "bad_request", "message": message}
        # Not subscribed by the refused command.
        assert "result" in await c.call("subscribe", {"channel": "talk:x"})

    run(go())


def test_an_empty_channel_has_a_real_epoch_that_recovers_later(hub, tmp_path):
    data = tmp_path / "kept"
    server = hub(data=data, config=CONFIG)
    port = server.port

    async def before():
        early = await Client.open(server)
        told = (await early.call("subscribe", {"channel": "talk:empty"}))["result"]
        assert told["offset"] == 0 and EPOCH.match(told["epoch"])
        # Every reply about the channel names the same history.
        history = (await early.call("history", {"channel": "talk:empty"}))["result"]
        assert (history["epoch"], history["offset"], history["publications"]) == \
            (told["epoch"], 0, [])
        status, body = api(server, "history", {"channel": "talk:api-first"})
        assert status == 200 and EPOCH.match(body["result"]["epoch"])
        return told, body["result"]["epoch"]

    told, api_epoch = run(before())
    server.kill()
    again = hub("--port", str(port), data=data, config=CONFIG)

    async def after():
        pub = await Client.open(again)
        ack = (await pub.call("publish", {"channel": "talk:empty", "data": "first"}))["result"]
        assert ack == {"offset": 1, "epoch": told["epoch"]}
        for since in ({"offset": 0, "epoch": told["epoch"]}, {"offset": 0, "epoch": ""}):
            c = await Client.open(again)
            r = (await c.call("subscribe", {"channel": "talk:empty", "since": since}))["result"]
            assert r["recovered"] is True, since
            assert r["publications"] == [{"offset": 1, "data": "first"}]
        status, body = api(again, "publish", {"channel": "talk:api-first", "data": 1})
        assert body["result"]["epoch"] == api_epoch

    run(after())


def test_publish_rate_is_per_connection_and_namespace(hub):
    server = hub(config=CONFIG)

    async def go():
        a, b = await Client.open(server), await Client.open(server)
        results = [await a.call("publish", {"channel": "slow:x", "data": i}) for i in range(3)]
        assert ["result" in r for r in results] == [True, True, False]
        assert results[2]["error"] == {
            "code": "rate_limited",
            "message": "at most 0.5 publications per second in slow:*; slow down"}
        assert (await a.call("ping"))["result"] == {}  # still connected
        # Not stored: the next stored publication takes offset 3.
        assert "result" in await b.call("publish", {"channel": "slow:y", "data": 0})
        assert all("result" in r for r in [await a.call("publish", {"channel": "talk:x",
                                                                    "data": i})
                                           for i in range(20)])
        await asyncio.sleep(2.1)
        r = await a.call("publish", {"channel": "slow:x", "data": 3})
        assert r["result"]["offset"] == 3
        history = (await b.call("history", {"channel": "slow:x"}))["result"]["publications"]
        assert [p["data"] for p in history] == [0, 1, 3]

    run(go())


# --- duplexd's demo namespace ---------------------------------------------------------------

THROWS = "demo:throws"


def test_a_valid_throw_is_acknowledged_stored_and_pushed(hub):
    server = hub()

    async def go():
        page, other = await Client.open(server), await Client.open(server)
        first = (await other.call("subscribe", {"channel": THROWS, "last": 500}))["result"]
        assert first["publications"] == [] and EPOCH.match(first["epoch"])
        throw = {"kind": "tomato", "text": "Boo! é✓"}
        ack = (await page.call("publish", {"channel": THROWS, "data": throw}))["result"]
        assert ack == {"offset": 1, "epoch": first["epoch"]}
        assert (await other.push())["pub"] == {"offset": 1, "data": throw}
        # Text is optional; 64 characters are allowed, however many bytes they take.
        for data in ({"kind": "cat"}, {"kind": "egg", "text": "é" * 64}):
            assert "result" in await page.call("publish", {"channel": THROWS, "data": data})
        late = (await Client.open(server))
        r = (await late.call("subscribe", {"channel": THROWS, "last": 2}))["result"]
        assert [p["data"]["kind"] for p in r["publications"]] == ["cat", "egg"]

    run(go())


BAD_THROWS = [
    ({"kind": "rock"}, "kind must be one of tomato, candy, egg, cat"),
    ({"text": "no kind"}, "kind must be one of tomato, candy, egg, cat"),
    ({"kind": 7}, "kind must be one of tomato, candy, egg, cat"),
    ({"kind": "tomato", "text": "x" * 65}, "text is at most 64 characters"),
    ({"kind": "tomato", "text": 42}, "text must be a string"),
    ({"kind": "tomato", "text": "a\nb"}, "text must not contain control characters"),
    ({"kind": "tomato", "text": "a\u0085b"}, "text must not contain control characters"),
    ({"kind": "tomato", "colour": "red"}, 'unknown key "colour": a throw is'),
    ("tomato", "a throw is"),
    ([{"kind": "tomato"}], "a throw is"),
]


@pytest.mark.parametrize("data, message", BAD_THROWS)
def test_a_bad_throw_is_refused_and_not_stored(hub, data, message):
    server = hub()

    async def go():
        page = await Client.open(server)
        r = await page.call("publish", {"channel": THROWS, "data": data})
        assert r["error"]["code"] == "bad_request" and r["error"]["message"].startswith(message)
        status, body = api(server, "publish", {"channel": THROWS, "data": data})
        assert status == 400 and body["error"]["message"].startswith(message)
        r = (await page.call("subscribe", {"channel": THROWS, "last": 10}))["result"]
        assert (r["offset"], r["publications"]) == (0, [])

    run(go())


def test_demo_limits_size_and_rate_from_the_command_line(hub):
    server = hub("--rate", "1", "--burst", "1")

    async def go():
        page = await Client.open(server)
        egg = {"kind": "egg"}
        big = await page.call("publish", {"channel": THROWS, "data": {"kind": "egg",
                                                                       "text": "x" * 2000}})
        assert big["error"]["code"] == "too_large"  # checked before the rate: no token taken
        ok = await page.call("publish", {"channel": THROWS, "data": egg})
        assert ok["result"]["offset"] == 1
        again = await page.call("publish", {"channel": THROWS, "data": egg})
        assert again["error"] == {
            "code": "rate_limited",
            "message": "at most 1 publication per second in demo:*; slow down"}
        assert (await page.call("ping"))["result"] == {}  # still connected
        await asyncio.sleep(1.1)
        # The throw rules run after the rate: a refused throw spends the token.
        bad = await page.call("publish", {"channel": THROWS, "data": {"kind": "rock"}})
        assert bad["error"]["code"] == "bad_request"
        limited = await page.call("publish", {"channel": THROWS, "data": egg})
        assert limited["error"]["code"] == "rate_limited"
        r = (await page.call("subscribe", {"channel": THROWS, "last": 10}))["result"]
        assert r["publications"] == [{"offset": 1, "data": egg}]

    run(go())


def test_a_demo_namespace_from_the_config_file_gets_the_throw_rules(hub):
    server = hub(config={"namespaces": {"demo": {"history_size": 10}}})

    async def go():
        page = await Client.open(server)
        bad = await page.call("publish", {"channel": "demo:x", "data": {"kind": "rock"}})
        assert bad["error"]["code"] == "bad_request"
        good = await page.call("publish", {"channel": "demo:x", "data": {"kind": "candy"}})
        assert good["result"]["offset"] == 1
        # The file decides the namespaces: no talk:* here.
        assert (await page.call("subscribe", {"channel": "talk:x"}))["error"]["code"] == \
            "not_found"

    run(go())


def test_replies_stay_within_the_reply_budget(hub):
    """100 publications of 15 KB are 1.5 MB: more than one reply may carry (1,000,000 bytes of
    publications, so it fits python-websockets' default 1 MiB message limit, which this client
    keeps). `last` and history without `since` give the newest that fit, history from an offset
    the oldest that fit, and a recovery that does not fit is refused rather than cut."""
    server = hub(config={"namespaces": {"big": {"history_size": 1000, "max_data_bytes": 16384}}})
    blob = "x" * 15000
    for i in range(1, 101):
        status, body = api(server, "publish", {"channel": "big:x", "data": f"{i:03d}{blob}"})
        assert status == 200 and body["result"]["offset"] == i

    def contiguous(pubs):
        offsets = [p["offset"] for p in pubs]
        assert offsets == list(range(offsets[0], offsets[0] + len(offsets)))
        for p in pubs:
            assert p["data"] == f"{p['offset']:03d}{blob}"
        return offsets

    async def go():
        client = await Client.open(server)
        r = (await client.call("subscribe", {"channel": "big:x", "last": 100}))["result"]
        offsets = contiguous(r["publications"])
        assert r["offset"] == 100 and offsets[-1] == 100
        assert 50 <= len(offsets) <= 66, len(offsets)

        h = (await client.call("history", {"channel": "big:x", "limit": 100}))["result"]
        assert contiguous(h["publications"]) == offsets
        h = (await client.call("history", {"channel": "big:x", "limit": 100,
                                           "since": {"offset": 0, "epoch": r["epoch"]}}))["result"]
        oldest = contiguous(h["publications"])
        assert oldest[0] == 1 and 50 <= len(oldest) <= 66

        other = await Client.open(server)
        far = (await other.call("subscribe", {"channel": "big:x",
                                              "since": {"offset": 0, "epoch": r["epoch"]}}))
        assert far["result"]["recovered"] is False and "publications" not in far["result"]
        near = await Client.open(server)
        close = (await near.call("subscribe", {"channel": "big:x",
                                               "since": {"offset": 50, "epoch": r["epoch"]}}))
        assert close["result"]["recovered"] is True
        assert contiguous(close["result"]["publications"]) == list(range(51, 101))

    run(go())
