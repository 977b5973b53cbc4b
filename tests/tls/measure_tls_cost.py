#!/usr/bin/python3
"""What TLS costs duplex-echo, ws:// against wss:// in the same run (the figures in docs/tls.md).
A measurement, not a test: nothing is asserted.

    tests/tls/measure_tls_cost.py [--echo build/release/apps/duplex-echo] [--idle 1000]

Memory: VmRSS of the server with N idle connections, minus before them, divided by N; and the
TLS share, (wss RSS - ws RSS) / N. CPU: the server's utime + stime (/proc/<pid>/stat) per 100k
echoed 20-byte text messages, over 10 connections, once with one message in flight on each
(ping-pong: every message its own read, record and send) and once with 100 in flight (the
reads and writes batch). The client side is plain sockets with prebuilt frames, so what is
measured is the server. Runs are interleaved, ws then wss, and the median is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import resource
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import pki as pki_module  # noqa: E402
import websockets  # noqa: E402
from support import servers  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAYLOAD = b"0123456789abcdefghij"  # 20 bytes
# A masked client text frame of PAYLOAD (mask key 0: masking is then the identity).
CLIENT_FRAME = bytes([0x81, 0x80 | len(PAYLOAD), 0, 0, 0, 0]) + PAYLOAD
SERVER_FRAME_SIZE = 2 + len(PAYLOAD)


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def start(echo: str, pki: Path | None) -> servers.ServerProcess:
    flags = ["--host", "127.0.0.1", "--port", "0"]
    if pki:
        flags += ["--cert", str(pki / "server.pem"), "--key", str(pki / "server.key")]
    return servers.ServerProcess([echo, *flags], name="duplex-echo")


def open_raw(port: int, context: ssl.SSLContext | None) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if context:
        sock = context.wrap_socket(sock, server_hostname="localhost")
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def echo_load(sock: socket.socket, messages: int, window: int) -> None:
    """Sends `messages` frames, `window` at a time, reading each window's echoes back."""
    batch = CLIENT_FRAME * window
    for _ in range(messages // window):
        sock.sendall(batch)
        expected = SERVER_FRAME_SIZE * window
        while expected > 0:
            expected -= len(sock.recv(1 << 20))


def measure_cpu(server, context, connections: int, messages: int,
                window: int) -> tuple[float, float]:
    """Server (user, system) CPU seconds per 100k messages."""
    socks = [open_raw(server.port, context) for _ in range(connections)]
    per = messages // connections
    threads = [threading.Thread(target=echo_load, args=(s, per // 10, window)) for s in socks]
    for t in threads:  # warm-up: a tenth of the load
        t.start()
    for t in threads:
        t.join()
    before = cpu_seconds(server.pid)
    threads = [threading.Thread(target=echo_load, args=(s, per, window)) for s in socks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = cpu_seconds(server.pid)
    for s in socks:
        s.close()
    scale = 100_000 / (per * connections)
    return (after[0] - before[0]) * scale, (after[1] - before[1]) * scale


def measure_idle(server, context, count: int) -> tuple[float, float]:
    """(RSS KiB before, RSS KiB with `count` idle connections open)."""
    before = server.vm_rss_kib()

    async def hold():
        url = f"{'wss' if context else 'ws'}://127.0.0.1:{server.port}/idle"
        conns = []
        for _ in range(count):
            conns.append(await websockets.connect(url, ssl=context, ping_interval=None,
                                                  compression=None))
        await asyncio.sleep(1.0)
        rss = server.vm_rss_kib()
        for c in conns:
            await c.close()
        return rss

    return before, asyncio.run(hold())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--echo", default=str(servers.REPO / "build/release/apps/duplex-echo"))
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--pingpong-messages", type=int, default=100_000)
    parser.add_argument("--pipelined-messages", type=int, default=4_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    raise_fd_limit()
    with tempfile.TemporaryDirectory() as tmp:
        pki = pki_module.make(Path(tmp))
        context = ssl.create_default_context(cafile=str(pki / "ca.pem"))

        rss = {}
        for name, tls in (("ws", None), ("wss", context)):
            server = start(args.echo, pki if tls else None)
            rss[name] = measure_idle(server, tls, args.idle)
            server.stop_and_check()
        n = args.idle
        print(f"idle connections: {n}")
        for name, (before, after) in rss.items():
            print(f"  {name:4}: RSS {before} KiB -> {after} KiB, "
                  f"{(after - before) * 1024 / n:.0f} bytes per connection")
        print(f"  TLS share: (wss - ws) / N = {(rss['wss'][1] - rss['ws'][1]) * 1024 / n:.0f} "
              f"bytes per connection")

        for window, messages in ((1, args.pingpong_messages), (100, args.pipelined_messages)):
            results = {"ws": [], "wss": []}
            for _ in range(args.runs):
                for name, tls in (("ws", None), ("wss", context)):
                    server = start(args.echo, pki if tls else None)
                    results[name].append(measure_cpu(server, tls, 10, messages, window))
                    server.stop_and_check()
            print(f"CPU per 100k echoed 20-byte messages, {window} in flight per connection "
                  f"(median of {args.runs}; user + system):")
            total = {}
            for name, runs in results.items():
                user = statistics.median(u for u, _ in runs)
                system = statistics.median(s for _, s in runs)
                total[name] = statistics.median(u + s for u, s in runs)
                print(f"  {name:4}: {total[name]:.3f} s = {user:.3f} + {system:.3f}   runs: " +
                      ", ".join(f"{u + s:.3f}" for u, s in runs))
            print(f"  TLS adds {(total['wss'] - total['ws']) * 10:.2f} us per message "
                  f"({total['wss'] / total['ws']:.2f}x)")


if __name__ == "__main__":
    main()
