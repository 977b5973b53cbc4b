"""duplex.hub.Api (blocking, urllib) and duplex.hub.AsyncApi (asyncio) against duplexd's
/api/*: publish, history, presence, disconnect, and the hub's errors as the same exception
classes as the client's, with the HTTP status."""

from __future__ import annotations

import pytest

import duplex.hub as hub
from hub_fixtures import API_KEY, duplexd, make_token, run, until  # noqa: F401


def check_errors(calls, status_of):
    """The same refusals from either form (`calls` runs one call and returns the exception)."""
    assert status_of(calls("publish", "nowhere:x", 1)) == (hub.NotFoundError, 404)
    assert status_of(calls("publish", "tiny:x", "y" * 100)) == (hub.TooLargeError, 413)
    assert status_of(calls("publish", "", 1)) == (hub.BadRequestError, 400)


def test_the_blocking_api(duplexd):
    api = hub.Api(duplexd.base_url, API_KEY)
    first = api.publish("news:a", {"n": 1}, key="k1")
    assert first["offset"] == 1 and len(first["epoch"]) == 16
    assert api.publish("news:a", {"n": 1}, key="k1") == first  # idempotent
    api.publish("news:a", {"n": 2})
    history = api.history("news:a")
    assert [p["data"] for p in history["publications"]] == [{"n": 1}, {"n": 2}]
    assert [p["offset"] for p in api.history("news:a", since=first)["publications"]] == [2]
    assert api.presence("talk:empty") == {"clients": {}}
    assert api.disconnect("nobody") == {"disconnected": 0}

    def call(method, *args):
        with pytest.raises(hub.HubError) as e:
            getattr(api, method)(*args)
        return e.value

    check_errors(call, lambda e: (type(e), e.status))
    with pytest.raises(hub.ForbiddenError) as e:
        hub.Api(duplexd.base_url, "wrong").publish("news:a", 1)
    assert e.value.status == 403
    with pytest.raises(hub.UnauthorizedError):
        hub.Api(duplexd.base_url, "").publish("news:a", 1)
    with pytest.raises(hub.NotFoundError):
        api._call("nothing", {})


def test_the_asyncio_api_and_disconnect_ending_a_users_connections(duplexd):
    async def go():
        api = hub.AsyncApi(duplexd.base_url, API_KEY)
        alice = hub.Client(duplexd.url, token=make_token("alice"))
        await alice.connect()
        sub = await alice.subscribe("talk:room")
        ack = await api.publish("talk:room", "hello")
        assert ack["offset"] == 1
        assert (await anext(sub)).data == "hello"
        history = await api.history("talk:room", limit=1)
        assert history["publications"] == [{"offset": 1, "data": "hello"}]
        presence = await api.presence("talk:room")
        assert [c["user"] for c in presence["clients"].values()] == ["alice"]
        errors = []
        for method, *args in [("publish", "nowhere:x", 1), ("publish", "tiny:x", "y" * 100),
                              ("publish", "", 1)]:
            try:
                await getattr(api, method)(*args)
            except hub.HubError as e:
                errors.append(e)
        assert [(type(e), e.status) for e in errors] == [
            (hub.NotFoundError, 404), (hub.TooLargeError, 413), (hub.BadRequestError, 400)]
        with pytest.raises(hub.ForbiddenError):
            await hub.AsyncApi(duplexd.base_url, "wrong").presence("talk:room")
        assert await api.disconnect("alice") == {"disconnected": 1}
        # Close 4003: the client does not reconnect, and says why.
        with pytest.raises(hub.DisconnectedError):
            await anext(sub)
        await until(lambda: alice.state == "closed")

    run(go)
