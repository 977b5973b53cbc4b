#!/usr/bin/python3
"""The scale-out table (issue #14, docs/scaling.md): the hub's publish-to-delivery rate, latency
(p50/p99) and CPU per delivery for 1, 2 and 3 duplexd nodes over 1 and 2 Redis shards, against
the embedded (SQLite) engine on one node.

    bench/run --scaleout           (or bench/scaleout.py) the whole table, 5 s per row
    bench/scaleout.py --quick      a second per row: checks the machinery, asserts nothing fast

The load is the same for every row: publishers at a fixed total rate on CHANNELS channels, each
publication delivered to SUBSCRIBERS subscribers of its channel, the connections spread evenly
over the nodes (a publication is delivered by every node that has subscribers of its channel).
Deliveries are counted and timed by the receiving clients (one asyncio process, data carries
the send time); CPU is utime + stime of every duplexd and redis-server process from /proc,
over the measured interval. "node CPU/delivery" is all nodes' CPU over all deliveries; "Redis
CPU/publish" all shards' CPU over the publications. On this 2-core machine the clients, the
nodes and Redis share the cores: read the CPU columns, not the rate, to compare rows.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from support import servers  # noqa: E402
from support.redis_server import RedisServer  # noqa: E402

import websockets  # noqa: E402

CHANNELS = 4
SUBSCRIBERS = 10  # per channel
PUBLISHERS = 8
RATE = 400  # publications per second, in all
CONFIG = {"namespaces": {"bench": {"history_size": 1000}}}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def start_node(duplexd: str, scratch: Path, index: int, urls: list[str]):
    args = [duplexd, "--host", "127.0.0.1", "--port", "0", "--quiet", "--data",
            str(scratch / f"node{index}"), "--hub-config", str(scratch / "hub.json")]
    for url in urls:
        args += ["--engine", url]
    return servers.ServerProcess(args, name=f"duplexd#{index}")


async def measure(ports: list[int], seconds: float) -> dict:
    latencies: list[float] = []
    counted = {"on": False, "deliveries": 0, "publications": 0}
    subscribers = []
    for c in range(CHANNELS):
        for s in range(SUBSCRIBERS):
            port = ports[(c * SUBSCRIBERS + s) % len(ports)]
            ws = await websockets.connect(f"ws://127.0.0.1:{port}/connection", max_queue=None)
            await ws.send(json.dumps({"id": 1, "subscribe": {"channel": f"bench:c{c}"}}))
            json.loads(await ws.recv())
            subscribers.append(ws)

    async def receive(ws):
        async for text in ws:
            if counted["on"] and '"pub"' in text:
                now = time.monotonic_ns()
                sent = json.loads(text)["push"]["pub"]["data"]["t"]
                latencies.append((now - sent) / 1e6)
                counted["deliveries"] += 1

    async def publish(index: int, stop: asyncio.Event):
        ws = await websockets.connect(f"ws://127.0.0.1:{ports[index % len(ports)]}/connection")
        interval = PUBLISHERS / RATE
        next_at = time.monotonic()
        n = 0
        while not stop.is_set():
            n += 1
            channel = f"bench:c{(index + n) % CHANNELS}"
            await ws.send(json.dumps({"id": n, "publish": {
                "channel": channel, "data": {"t": time.monotonic_ns(), "pad": "x" * 200}}}))
            if counted["on"]:
                counted["publications"] += 1
            next_at += interval
            await asyncio.sleep(max(0, next_at - time.monotonic()))
        await ws.close()

    readers = [asyncio.create_task(receive(ws)) for ws in subscribers]
    stop = asyncio.Event()
    publishers = [asyncio.create_task(publish(i, stop)) for i in range(PUBLISHERS)]
    await asyncio.sleep(1.0)  # warm-up
    counted["on"] = True
    started = time.monotonic()
    await asyncio.sleep(seconds)
    counted["on"] = False
    elapsed = time.monotonic() - started
    stop.set()
    await asyncio.gather(*publishers)
    for ws in subscribers:
        await ws.close()
    for task in readers:
        task.cancel()
    latencies.sort()
    return {"elapsed": elapsed, "deliveries": counted["deliveries"],
            "publications": counted["publications"],
            "p50_ms": latencies[len(latencies) // 2] if latencies else None,
            "p99_ms": latencies[int(len(latencies) * 0.99)] if latencies else None}


def run_row(duplexd: str, nodes: int, shards: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        (scratch / "hub.json").write_text(json.dumps(CONFIG))
        redises = [RedisServer(scratch / f"redis{i}") for i in range(shards)]
        urls = [r.url for r in redises]
        started = [start_node(duplexd, scratch, i, urls) for i in range(nodes)]
        try:
            pids = [n.pid for n in started]
            before = [cpu_seconds(p) for p in pids]
            before_redis = [cpu_seconds(r.proc.pid) for r in redises]
            t0 = time.monotonic()
            result = asyncio.run(measure([n.port for n in started], seconds))
            # CPU over the whole run (connects and warm-up too), scaled to the measured part.
            share = result["elapsed"] / (time.monotonic() - t0)
            node_cpu = sum(cpu_seconds(p) - b for p, b in zip(pids, before)) * share
            redis_cpu = sum(cpu_seconds(r.proc.pid) - b
                            for r, b in zip(redises, before_redis)) * share
        finally:
            for n in started:
                n.stop_and_check()
            for r in redises:
                r.stop()
    deliveries = max(result["deliveries"], 1)
    return {
        "engine": "embedded" if shards == 0 else "redis",
        "nodes": nodes, "shards": shards,
        "deliveries_per_s": result["deliveries"] / result["elapsed"],
        "p50_ms": result["p50_ms"], "p99_ms": result["p99_ms"],
        "node_us_per_delivery": node_cpu / deliveries * 1e6,
        "redis_us_per_publish": (redis_cpu / max(result["publications"], 1) * 1e6
                                 if shards else None),
    }


def table(rows: list[dict]) -> str:
    lines = ["| engine | nodes | shards | deliveries/s | p50 ms | p99 ms | node CPU/delivery (us) "
             "| Redis CPU/publish (us) |", "|---|---|---|---|---|---|---|---|"]
    base = rows[0]["node_us_per_delivery"]
    for r in rows:
        redis = "-" if r["redis_us_per_publish"] is None else f"{r['redis_us_per_publish']:.1f}"
        lines.append(
            f"| {r['engine']} | {r['nodes']} | {r['shards'] or '-'} | {r['deliveries_per_s']:.0f} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['node_us_per_delivery']:.1f} "
            f"({r['node_us_per_delivery'] / base:.2f}x) | {redis} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--duplexd", default=os.environ.get("DUPLEXD") or
                        str(ROOT / "build/release/apps/duplexd"))
    parser.add_argument("--out", default=str(ROOT / "bench/results/scaleout.json"))
    args = parser.parse_args()
    seconds = 1.0 if args.quick else args.seconds
    plan = [(1, 0), (1, 1), (2, 1), (3, 1), (1, 2), (2, 2), (3, 2)]
    rows = []
    for nodes, shards in plan:
        row = run_row(args.duplexd, nodes, shards, seconds)
        print(f"{row['engine']} nodes={nodes} shards={shards}: {row['deliveries_per_s']:.0f}/s",
              file=sys.stderr)
        rows.append(row)
    print(table(rows))
    expected = RATE * SUBSCRIBERS
    for r in rows:  # every row carried the offered load (no delivery lost to a slow path)
        assert r["deliveries_per_s"] > 0.8 * expected, r
    if not args.quick:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"rows": rows, "rate": RATE, "channels": CHANNELS,
                                              "subscribers": SUBSCRIBERS}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
