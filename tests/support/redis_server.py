"""redis-server as a child process of a test: a free port on 127.0.0.1, a temporary directory,
never a system service. Used by tests/scaleout and by tests/hubd's run over the Redis engine."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from support import servers

REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisExited(AssertionError):
    """redis-server ended before it answered PING (a taken port, a bad option)."""


class RedisServer:
    """One redis-server child on 127.0.0.1; kill() and start() again keep its port and directory
    (so appendonly data survives a restart)."""

    def __init__(self, directory: Path, password: str | None = None, durable: bool = False):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.password = password
        self.durable = durable
        self.proc = None
        # free_port() closes its socket before redis-server binds: another test's server, or
        # an outgoing connection's local port, may take the port meanwhile, and redis-server
        # then exits at once. Another free port, then (as tests/redis/redis_server.cpp does).
        for tries in range(3):
            self.port = free_port()
            try:
                self.start()
                return
            except RedisExited:
                if tries == 2:
                    raise

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
            if self.proc.poll() is not None:
                raise RedisExited(f"redis-server on port {self.port} exited "
                                  f"{self.proc.returncode}: {self.log_tail()}")
            time.sleep(0.02)
        raise AssertionError("redis-server did not answer PING within 10 s")

    def log_tail(self) -> str:
        try:
            return (self.dir / "redis.log").read_text(errors="replace")[-500:]
        except OSError:
            return ""

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


