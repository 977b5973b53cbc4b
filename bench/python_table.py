"""The Python table of the benchmark (`bench/run --python`): servers written in Python, with the
same echo and broadcast behaviour, side by side with duplex's Python package (issue 12).

Every row runs on Debian's /usr/bin/python3, pinned to one core like every other peer; the figure
is the server's CPU time per message (per delivery in fan-out) and its memory per idle
connection, and every row is shown as a ratio to python-websockets on asyncio's default loop,
measured in the same run. targets() checks the issue's bars against those ratios.
"""
import glob
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "bench" / "peers"
BASELINE = "python-websockets"

# W=1 and W=16 with 20 B and 1 KiB messages on 100 connections, all text (the str a Python
# handler receives is part of what it costs), fan-out to 1,000 subscribers, and 10,000 idle
# connections (the generator spreads them over 127.0.0.2, .3, ...).
SCENARIOS = [
    ("echo-w1-20-text", "echo", "--scenario echo --connections 100 --in-flight 1 --bytes 20 --text"),
    ("echo-w16-20-text", "echo", "--scenario echo --connections 100 --in-flight 16 --bytes 20 --text"),
    ("echo-w1-1k-text", "echo", "--scenario echo --connections 100 --in-flight 1 --bytes 1024 --text"),
    ("echo-w16-1k-text", "echo", "--scenario echo --connections 100 --in-flight 16 --bytes 1024 --text"),
    ("fanout-1k-w1", "broadcast", "--scenario fanout --subscribers 1000 --in-flight 1"),
    ("fanout-1k-w16", "broadcast", "--scenario fanout --subscribers 1000 --in-flight 16"),
    ("idle-10k", "echo", "--scenario idle --connections 10000"),
]
# 2 s measured per run instead of the main table's 3: ten Python servers are slow to connect
# 1,000 or 10,000 clients, and the CPU per message of a Python server settles within a second.
TIMING = "--duration 2 --warmup 0.5 --hold 1 --timeout 120"

# The smoke (ctest bench.python): each peer echoes text and broadcasts binary, checked message
# by message, for a tenth of a second. Nothing is timed.
QUICK_SCENARIOS = [
    ("echo-w4-1k-text", "echo", "--scenario echo --connections 10 --in-flight 4 --bytes 1024 --text"),
    ("fanout-50-w4-binary", "broadcast",
     "--scenario fanout --subscribers 50 --in-flight 4 --bytes 100 --binary"),
]
QUICK_TIMING = "--duration 0.1 --warmup 0.05 --hold 0.05 --timeout 20"

# name: (peer script, extra arguments, module it needs). Each library on asyncio's default loop,
# then on uvloop.
PEER_SCRIPTS = {
    "python-websockets": ("websockets_server.py", [], "websockets"),
    "tornado": ("tornado_server.py", [], "tornado"),
    "aiohttp": ("aiohttp_server.py", [], "aiohttp"),
    "duplex-api1": ("duplex_api1_server.py", [], "duplex"),
    "duplex-api2": ("duplex_api2_server.py", [], "duplex"),
}
PYTHON_ROWS = []
for _name in PEER_SCRIPTS:
    PYTHON_ROWS += [_name, _name + "-uvloop"]
# The C++ server (duplex-echo) closes the table for reference: what the engine under the
# package costs with no Python at all, the floor the duplex rows stand on. Not in any ratio
# check. The smoke leaves it to bench.smoke.
REFERENCE = "duplex"
SERVERS = PYTHON_ROWS + [REFERENCE]
QUICK_SERVERS = PYTHON_ROWS


def not_run(server, scenario):
    """Idle memory is measured on asyncio's loop only for the other libraries: the loop moves
    their bytes per connection by under 2 % (websockets 17,759 / 17,735, Tornado 13,974 /
    14,208, aiohttp 16,466 / 16,152 on asyncio / uvloop, 2026-12-06), and each of those rows
    costs half a minute of Python handshakes. duplex's rows keep both loops: the target is theirs."""
    if scenario.startswith("idle") and server.endswith("-uvloop") and not server.startswith("duplex"):
        return "idle memory measured on asyncio only (the loop changes it by < 2 %)"
    return None


def duplex_package_dir(explicit):
    """The directory holding the `duplex` package for PYTHONPATH: --duplex-python if given,
    else the site-packages of the repository's .venv (`make python` installs there). None when
    neither is there."""
    if explicit:
        return Path(explicit).resolve()
    found = sorted(glob.glob(str(ROOT / ".venv" / "lib" / "python3*" / "site-packages")))
    return Path(found[-1]) if found else None


def commands(python, duplex_dir):
    """{server: (argv prefix, env) or the reason it cannot run}."""
    env = {"PYTHONPATH": str(duplex_dir)} if duplex_dir else None
    importable = {}
    result = {}
    for name, (script, extra, module) in PEER_SCRIPTS.items():
        if module not in importable:
            check = subprocess.run([python, "-c", f"import {module}, uvloop"], capture_output=True,
                                   text=True, env=dict(os.environ, **(env or {})))
            importable[module] = check.returncode == 0
            if not importable[module]:
                last = (check.stderr.strip().splitlines() or ["?"])[-1]
                hint = "the duplex package is not built (make python)" if module == "duplex" \
                    else f"python3-{module}"
                importable[module] = f"{python} cannot import {module} or uvloop ({hint}): {last}"
        ok = importable[module]
        for variant, loop in [(name, []), (name + "-uvloop", ["--uvloop"])]:
            result[variant] = ([python, PEERS / script] + extra + loop, env) if ok is True else ok
    return result


def matrix(summary, servers):
    """Markdown: one row per server, one column per scenario: the median CPU µs per message
    (bytes per idle connection) and, in brackets, its ratio to python-websockets on asyncio."""
    scenarios = [n for n, _, _ in SCENARIOS if n in summary]
    lines = ["| server | " + " | ".join(scenarios) + " |", "|---|" + "---|" * len(scenarios)]
    for server in servers:
        cells = []
        for scenario in scenarios:
            key = "server_bytes_per_conn" if scenario.startswith("idle") else "server_cpu_us_per_msg"
            entry = summary[scenario].get(server, {})
            mine, base = _median(summary, scenario, server, key), _median(summary, scenario, BASELINE, key)
            if mine is None:
                cells.append("n/a" if entry.get("skipped") else ("FAILED" if entry else "-"))
                continue
            shown = f"{mine:.0f}" if mine >= 100 else f"{mine:.3g}"
            ratio = mine / base if base else None
            cells.append(shown if ratio is None else
                         f"{shown} ({ratio:.2f}x)" if ratio >= 0.1 else f"{shown} ({ratio:.3f}x)")
        label = f"{server} (C++, reference)" if server == REFERENCE else server
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(summary, servers):
    """What bench/run prints after its per-scenario tables: the matrix, then the targets."""
    return ("\n### The Python table: server CPU µs per message (per delivery in fan-out), bytes "
            "per idle connection, and the ratio to python-websockets on asyncio\n\n"
            + matrix(summary, servers) + "\n" + targets(summary))


# ------------------------------------------------------------------------------- the targets

ECHO_W1 = ["echo-w1-20-text", "echo-w1-1k-text"]
ECHO_W16 = ["echo-w16-20-text", "echo-w16-1k-text"]
# (what, server, scenarios, highest allowed ratio to websockets on asyncio)
RATIO_TARGETS = [
    ("API 2 at W=1: <= 0.15x", "duplex-api2", ECHO_W1, 0.15),
    ("API 2 at W=16: <= 0.10x", "duplex-api2", ECHO_W16, 0.10),
    ("API 1 at W=1: <= 0.30x", "duplex-api1", ECHO_W1, 0.30),
    ("API 1 at W=16: <= 0.20x", "duplex-api1", ECHO_W16, 0.20),
    ("fan-out: >= 20x cheaper per delivery than websockets.broadcast()", "duplex-api1",
     ["fanout-1k-w1", "fanout-1k-w16"], 1 / 20),
    ("fan-out: >= 20x cheaper per delivery than websockets.broadcast()", "duplex-api2",
     ["fanout-1k-w1", "fanout-1k-w16"], 1 / 20),
]
IDLE_LIMIT = 1024  # bytes per idle connection


def _median(summary, scenario, server, key):
    return summary.get(scenario, {}).get(server, {}).get(key, {}).get("median")


def targets(summary):
    """Markdown: each of the issue's bars, for each duplex row (asyncio and uvloop), with the
    measured figure and whether it is met. A bar with nothing measured says so."""
    cpu = "server_cpu_us_per_msg"
    lines = ["\n### Against the targets of issue 12 (ratios to python-websockets on asyncio, "
             "same run)\n", "| target | server | scenario | measured | |", "|---|---|---|---|---|"]
    for what, server, scenarios, bound in RATIO_TARGETS:
        for row in (server, server + "-uvloop"):
            for scenario in scenarios:
                base = _median(summary, scenario, BASELINE, cpu)
                mine = _median(summary, scenario, row, cpu)
                if base is None or mine is None:
                    lines.append(f"| {what} | {row} | {scenario} | not measured | - |")
                    continue
                ratio = mine / base
                shown = (f"{mine:.3g} / {base:.3g} = {ratio:.3f}x"
                         + (f" ({base / mine:.1f}x cheaper)" if bound < 0.1 else ""))
                lines.append(f"| {what} | {row} | {scenario} | {shown} | "
                             f"{'met' if ratio <= bound else '**not met**'} |")
    for server in ("duplex-api1", "duplex-api2"):
        for row in (server, server + "-uvloop"):
            mine = _median(summary, "idle-10k", row, "server_bytes_per_conn")
            measured = "not measured" if mine is None else f"{mine:.0f} B"
            verdict = "-" if mine is None else ("met" if mine <= IDLE_LIMIT else "**not met**")
            lines.append(f"| idle connection: <= 1 KiB | {row} | idle-10k | {measured} | {verdict} |")
    lines += _rankings(summary)
    return "\n".join(lines)


def _rankings(summary):
    """The issue's ordering, in each echo scenario: API 2 cheaper than every row that is not
    API 2, API 1 cheaper than every row that is not duplex's (each duplex row on either loop)."""
    lines = ["", "| ordering (echo, CPU per message) | scenario | cheapest rival | |",
             "|---|---|---|---|"]
    cpu = "server_cpu_us_per_msg"
    for scenario in ECHO_W1 + ECHO_W16:
        figures = {s: e[cpu]["median"] for s, e in summary.get(scenario, {}).items()
                   if cpu in e and s in PYTHON_ROWS}
        for api, rivals_are, who in [("duplex-api2", "duplex-api2", "every other row"),
                                     ("duplex-api1", "duplex-api", "every other library")]:
            rivals = {s: v for s, v in figures.items() if not s.startswith(rivals_are)}
            for row in (api, api + "-uvloop"):
                if row not in figures or not rivals:
                    lines.append(f"| {row} cheaper than {who} | {scenario} | not measured | - |")
                    continue
                best = min(rivals, key=rivals.get)
                verdict = "met" if figures[row] < rivals[best] else "**not met**"
                lines.append(f"| {row} ({figures[row]:.3g} µs) cheaper than {who} | {scenario} | "
                             f"{best} {rivals[best]:.3g} µs | {verdict} |")
    return lines
