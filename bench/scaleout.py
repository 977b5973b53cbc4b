#!/usr/bin/python3
"""The scale-out table (bench/run --scaleout, issue 14): duplexd nodes sharing channels through
Redis, against one duplexd on the embedded engine, in one run.

Each configuration starts its own redis-server shards (no persistence) and duplexd nodes on
free ports of 127.0.0.1, pinned to the server cores, and a generator (this file, `generate`
mode) pinned to the generator core. The generator speaks the hub protocol over raw sockets:
subscribers spread evenly over the nodes (subscriber i on node i % N, channel i % C), and
publishers spread the same way, each publishing at a fixed pace (the hub allows a connection
100 commands/s), round-robin over the channels, every publication carrying its send time.
It checks that every subscriber sees its channel's offsets one by one (no gap, no duplicate),
measures publish-to-delivery latency, and reads utime + stime of every duplexd and
redis-server process from /proc at the edges of the measured interval:

- node CPU per delivery: the nodes' CPU time together / the deliveries to subscribers;
- Redis CPU per publish: the redis-servers' CPU time together / the publishes acknowledged;
- node wake-ups per publish: the voluntary context switches of the nodes' threads / the
  publishes acknowledged (the thread switches a publication costs).

The offered load is fixed (publishers x pace), so the rate column says whether a configuration
kept up, not how far it could go: on a shared two-core machine the CPU columns are the figures
to compare (docs/performance.md's convention).
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
NAMESPACE = "bench"
# Every node gets the same hub config: history on (the publish script's XADD and trim, the
# embedded engine's SQLite append), no presence.
HUB_CONFIG = {"namespaces": {NAMESPACE: {"history_size": 100}}}

# (name, nodes, shards): shards 0 is the embedded engine, the baseline.
CONFIGS = [("embedded, 1 node", 1, 0), ("1 node, 1 shard", 1, 1), ("2 nodes, 1 shard", 2, 1),
           ("3 nodes, 1 shard", 3, 1), ("1 node, 2 shards", 1, 2), ("2 nodes, 2 shards", 2, 2),
           ("3 nodes, 2 shards", 3, 2)]
BASELINE = CONFIGS[0][0]


class Workload:
    """One traffic shape: `fanout` subscribers per channel."""

    def __init__(self, name: str, quick: bool, fanout: int):
        # Light enough that a Python generator sharing a busy core keeps up (a generator that
        # falls behind lets the servers batch more, which flatters their CPU per delivery).
        self.name = name
        self.subscribers = 40 if quick else 200
        self.channels = max(1, self.subscribers // fanout)
        self.publishers = 6 if quick else 8
        self.pace = 20 if quick else 25          # publishes per second per publisher
        self.bytes = 256                          # the publication's data, as JSON
        self.warmup = 0.2 if quick else 1.0
        self.duration = 0.5 if quick else 4.0

    def describe(self) -> str:
        return (f"{self.name}: {self.subscribers} subscribers over {self.channels} channels, "
                f"{self.publishers} publishers x {self.pace}/s "
                f"({self.publishers * self.pace} publishes/s, "
                f"{self.publishers * self.pace * self.subscribers // self.channels} deliveries/s "
                f"offered), {self.bytes} B of JSON data, history on, "
                f"{self.warmup} s warm-up, {self.duration} s measured")

    def args(self) -> list[str]:
        return ["--subscribers", str(self.subscribers), "--channels", str(self.channels),
                "--publishers", str(self.publishers), "--pace", str(self.pace),
                "--bytes", str(self.bytes), "--warmup", str(self.warmup),
                "--duration", str(self.duration)]


def workloads(quick: bool) -> list[Workload]:
    """Fan-out 50, where the sends to subscribers dominate; fan-out 10, where with 3 nodes each
    publication is received and framed on every node for about 3 subscribers there (the
    per-node work of a publication shared by few deliveries); and fan-out 1 (each publication
    to one subscriber, mostly on another node than its publisher's), where what the engine
    costs per publication is not spread at all. The smoke runs a small fan-out 10 only."""
    if quick:
        return [Workload("fan-out 10", True, 10)]
    return [Workload("fan-out 50", False, 50), Workload("fan-out 10", False, 10),
            Workload("fan-out 1", False, 1)]


# ----------------------------------------------------------------------------- the generator

def wakeups(pid: int) -> int:
    """How many times the process's threads went to sleep, and so were woken again: the sum of
    voluntary_ctxt_switches over /proc/PID/task/*/status. A thread of duplexd sleeps only in
    epoll_wait or on the storage queue, so these are its wake-ups (preemption by the other
    processes sharing the core is not counted)."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return total


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of the process: the sum of /proc/PID/task/*/schedstat's first
    field (ns on a CPU), which is exact where /proc/PID/stat's utime + stime count 10 ms ticks
    (too coarse for a Redis that spends a few ms per second). Threads are long-lived here (a
    duplexd's loop, storage and engine threads), so none ends inside the interval."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (FileNotFoundError, ProcessLookupError):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK


PUSH = re.compile(rb'"channel":\s*"([^"]*)".*?"offset":\s*(\d+).*?"t":\s*(\d+)', re.S)


class Peer(asyncio.Protocol):
    """One hub connection: frames out (masked with a zero key, which is legal and costs no
    XOR), text frames in, each handed to on_message as bytes."""

    def __init__(self, on_message):
        self.on_message = on_message
        self.buffer = bytearray()
        self.transport = None
        self.handshake = asyncio.get_running_loop().create_future()
        self.upgraded = False
        self.lost = None

    def connection_made(self, transport):
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc):
        self.lost = exc or "closed"
        if not self.handshake.done():
            self.handshake.set_exception(ConnectionError("closed during the handshake"))

    def data_received(self, data):
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                self.handshake.set_exception(ConnectionError(bytes(self.buffer[:200]).decode()))
                return
            del self.buffer[:end + 4]
            self.upgraded = True
            self.handshake.set_result(None)
        buf = self.buffer
        at = 0
        while len(buf) - at >= 2:
            opcode, length = buf[at] & 0x0F, buf[at + 1] & 0x7F
            head = 2
            if length == 126:
                if len(buf) - at < 4:
                    break
                length, head = int.from_bytes(buf[at + 2:at + 4], "big"), 4
            elif length == 127:
                if len(buf) - at < 10:
                    break
                length, head = int.from_bytes(buf[at + 2:at + 10], "big"), 10
            if len(buf) - at < head + length:
                break
            if opcode == 1:
                self.on_message(bytes(buf[at + head:at + head + length]))
            elif opcode == 9:  # ping: pong with the same payload
                self.send_frame(0xA, bytes(buf[at + head:at + head + length]))
            elif opcode == 8:
                reason = bytes(buf[at + head:at + head + length])[2:]
                self.lost = "closed by the server: " + reason.decode(errors="replace")
            at += head + length
        del buf[:at]

    def send_frame(self, opcode: int, payload: bytes):
        n = len(payload)
        if n < 126:
            head = bytes([0x80 | opcode, 0x80 | n])
        elif n < 65536:
            head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
        else:
            head = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
        self.transport.write(head + b"\0\0\0\0" + payload)

    def send(self, message: dict):
        self.send_frame(1, json.dumps(message, separators=(",", ":")).encode())


async def connect(port: int, on_message) -> Peer:
    loop = asyncio.get_running_loop()
    _, peer = await loop.create_connection(lambda: Peer(on_message), "127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    peer.transport.write((f"GET /connection HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                          f"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                          ).encode())
    await asyncio.wait_for(peer.handshake, 20)
    return peer


async def generate(a) -> dict:
    ports = [int(p) for p in a.ports.split(",")]
    node_pids = [int(p) for p in a.node_pids.split(",")]
    redis_pids = [int(p) for p in a.redis_pids.split(",")] if a.redis_pids else []
    channels = [f"{NAMESPACE}:c{i}" for i in range(a.channels)]
    state = {"measuring": False, "delivered": 0, "acked": 0, "errors": [], "latencies": []}
    last_offset = {}  # subscriber index -> last offset seen
    replies = {}      # (subscriber index, id) -> future

    def subscriber_handler(index):
        def on_message(data: bytes):
            if data.startswith(b'{"push"'):
                m = PUSH.search(data)
                if not m:
                    state["errors"].append("unparsed push: " + data[:200].decode(errors="replace"))
                    return
                offset = int(m.group(2))
                last = last_offset.get(index)
                if last is not None and offset != last + 1:
                    state["errors"].append(f"subscriber {index}: offset {offset} after {last}")
                last_offset[index] = offset
                if state["measuring"]:
                    state["delivered"] += 1
                    state["latencies"].append(time.monotonic_ns() - int(m.group(3)))
            else:
                reply = json.loads(data)
                future = replies.pop((index, reply.get("id")), None)
                if future and not future.done():
                    future.set_result(reply)
        return on_message

    subscribers = []
    for i in range(a.subscribers):
        subscribers.append(await connect(ports[i % len(ports)], subscriber_handler(i)))
    pending = []
    for i, peer in enumerate(subscribers):
        future = asyncio.get_running_loop().create_future()
        replies[(i, 1)] = future
        peer.send({"id": 1, "subscribe": {"channel": channels[i % a.channels]}})
        pending.append(future)
    for reply in await asyncio.wait_for(asyncio.gather(*pending), 60):
        if "error" in reply:
            raise RuntimeError(f"subscribe refused: {reply}")

    filler = "x" * max(0, a.bytes - 30)
    in_flight = {}

    def publisher_handler(index):
        def on_message(data: bytes):
            reply = json.loads(data)
            if "error" in reply:
                state["errors"].append(f"publish refused: {reply['error']}")
            elif "id" in reply and state["measuring"]:
                state["acked"] += 1
            in_flight[index] -= 1
        return on_message

    publishers = []
    for i in range(a.publishers):
        publishers.append(await connect(ports[i % len(ports)], publisher_handler(i)))
        in_flight[i] = 0

    async def publish(index, peer, stop):
        period = 1.0 / a.pace
        next_at = time.monotonic() + index * period / len(publishers)
        n = 0
        while time.monotonic() < stop:
            n += 1
            channel = channels[(index + n) % a.channels]
            peer.send({"id": n, "publish": {"channel": channel, "data": {
                "t": time.monotonic_ns(), "p": filler}}})
            in_flight[index] += 1
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    started = time.monotonic()
    stop = started + a.warmup + a.duration + 0.2
    tasks = [asyncio.ensure_future(publish(i, p, stop)) for i, p in enumerate(publishers)]
    await asyncio.sleep(a.warmup)
    cpu_nodes0 = [cpu_seconds(p) for p in node_pids]
    cpu_redis0 = [cpu_seconds(p) for p in redis_pids]
    wakeups0 = [wakeups(p) for p in node_pids]
    own0 = time.process_time()
    t0 = time.monotonic()
    state["measuring"] = True
    await asyncio.sleep(a.duration)
    state["measuring"] = False
    elapsed = time.monotonic() - t0
    cpu_nodes = [cpu_seconds(p) - c for p, c in zip(node_pids, cpu_nodes0)]
    cpu_redis = [cpu_seconds(p) - c for p, c in zip(redis_pids, cpu_redis0)]
    woken = [wakeups(p) - c for p, c in zip(node_pids, wakeups0)]
    own = time.process_time() - own0
    await asyncio.gather(*tasks)
    # The drain: every publication acknowledged and delivered, or an error.
    deadline = time.monotonic() + 10
    while any(in_flight.values()) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    for peer in subscribers + publishers:
        if peer.lost:
            state["errors"].append(f"a connection was lost: {peer.lost}")
            break
        peer.transport.close()
    if any(in_flight.values()):
        state["errors"].append(f"publishes unanswered after the drain: {sum(in_flight.values())}")

    lat = sorted(state["latencies"])
    delivered, acked = state["delivered"], state["acked"]
    result = {
        "ok": not state["errors"] and delivered > 0,
        "deliveries": delivered, "publishes": acked, "seconds": round(elapsed, 3),
        "rate": delivered / elapsed, "publish_rate": acked / elapsed,
        "p50_us": lat[len(lat) // 2] / 1000 if lat else None,
        "p99_us": lat[min(len(lat) - 1, len(lat) * 99 // 100)] / 1000 if lat else None,
        "node_cpu_us_per_delivery": sum(cpu_nodes) * 1e6 / delivered if delivered else None,
        "node_cpu_s": [round(c, 3) for c in cpu_nodes],
        "node_cpu_share": sum(cpu_nodes) / elapsed,
        # The nodes' threads woken per publication: the thread switches a publication costs.
        "node_wakeups_per_publish": sum(woken) / acked if acked else None,
        "redis_cpu_us_per_publish": (sum(cpu_redis) * 1e6 / acked
                                     if redis_pids and acked else None),
        "redis_cpu_s": [round(c, 3) for c in cpu_redis],
        "generator_cpu_share": own / elapsed,
    }
    if state["errors"]:
        result["error"] = "; ".join(state["errors"][:5])
    return result


# ---------------------------------------------------------------------------------- the runner

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return b"PONG" in s.recv(64)
    except OSError:
        return False


class Processes:
    """What one configuration started; stopped (and checked) at the end."""

    def __init__(self, work: Path, cores: str, log):
        self.work, self.cores, self.log = work, cores, log
        self.children: list[tuple[str, subprocess.Popen]] = []

    def redis(self, redis_server: str) -> tuple[str, int]:
        directory = tempfile.mkdtemp(dir=self.work)
        # A free port may be taken before redis-server binds it (it then exits at once):
        # another port, then.
        for _ in range(3):
            port = free_port()
            child = subprocess.Popen(
                ["taskset", "-c", self.cores, redis_server, "--port", str(port), "--bind",
                 "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no",
                 "--loglevel", "warning"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while not ping(port):
                if child.poll() is not None:
                    break
                if time.monotonic() > deadline:
                    child.kill()
                    child.wait()
                    raise RuntimeError("redis-server did not answer PING")
                time.sleep(0.02)
            else:
                self.children.append(("redis-server", child))
                return f"redis://127.0.0.1:{port}", child.pid
        raise RuntimeError(f"redis-server exited at once, three times ({child.returncode})")

    def node(self, duplexd: str, urls: list[str], threads: int | None = None) -> tuple[int, int]:
        """threads: duplexd's --threads; None leaves its default (one loop per core of the
        affinity mask: 1 when pinned to one core)."""
        config = self.work / "hub.json"
        config.write_text(json.dumps(HUB_CONFIG))
        args = ["taskset", "-c", self.cores, duplexd, "--host", "127.0.0.1", "--port", "0",
                "--quiet", "--data", tempfile.mkdtemp(dir=self.work), "--hub-config", str(config)]
        if threads is not None:
            args += ["--threads", str(threads)]
        for url in urls:
            args += ["--engine", url]
        log_file = self.work / f"duplexd-{len(self.children)}.log"
        with open(log_file, "w") as out:
            child = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        self.children.append(("duplexd", child))
        deadline = time.monotonic() + 20
        while True:
            m = re.search(r"listening on ws://[0-9.]+:(\d+)", log_file.read_text())
            if m:
                break
            if time.monotonic() > deadline or child.poll() is not None:
                raise RuntimeError(f"duplexd did not start: {log_file.read_text()[-500:]}")
            time.sleep(0.02)
        return int(m.group(1)), child.pid

    def stop(self) -> list[str]:
        problems = []
        for name, child in reversed(self.children):
            if child.poll() is not None:
                problems.append(f"{name} exited early ({child.returncode})")
                continue
            child.terminate()
            try:
                code = child.wait(timeout=10)
                if name == "duplexd" and code != 0:
                    problems.append(f"duplexd exited {code} after SIGTERM")
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
                problems.append(f"{name} still running 10 s after SIGTERM")
        return problems


def run_config(duplexd, redis_server, nodes, shards, workload, cores, log,
               threads: int | None = None) -> dict:
    server_cores, generator_cores = cores
    with tempfile.TemporaryDirectory(prefix="duplex-scaleout-") as work:
        procs = Processes(Path(work), server_cores, log)
        try:
            urls, redis_pids = [], []
            for _ in range(shards):
                url, pid = procs.redis(redis_server)
                urls.append(url)
                redis_pids.append(pid)
            started = [procs.node(duplexd, urls, threads) for _ in range(nodes)]
            # taskset execs the program: the child's pid is the server's.
            argv = ["taskset", "-c", generator_cores, sys.executable, __file__, "generate",
                    "--ports", ",".join(str(p) for p, _ in started),
                    "--node-pids", ",".join(str(pid) for _, pid in started),
                    "--redis-pids", ",".join(map(str, redis_pids))] + workload.args()
            done = subprocess.run(argv, capture_output=True, text=True, timeout=180)
            try:
                result = json.loads(done.stdout.strip().splitlines()[-1])
            except (IndexError, json.JSONDecodeError):
                result = {"ok": False, "error": "no JSON from the generator: " + done.stderr[-800:]}
        finally:
            problems = procs.stop()
        if problems:
            result["ok"] = False
            result["error"] = (result.get("error", "") + " " + "; ".join(problems)).strip()
        return result


def fmt(x) -> str:
    if x is None:
        return "-"
    if abs(x) >= 100000:
        return f"{x / 1000:.0f}k"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def summarize(results: dict) -> dict:
    """{workload: {config: {metric: {median, min, max}}}} over the runs that passed."""
    keys = ["rate", "p50_us", "p99_us", "node_cpu_us_per_delivery", "redis_cpu_us_per_publish",
            "node_cpu_share", "generator_cpu_share", "node_wakeups_per_publish"]
    summary = {}
    for workload, per_config in results.items():
        for name, runs in per_config.items():
            good = [r for r in runs if r.get("ok")]
            entry = {"runs": len(runs), "passed": len(good)}
            for key in keys:
                values = [r[key] for r in good if isinstance(r.get(key), (int, float))]
                if values:
                    entry[key] = {"median": statistics.median(values), "min": min(values),
                                  "max": max(values)}
            summary.setdefault(workload, {})[name] = entry
    return summary


def table(summary: dict) -> str:
    """Markdown: one row per workload and configuration, medians (with min-max of the node CPU
    when there were several runs), and the node CPU as a ratio to the embedded engine's."""
    lines = ["| workload | configuration | deliveries/s | p50 µs | p99 µs | "
             "node CPU µs/delivery | vs embedded | Redis CPU µs/publish |",
             "|---|---|---|---|---|---|---|---|"]
    for workload, per_config in summary.items():
        base = per_config.get(BASELINE, {}).get("node_cpu_us_per_delivery", {}).get("median")
        for name, entry in per_config.items():
            if not entry["passed"]:
                lines.append(f"| {workload} | {name} | FAILED ({entry['runs']} runs) | | | | | |")
                continue
            m = lambda k: entry.get(k, {}).get("median")  # noqa: E731
            cpu = entry.get("node_cpu_us_per_delivery", {})
            shown = fmt(cpu.get("median"))
            if entry["passed"] > 1:
                shown += f" [{fmt(cpu['min'])}-{fmt(cpu['max'])}]"
            ratio = f"{cpu['median'] / base:.2f}x" if cpu.get("median") and base else "-"
            lines.append(f"| {workload} | {name} | {fmt(m('rate'))} | {fmt(m('p50_us'))} | "
                         f"{fmt(m('p99_us'))} | {shown} | {ratio} | "
                         f"{fmt(m('redis_cpu_us_per_publish'))} |")
    return "\n".join(lines)


def target(summary: dict) -> str:
    """The issue's target: a node's CPU per delivery within 1.5x of the embedded engine's."""
    out = []
    for workload, per_config in summary.items():
        base = per_config.get(BASELINE, {}).get("node_cpu_us_per_delivery", {}).get("median")
        if not base:
            out.append(f"{workload}: the embedded baseline did not run")
            continue
        for name, entry in per_config.items():
            cpu = entry.get("node_cpu_us_per_delivery", {}).get("median")
            if name == BASELINE or cpu is None:
                continue
            verdict = "met" if cpu / base <= 1.5 else "NOT met"
            out.append(f"{workload}, {name}: {cpu / base:.2f}x ({verdict})")
    return "target (node CPU per delivery <= 1.5x embedded):\n  " + "\n  ".join(out)


def run(duplexd: str, redis_server: str, quick: bool, runs: int, cores, log) -> dict:
    shapes = workloads(quick)
    results = {}
    failures = 0
    for workload in shapes:
        log(f"scale-out: {workload.describe()}")
        # Interleaved (run 1 of every configuration, then run 2...): the machine's noise
        # spreads over all of them instead of landing on one.
        for run_index in range(runs):
            for name, nodes, shards in CONFIGS:
                began = time.monotonic()
                try:
                    result = run_config(duplexd, redis_server, nodes, shards, workload, cores,
                                        log)
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    result = {"ok": False, "error": str(e)}
                result["wall_s"] = round(time.monotonic() - began, 1)
                results.setdefault(workload.name, {}).setdefault(name, []).append(result)
                failures += 0 if result.get("ok") else 1
                status = "ok" if result.get("ok") else "FAILED: " + result.get("error", "?")
                log(f"{workload.name:10} {name:18} run {run_index + 1}/{runs}: "
                    f"{fmt(result.get('node_cpu_us_per_delivery'))} us/delivery, "
                    f"redis {fmt(result.get('redis_cpu_us_per_publish'))} us/publish  {status}")
    summary = summarize(results)
    return {"workloads": [w.describe() for w in shapes], "configs": CONFIGS,
            "summary": summary, "results": results, "failures": failures,
            "table": table(summary), "target": target(summary)}


def main():
    import argparse
    parser = argparse.ArgumentParser(description="the scale-out generator (run by bench/run)")
    parser.add_argument("mode", choices=["generate"])
    parser.add_argument("--ports", required=True)
    parser.add_argument("--node-pids", required=True)
    parser.add_argument("--redis-pids", default="")
    parser.add_argument("--subscribers", type=int, default=300)
    parser.add_argument("--channels", type=int, default=6)
    parser.add_argument("--publishers", type=int, default=12)
    parser.add_argument("--pace", type=float, default=50)
    parser.add_argument("--bytes", type=int, default=256)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--duration", type=float, default=4)
    a = parser.parse_args()
    try:
        result = asyncio.run(generate(a))
    except Exception as e:  # noqa: BLE001 - the runner wants one JSON line whatever happened
        result = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    print(json.dumps(result))
    sys.exit(0 if result.get("ok") else 1)


if __name__ == "__main__":
    main()
