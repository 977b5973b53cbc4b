"""What duplex.hub's tests share (imported by each test file, not a conftest, so the names never
clash with python/tests' own): a duplexd the test starts (free port, its own --data dir,
the JWT secret and API key in its environment, a --hub-config of the namespaces below), tokens,
and `run` for a test's coroutine with a time limit.

duplexd is $DUPLEXD, or build/release/apps/duplexd of this repository. The package under test
is the one on sys.path (ctest puts the build tree's staged package first).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import math
import os
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests"))
from support import servers  # noqa: E402

SECRET = "pyhub-test-secret"
API_KEY = "pyhub-test-api-key"

NAMESPACES = {
    "talk": {"history_size": 1000, "presence": True},
    "small": {"history_size": 5},
    "private": {"history_size": 100, "anonymous": False},
    "tiny": {"history_size": 10, "max_data_bytes": 32},
    "news": {"history_size": 10, "publish": "server"},
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(sub: str, ttl: float = 3600, secret: str = SECRET, **claims) -> str:
    """A token good for at least `ttl` seconds (less than one more). `exp` is in whole seconds
    and the hub refuses it from that second on: rounded down, a token of ttl=1 made late in a
    second had only what was left of that second to connect with, at worst nothing."""
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    exp = math.ceil(time.time() + ttl)
    body = b64url(json.dumps({"sub": sub, "exp": exp, **claims}).encode())
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(signature)}"


class Duplexd:
    """Starts duplexd, kills it (-9) and starts it again on the same port."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.config = tmp_path / "hub.json"
        self.config.write_text(json.dumps({"namespaces": NAMESPACES}))
        self.process: servers.ServerProcess | None = None
        self.port = 0
        self.all: list[servers.ServerProcess] = []

    def start(self, data: str = "data") -> "Duplexd":
        command = os.environ.get("DUPLEXD") or str(REPO / "build/release/apps/duplexd")
        args = [command, "--host", "127.0.0.1", "--port", str(self.port), "--quiet",
                "--data", str(self.tmp_path / data), "--hub-config", str(self.config)]
        env = dict(os.environ, DUPLEX_TOKEN_SECRET=SECRET, DUPLEX_API_KEY=API_KEY)
        self.process = servers.ServerProcess(args, name="duplexd", env=env)
        self.all.append(self.process)
        self.port = self.process.port
        return self

    def kill9(self) -> None:
        self.process.kill()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/connection"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def duplexd(tmp_path):
    server = Duplexd(tmp_path)
    server.start()
    yield server
    for process in server.all:
        if process.alive():
            process.stop_and_check()


def run(coro_fn, timeout: float = 30.0, loop_factory=None):
    async def main():
        return await asyncio.wait_for(coro_fn(), timeout)

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(main())


async def until(predicate, timeout: float = 10.0, step: float = 0.01):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)
