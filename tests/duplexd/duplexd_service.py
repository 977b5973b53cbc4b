"""Helpers for the service tests of duplexd (HTTP answers, the command line, /metrics, health,
logs): start it on a free port with a temporary data directory, speak plain HTTP to it."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support import servers  # noqa: E402

API_KEY = "test-api-key"
SECRET = "test-token-secret"


def duplexd_command() -> str:
    return os.environ.get("DUPLEXD") or str(servers.REPO / "build/release/apps/duplexd")


def start(data_dir: Path, *flags: str, env: dict | None = None) -> servers.ServerProcess:
    environment = dict(os.environ)
    environment.update({"DUPLEX_API_KEY": API_KEY, "DUPLEX_TOKEN_SECRET": SECRET})
    environment.update(env or {})
    return servers.ServerProcess([duplexd_command(), "--host", "127.0.0.1", "--port", "0",
                                  "--quiet", "--data", str(data_dir),
                                  *servers.duplexd_loops(flags), *flags],
                                 name="duplexd", env=environment)


def run_program(command: str, *args: str, timeout: float = 10,
                env: dict | None = None) -> subprocess.CompletedProcess:
    """A program that must end (--version, token, check-config, a refused command line)."""
    return subprocess.run([command, *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def run(*args: str, timeout: float = 10, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_program(duplexd_command(), *args, timeout=timeout, env=env)


class Reply:
    def __init__(self, response: http.client.HTTPResponse):
        self.status = response.status
        self.headers = {k.lower(): v for k, v in response.getheaders()}
        self.body = response.read().decode()

    def json(self):
        return json.loads(self.body)


def request(server, method: str, path: str, body: str | bytes | None = None,
            headers: dict | None = None) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        return Reply(connection.getresponse())
    finally:
        connection.close()


def api(server, endpoint: str, body, key: str = API_KEY) -> Reply:
    text = body if isinstance(body, str) else json.dumps(body)
    return request(server, "POST", endpoint, text,
                   {"X-API-Key": key, "Content-Type": "application/json"})
