"""What the scale-out tests share: redis-server processes started by the test (free ports on
127.0.0.1, a temporary directory, never a system service), duplexd nodes over them
(--engine redis://...), and the hub protocol client of tests/hubd."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "hubd"))
from support import servers  # noqa: E402
from support.redis_server import RedisServer  # noqa: E402
from hub_support import API_KEY, SECRET, Client, api, run, token  # noqa: E402,F401

# The namespaces every node gets: `talk` keeps history and presence, `tiny` keeps 3 publications,
# `pair` has room for two presence members.
CONFIG = {"namespaces": {
    "talk": {"history_size": 1000, "presence": True},
    "pair": {"history_size": 10, "presence": True, "presence_max": 2},
    "tiny": {"history_size": 3},
    "live": {"history_size": 0},
}}


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

        def node(self, *urls: str, env: dict | None = None,
                 threads: int | None = None) -> servers.ServerProcess:
            data = tmp_path / f"node{len(self.nodes)}"
            args = [duplexd_command(), "--host", "127.0.0.1", "--port", "0", "--quiet", "--data",
                    str(data), "--hub-config", str(tmp_path / "hub.json")]
            for url in urls:
                args += ["--engine", url]
            # DUPLEXD_THREADS=N: every node on N loops (as tests/hubd's hub.loops4); else
            # duplexd's default, one loop per core. A test that needs a number says it.
            if threads:
                args += ["--threads", str(threads)]
            elif os.environ.get("DUPLEXD_THREADS"):
                args += ["--threads", os.environ["DUPLEXD_THREADS"]]
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
