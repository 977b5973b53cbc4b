"""What the hub's end-to-end tests share: a fixture that starts duplexd with the hub's secrets
(and optionally a --hub-config), a small client of the hub protocol, tokens and the server API."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support import servers  # noqa: E402

SECRET = "test-secret"
API_KEY = "test-api-key"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(claims: dict, secret: str = SECRET, alg: str = "HS256") -> str:
    head = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(signature)}"


@pytest.fixture
def hub(tmp_path):
    started = []
    # DUPLEX_HUB_ENGINE=redis (ctest hub.protocol.redis): the same tests over the Redis engine,
    # one redis-server per test (docs/scaling.md).
    redis = None
    if os.environ.get("DUPLEX_HUB_ENGINE") == "redis":
        from support.redis_server import RedisServer
        redis = RedisServer(tmp_path / "redis")

    def start(*flags, data=None, config=None, env=None):
        command = os.environ.get("DUPLEXD") or str(servers.REPO / "build/release/apps/duplexd")
        args = [command, "--host", "127.0.0.1", "--quiet", "--data", str(data or tmp_path / "d")]
        if redis is not None:
            args += ["--engine", redis.url]
        if "--port" not in flags:
            args += ["--port", "0"]
        # DUPLEXD_THREADS=N (ctest's hub.loops4 run): every suite on N loops; else duplexd's
        # default, one loop per core. A test that names --threads itself keeps its own.
        if "--threads" not in flags and os.environ.get("DUPLEXD_THREADS"):
            args += ["--threads", os.environ["DUPLEXD_THREADS"]]
        if config is not None:
            path = tmp_path / "hub.json"
            path.write_text(json.dumps(config))
            args += ["--hub-config", str(path)]
        environment = dict(os.environ, DUPLEX_TOKEN_SECRET=SECRET, DUPLEX_API_KEY=API_KEY,
                           **(env or {}))
        server = servers.ServerProcess([*args, *flags], name="duplexd", env=environment)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.alive():
            server.stop_and_check()
    if redis is not None:
        redis.stop()


class Client:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 1000  # above the ids the tests write by hand
        self.pushes = []
        self.replies = {}

    @classmethod
    async def open(cls, server, query="", **kwargs):
        client = cls(await websockets.connect(
            f"ws://127.0.0.1:{server.port}/connection{query}", **kwargs))
        _open_clients.append(client)
        return client

    async def _read(self, timeout=10):
        message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        if "push" in message:
            self.pushes.append(message["push"])
        else:
            self.replies[message["id"]] = message
        return message

    async def call(self, method, params=None):
        self.next_id += 1
        mine = self.next_id
        await self.ws.send(json.dumps({"id": mine, method: params or {}}))
        while mine not in self.replies:
            await self._read()
        return self.replies.pop(mine)

    async def push(self, kind="pub", timeout=10):
        """The next push of that kind ("pub", "join", "leave", "disconnect"), in arrival order."""
        while True:
            for i, p in enumerate(self.pushes):
                if kind in p:
                    return self.pushes.pop(i)
            await self._read(timeout)

    async def close(self):
        await self.ws.close()


_open_clients: list[Client] = []


def run(coro):
    """Runs a test's coroutine, then closes the clients it left open: a connection the event
    loop drops unclosed costs websockets' close timeout (10 s) at shutdown."""

    async def main():
        try:
            return await asyncio.wait_for(coro, 90)
        finally:
            clients = list(_open_clients)
            _open_clients.clear()
            await asyncio.gather(*(c.ws.close() for c in clients), return_exceptions=True)

    return asyncio.run(main())


def api(server, endpoint, body, key=API_KEY):
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-API-Key"] = key
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}/api/{endpoint}",
                                     data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
