"""duplexd's /metrics in the Prometheus text format: every metric the hub exposes is moved by
what it counts (connections, subscriptions, channels, publishes, acks, errors by code,
recoveries, API calls, rate limits, the store's commit latency, messages and bytes, the build,
the process), and the text is well-formed (HELP and TYPE before each family's samples)."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
import time
from pathlib import Path

import pytest

import duplexd_service as d

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hubd"))
from hub_support import Client, run  # noqa: E402

CONFIG = {"namespaces": {
    "talk": {"history_size": 100, "presence": True},
    "plain": {"history_size": 100},
    "slow": {"history_size": 10, "publish_rate": 1, "publish_burst": 1},
}}

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def scrape(server) -> dict:
    """{(name, frozenset of label pairs): value}, after checking the text's shape."""
    reply = d.request(server, "GET", "/metrics")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples, typed = {}, set()
    for line in reply.body.splitlines():
        if line.startswith("# TYPE "):
            name = line.split()[2]
            assert name not in typed, f"{name} typed twice"
            typed.add(name)
            continue
        if line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or family in typed, f"{name} has no TYPE line"
        pairs = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels or ""))
        key = (name, pairs)
        assert key not in samples, f"{line} twice"
        samples[key] = float(value)
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("metrics")
    config = root / "hub.json"
    config.write_text(json.dumps(CONFIG))
    process = d.start(root / "data", "--hub-config", str(config))
    yield process
    process.stop_and_check()


def test_build_info_and_process_metrics(server):
    samples = scrape(server)
    build = [k for k in samples if k[0] == "duplex_build_info"]
    assert len(build) == 1 and samples[build[0]] == 1
    version = dict(build[0][1])["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert d.run("--version").stdout == f"duplexd {version}\n"
    assert value(samples, "process_resident_memory_bytes") > 1_000_000
    assert value(samples, "process_max_fds") > 0
    assert abs(value(samples, "process_start_time_seconds") - time.time()) < 600
    fds_before = value(samples, "process_open_fds")
    cpu_before = value(samples, "process_cpu_seconds_total")
    held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(5)]
    try:
        for _ in range(200):
            d.request(server, "GET", "/metrics")
        after = scrape(server)
        assert value(after, "process_open_fds") >= fds_before + 5
        assert value(after, "process_cpu_seconds_total") > cpu_before
    finally:
        for s in held:
            s.close()


def test_connections_by_phase_clients_subscriptions_and_channels(server):
    before = scrape(server)
    half = socket.create_connection(("127.0.0.1", server.port))
    half.sendall(b"GET /connection HTTP/1.1\r\nHost: x\r\n")  # the head never ends

    async def go():
        a, b = await Client.open(server), await Client.open(server)
        await a.call("subscribe", {"channel": "talk:one"})
        await a.call("subscribe", {"channel": "talk:two"})
        await b.call("subscribe", {"channel": "talk:one"})
        during = scrape(server)
        await a.close()
        await b.close()
        return during

    during = run(go())
    half.close()
    assert value(during, "duplex_server_connections", state="handshaking") >= 1
    # Closing WebSockets count as open until TCP ends: at least the two.
    assert value(during, "duplex_server_connections", state="open") >= 2
    assert value(during, "duplex_hub_clients") == value(before, "duplex_hub_clients") + 2
    assert value(during, "duplex_hub_subscriptions") == \
        value(before, "duplex_hub_subscriptions") + 3
    assert value(during, "duplex_hub_channels") == value(before, "duplex_hub_channels") + 2


def test_publishes_acks_messages_bytes_and_the_commit_histogram(server):
    before = scrape(server)

    async def go():
        a, b = await Client.open(server), await Client.open(server)
        await b.call("subscribe", {"channel": "plain:pubs"})
        for i in range(3):
            ack = await a.call("publish", {"channel": "plain:pubs", "data": {"n": i}})
            assert "result" in ack
        for _ in range(3):
            await b.push()
        await a.close()
        await b.close()

    run(go())
    after = scrape(server)
    grew = lambda name, **labels: value(after, name, **labels) - value(before, name, **labels)
    assert grew("duplex_hub_publishes_total") == 3
    assert grew("duplex_hub_publish_acks_total") == 3
    assert grew("duplex_hub_messages_in_total") == 4  # a subscribe and three publishes
    assert grew("duplex_hub_messages_out_total") == 7  # four replies, three publications
    assert grew("duplex_hub_bytes_in_total") > 4 * 30
    assert grew("duplex_hub_bytes_out_total") > 7 * 20
    assert grew("duplex_hub_store_commit_seconds_count") >= 1
    assert grew("duplex_hub_store_commit_seconds_bucket", le="+Inf") == \
        grew("duplex_hub_store_commit_seconds_count")
    assert grew("duplex_hub_store_commit_seconds_sum") > 0


def test_errors_by_code_recoveries_and_rate_limits(server):
    before = scrape(server)

    async def go():
        c = await Client.open(server)
        first = await c.call("publish", {"channel": "talk:rec", "data": 1})
        assert (await c.call("subscribe", {"channel": "nowhere:x"}))["error"]["code"] == "not_found"
        await c.call("subscribe", {"channel": "talk:rec"})
        twice = await c.call("subscribe", {"channel": "talk:rec"})
        assert twice["error"]["code"] == "already_subscribed"
        since = {"offset": first["result"]["offset"], "epoch": first["result"]["epoch"]}
        r = await c.call("subscribe", {"channel": "talk:rec2", "since": since})  # another epoch
        assert r["result"]["recovered"] is False
        other = await Client.open(server)
        ok = await other.call("subscribe", {"channel": "talk:rec", "since": since})
        assert ok["result"]["recovered"] is True
        # slow: 1 publication per second, burst 1.
        assert "result" in await c.call("publish", {"channel": "slow:x", "data": 1})
        limited = await c.call("publish", {"channel": "slow:x", "data": 2})
        assert limited["error"]["code"] == "rate_limited"
        # Commands: 200 in a burst, then 100 a second.
        for i in range(260):
            await c.ws.send(json.dumps({"id": 10_000 + i, "ping": {}}))
        refused = 0
        for _ in range(260):
            reply = await c._read()
            refused += reply.get("error", {}).get("code") == "rate_limited"
        assert refused > 0
        await c.close()
        await other.close()
        return refused

    refused = run(go())
    after = scrape(server)
    grew = lambda name, **labels: value(after, name, **labels) - value(before, name, **labels)
    assert grew("duplex_hub_errors_total", code="not_found") == 1
    assert grew("duplex_hub_errors_total", code="already_subscribed") == 1
    assert grew("duplex_hub_errors_total", code="rate_limited") == 1 + refused
    assert value(after, "duplex_hub_errors_total", code="internal") == 0  # listed, never moved
    assert grew("duplex_hub_recoveries_total", result="recovered") == 1
    assert grew("duplex_hub_recoveries_total", result="not_recovered") == 1
    assert grew("duplex_hub_rate_limited_total", limit="publishes") == 1
    assert grew("duplex_hub_rate_limited_total", limit="commands") == refused


def test_api_calls_by_endpoint_and_status(server):
    before = scrape(server)
    assert d.api(server, "/api/publish", {"channel": "talk:api", "data": 1}).status == 200
    assert d.api(server, "/api/publish", {"channel": "talk:api", "data": 2}).status == 200
    assert d.api(server, "/api/history", {"channel": "talk:api"}, key="nope").status == 403
    assert d.api(server, "/api/presence", {"channel": "talk:api"}).status == 200
    after = scrape(server)
    grew = lambda name, **labels: value(after, name, **labels) - value(before, name, **labels)
    assert grew("duplex_hub_api_calls_total", endpoint="/api/publish", status="200") == 2
    assert grew("duplex_hub_api_calls_total", endpoint="/api/history", status="403") == 1
    assert grew("duplex_hub_api_calls_total", endpoint="/api/presence", status="200") == 1
    assert grew("duplex_hub_errors_total", code="forbidden") == 1
    assert grew("duplex_hub_publishes_total") == 2
    assert grew("duplex_hub_store_commit_seconds_count") == 2


def raw_exchange(server, request: bytes) -> int:
    """Sends bytes http.client would not (a bad framing); returns the answer's status."""
    import http.client

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock)
        response.begin()
        response.read()
        return response.status


def test_api_refusals_before_routing_are_counted_under_a_bounded_endpoint(server):
    before = scrape(server)
    refusals = [
        (b"POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413),
        (b"GET /api/publish HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        (b"GET /api/publish?pad=" + b"p" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        # Paths that are no endpoint, made up by the client: one label for all of them.
        (b"POST /api/made-up-1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 404),
        (b"POST /api/made-up-2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"0\r\n\r\n", 501),
        (b"POST /api/" + b"a" * 9000, 414),
    ]
    for request, status in refusals:
        assert raw_exchange(server, request) == status, request[:40]
    after = scrape(server)
    grew = lambda name, **labels: value(after, name, **labels) - value(before, name, **labels)
    for status in ("413", "405", "414"):
        assert grew("duplex_hub_api_calls_total", endpoint="/api/publish", status=status) == 1
    for status in ("404", "501", "414"):
        assert grew("duplex_hub_api_calls_total", endpoint="unknown", status=status) == 1
    assert grew("duplex_hub_errors_total", code="too_large") == 1
    endpoints = {dict(labels)["endpoint"] for name, labels in after
                 if name == "duplex_hub_api_calls_total"}
    assert endpoints <= {"/api/publish", "/api/history", "/api/presence", "/api/disconnect",
                         "unknown"}, endpoints


def test_users_and_duplicate_publishes(server):
    from hub_support import token

    before = scrape(server)

    async def go():
        expires = int(time.time()) + 60
        clients = [await Client.open(server) for _ in range(3)]
        # Two connections of alice and one of bob: two distinct users.
        for client, user in zip(clients, ["alice", "alice", "bob"]):
            claims = {"sub": user, "exp": expires}
            reply = await client.call("connect", {"token": token(claims, secret=d.SECRET)})
            assert reply["result"]["user"] == user
        during = scrape(server)
        publish = {"channel": "plain:dup", "data": 1, "key": "k-1"}
        first = await clients[0].call("publish", publish)
        again = await clients[0].call("publish", publish)
        assert again["result"]["offset"] == first["result"]["offset"]
        for client in clients:
            await client.close()
        return during

    during = run(go())
    after = scrape(server)
    assert value(during, "duplex_hub_users") == value(before, "duplex_hub_users") + 2
    assert value(after, "duplex_hub_duplicate_publishes_total") == \
        value(before, "duplex_hub_duplicate_publishes_total") + 1
