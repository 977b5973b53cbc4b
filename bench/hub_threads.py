"""The hub's loops table (bench/run --hub --threads N, issue 13): one duplexd on the embedded
engine started with --threads 1 and with --threads N, in one run, its CPU per delivery as a
ratio of N loops to 1.

It reuses bench/scaleout.py whole: its hub-protocol generator, its workloads (fan-out 50, 10
and 1 at a fixed offered load), its embedded-engine configuration and its /proc reading (CPU
of every duplexd thread per delivery). Only duplexd's --threads differs between the rows.
The two loop counts take turns (1, N, 1, N ...) within every workload, so a load that comes
and goes on the shared machine falls on both alike, and duplexd is pinned to the server cores
like every server of the benchmark: on a 2-core machine both loops share core 1, which
measures what the multi-loop machinery costs per delivery, not what it gains.
"""
from __future__ import annotations

import subprocess
import time

import scaleout

TARGET = 1.10  # issue 13: CPU per message with N loops within 10 % of 1 loop's


def label(threads: int) -> str:
    return f"{threads} loop" + ("" if threads == 1 else "s")


def run(duplexd: str, quick: bool, runs: int, threads: int, cores, log) -> dict:
    loop_counts = sorted({1, threads})
    shapes = scaleout.workloads(quick)
    results = {}
    failures = 0
    for workload in shapes:
        log(f"hub loops: {workload.describe()}")
        for run_index in range(runs):
            for count in loop_counts:
                began = time.monotonic()
                try:
                    # nodes 1, shards 0: scaleout's baseline, one duplexd on the embedded engine.
                    result = scaleout.run_config(duplexd, None, 1, 0, workload, cores, log,
                                                 threads=count)
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    result = {"ok": False, "error": str(e)}
                result["wall_s"] = round(time.monotonic() - began, 1)
                results.setdefault(workload.name, {}).setdefault(label(count), []).append(result)
                failures += 0 if result.get("ok") else 1
                status = "ok" if result.get("ok") else "FAILED: " + result.get("error", "?")
                log(f"{workload.name:10} {label(count):8} run {run_index + 1}/{runs}: "
                    f"{scaleout.fmt(result.get('node_cpu_us_per_delivery'))} us/delivery, "
                    f"{scaleout.fmt(result.get('rate'))} deliveries/s  {status}")
    summary = scaleout.summarize(results)
    return {"workloads": [w.describe() for w in shapes], "loops": loop_counts,
            "summary": summary, "results": results, "failures": failures,
            "table": table(summary, loop_counts), "target": target(summary, loop_counts)}


def table(summary: dict, loop_counts: list[int]) -> str:
    """Markdown: one row per workload, medians [min-max] of duplexd's CPU per delivery for each
    loop count, the ratio of the medians, and the delivery rates (the offered load is fixed, so
    the rate says only whether duplexd kept up)."""
    names = [label(n) for n in loop_counts]
    head = ["workload"] + [f"CPU µs/delivery, {n}" for n in names]
    if len(names) == 2:
        head.append(f"{loop_counts[1]} vs 1")
    head += [f"deliveries/s, {n}" for n in names] + [f"p99 µs, {n}" for n in names]
    head += [f"wake-ups/publish, {n}" for n in names]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for workload, per_loops in summary.items():
        row = [workload]
        medians = []
        for name in names:
            entry = per_loops.get(name, {})
            cpu = entry.get("node_cpu_us_per_delivery")
            if not cpu:
                row.append(f"FAILED ({entry.get('runs', 0)} runs)")
                medians.append(None)
                continue
            shown = scaleout.fmt(cpu["median"])
            if entry["passed"] > 1:
                shown += f" [{scaleout.fmt(cpu['min'])}-{scaleout.fmt(cpu['max'])}]"
            row.append(shown)
            medians.append(cpu["median"])
        if len(names) == 2:
            row.append(f"{(medians[1] / medians[0] - 1) * 100:+.0f} %"
                       if all(medians) else "-")
        for key in ("rate", "p99_us", "node_wakeups_per_publish"):
            for name in names:
                row.append(scaleout.fmt(per_loops.get(name, {}).get(key, {}).get("median")))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def target(summary: dict, loop_counts: list[int]) -> str:
    if len(loop_counts) < 2:
        return "target: needs --threads 2 or more (N loops against 1)"
    many = label(loop_counts[1])
    out = []
    for workload, per_loops in summary.items():
        one = per_loops.get(label(1), {}).get("node_cpu_us_per_delivery", {}).get("median")
        n = per_loops.get(many, {}).get("node_cpu_us_per_delivery", {}).get("median")
        if not one or not n:
            out.append(f"{workload}: a row failed")
            continue
        verdict = "met" if n / one <= TARGET else "NOT met"
        out.append(f"{workload}: {n / one:.2f}x ({verdict})")
    return (f"target (duplexd CPU per delivery with {many} <= {TARGET:.2f}x 1 loop's):\n  "
            + "\n  ".join(out))
