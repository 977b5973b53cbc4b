"""Token refresh through get_token: an expired token at connect, and a token that expires on an
open connection (the hub's disconnect push 4002), both end in a fresh token and a connection
whose subscriptions go on; without get_token an expired token is TokenExpiredError."""

from __future__ import annotations

import asyncio

import pytest

import duplex.hub as hub
from hub_fixtures import API_KEY, duplexd, make_token, run, until  # noqa: F401


def test_an_expired_token_at_connect_is_refreshed(duplexd):
    async def go():
        calls = []

        async def get_token():
            calls.append(1)
            return make_token("alice", ttl=-30 if len(calls) == 1 else 3600)

        client = hub.Client(duplexd.url, get_token=get_token, min_delay=0.05)
        info = await client.connect()
        assert info["user"] == "alice" and len(calls) == 2
        await client.subscribe("private:notes")
        await client.close()

        stale = hub.Client(duplexd.url, token=make_token("alice", ttl=-30))
        with pytest.raises(hub.TokenExpiredError):
            await stale.connect()

    run(go)


def test_a_token_expiring_on_an_open_connection_is_refreshed_and_nothing_is_lost(duplexd):
    api = hub.Api(duplexd.base_url, API_KEY)

    async def go():
        issued = []

        def get_token():  # a plain function works as well as a coroutine function
            issued.append(make_token("bob", ttl=1 if not issued else 3600))
            return issued[-1]

        client = hub.Client(duplexd.url, get_token=get_token, min_delay=0.05)
        disconnects = []
        client.on("disconnect", disconnects.append)
        await client.connect()
        sub = await client.subscribe("private:feed")
        api.publish("private:feed", "before")
        assert (await anext(sub)).data == "before"
        await until(lambda: len(issued) == 2, timeout=5)
        assert disconnects and disconnects[0][0] == 4002
        await until(lambda: client.state == "connected")
        api.publish("private:feed", "after")
        assert (await anext(sub)).data == "after"
        assert (await client.publish("private:feed", "mine"))["offset"] == 3
        await client.close()

    run(go)


def test_without_get_token_an_expiring_token_ends_the_client(duplexd):
    async def go():
        client = hub.Client(duplexd.url, token=make_token("carol", ttl=1))
        await client.connect()
        sub = await client.subscribe("private:c")
        with pytest.raises(hub.TokenExpiredError):
            await asyncio.wait_for(anext(sub), 5)
        assert client.state == "closed"

    run(go)
