"""What the scale-out tests share: redis-server processes started by the test (free ports on
127.0.0.1, a temporary directory, never a system service), duplexd nodes over them
(--engine redis://...), and the hub protocol client of tests/hubd."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "hubd"))
from support import servers  # noqa: E402
from hub_support import API_KEY, SECRET, Client, api, run, token  # noqa: E402,F401

REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")

# The namespaces every node gets: `talk` keeps history and presence, `tiny` keeps 3 publications.
CONFIG = {"namespaces": {
    "talk": {"history_size": 1000, "presence": True},
    "tiny": {"history_size": 3},
    "live": {"history_size": 0},
}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """One redis-server child on 127.0.0.1; kill() and start() again keep its port and directory
    (so appendonly data survives a restart)."""

    def __init__(self, directory: Path, password: str | None = None, durable: bool = False):
        self.port = free_port()
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.password = password
        self.durable = durable
        self.proc = None
        self.start()

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
                str(self.dir), "--save", "", "--daemonize", "no", "--loglevel", "warning",
                "--logfile", str(self.dir / "redis.log")]
        if self.durable:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     preexec_fn=servers._die_with_parent)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.ping():
                return
            assert self.proc.poll() is None, f"redis-server exited {self.proc.returncode}"
            time.sleep(0.02)
        raise AssertionError("redis-server did not answer PING within 10 s")

    def command(self, *args: str) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            out = b""
            if self.password:
                out += _resp("AUTH", self.password)
            out += _resp(*args)
            s.sendall(out)
            time.sleep(0.05)
            return s.recv(1 << 20)

    def ping(self) -> bool:
        try:
            return b"PONG" in self.command("PING")
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()


def _resp(*args: str) -> bytes:
    out = f"*{len(args)}\r\n".encode()
    for a in args:
        b = a.encode()
        out += f"${len(b)}\r\n".encode() + b + b"\r\n"
    return out


def duplexd_command() -> str:
    return os.environ.get("DUPLEXD") or str(servers.REPO / "build/release/apps/duplexd")


@pytest.fixture
def cluster(tmp_path):
    """cluster.redis(...) starts a Redis; cluster.node(*urls) a duplexd over them."""

    class Cluster:
        def __init__(self):
            self.redises: list[RedisServer] = []
            self.nodes: list[servers.ServerProcess] = []
            (tmp_path / "hub.json").write_text(json.dumps(CONFIG))

        def redis(self, **kwargs) -> RedisServer:
            server = RedisServer(tmp_path / f"redis{len(self.redises)}", **kwargs)
            self.redises.append(server)
            return server

        def node(self, *urls: str, env: dict | None = None) -> servers.ServerProcess:
            data = tmp_path / f"node{len(self.nodes)}"
            args = [duplexd_command(), "--host", "127.0.0.1", "--port", "0", "--quiet", "--data",
                    str(data), "--hub-config", str(tmp_path / "hub.json")]
            for url in urls:
                args += ["--engine", url]
            environment = dict(os.environ, DUPLEX_TOKEN_SECRET=SECRET, DUPLEX_API_KEY=API_KEY,
                               **(env or {}))
            node = servers.ServerProcess(args, name=f"duplexd#{len(self.nodes)}", env=environment)
            self.nodes.append(node)
            return node

    c = Cluster()
    yield c
    failures = []
    for node in c.nodes:
        if node.alive():
            try:
                node.stop_and_check()
            except AssertionError as e:
                failures.append(str(e))
    for r in c.redises:
        r.stop()
    assert not failures, "\n".join(failures)


def run_duplexd(*args: str, timeout: float = 15) -> subprocess.CompletedProcess:
    """duplexd run to its end (a startup that must fail)."""
    return subprocess.run([duplexd_command(), "--host", "127.0.0.1", "--port", "0", *args],
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, DUPLEX_TOKEN_SECRET=SECRET))
