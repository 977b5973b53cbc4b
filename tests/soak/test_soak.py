"""Soak under churn (docs/reliability.md): duplex-soak (bench/soak) holds a few thousand
connections on one duplex-echo, from several source addresses, and churns them at random with a
fixed seed: connects, cut handshakes and frames, resets, pings, slow and overflowing readers,
and (--broadcast) subscribers coming and going while a publisher broadcasts. Every reply is
checked by the tool. At the end the server must be alive, back at its baseline of open fds, back
near its baseline RSS, and exit cleanly (no sanitizer report) on SIGTERM.

The RSS baseline is taken after a warm-up soak at the same scale, not at start: the server's
chunk pool keeps up to 8 MiB of spare chunks by design (src/net/out_queue.h) and malloc keeps
its arenas, so the first soak raises RSS once. What must not happen is growth after that.

The same file is the long run (not in CI), e.g. 19,000 connections for ten minutes:
  DUPLEX_SOAK_CONNECTIONS=19000 DUPLEX_SOAK_SECONDS=600 python3 -m pytest -s tests/soak -k echo
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from support import servers

SOAK = os.environ.get("DUPLEX_SOAK") or str(servers.REPO / "build/release/bench/duplex-soak")
CONNECTIONS = int(os.environ.get("DUPLEX_SOAK_CONNECTIONS", "3000"))
SECONDS = float(os.environ.get("DUPLEX_SOAK_SECONDS", "12"))
WARMUP = float(os.environ.get("DUPLEX_SOAK_WARMUP", "3"))
CHURN_RATE = float(os.environ.get("DUPLEX_SOAK_CHURN_RATE", "200"))
HANDSHAKE_TIMEOUT = 2
BOUND = 1 << 20  # the server's --max-backpressure
MIB = 1024


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def sanitized(pid: int) -> bool:
    """ASan keeps freed memory in quarantine and maps shadow memory: RSS says nothing there."""
    return "libasan" in Path(f"/proc/{pid}/maps").read_text()


def soak(server, seconds: float, seed: int, *extra: str) -> dict:
    command = [SOAK, "--port", str(server.port), "--server-pid", str(server.pid),
               "--connections", str(CONNECTIONS), "--seconds", str(seconds), "--seed", str(seed),
               "--churn-rate", str(CHURN_RATE), "--handshake-timeout", str(HANDSHAKE_TIMEOUT),
               "--server-backpressure", str(BOUND), *extra]
    # Ramp, drain and close take seconds at 19,000 connections; bounded all the same.
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 240,
                          preexec_fn=servers._die_with_parent)
    assert done.stdout.strip(), f"duplex-soak printed nothing (exit {done.returncode})\n{done.stderr}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\nduplex-soak seed {seed}: {json.dumps(result)}")
    assert done.returncode == 0 and result["ok"] and result["errors"] == 0, (
        f"duplex-soak found errors: {result.get('first_errors')}\n{done.stderr[-4000:]}")
    assert server.alive(), f"duplex-echo died during the soak\n{server.stderr()[-4000:]}"
    return result


def settle_fds(server, baseline: int) -> int:
    """The server closes its side of each connection within its close timeout; wait for that."""
    give_up = time.monotonic() + 15
    while open_fds(server.pid) > baseline and time.monotonic() < give_up:
        time.sleep(0.1)
    return open_fds(server.pid)


LOOPS = 2


@pytest.mark.parametrize("mode", ["echo", "broadcast"])
def test_soak_leaves_the_server_as_it_found_it(start_server, mode):
    broadcast = mode == "broadcast"
    # Two loops whatever the machine has (duplex-echo's default is one per core): what each
    # loop thread keeps (its malloc arena, its buffer pool) is judged below per loop.
    server = start_server.echo("--handshake-timeout", str(HANDSHAKE_TIMEOUT),
                               "--max-backpressure", str(BOUND), "--threads", str(LOOPS),
                               *(["--broadcast"] if broadcast else []))
    extra = ["--broadcast", "--subscribers", str(min(200, CONNECTIONS // 10))] if broadcast else []
    fds_start = open_fds(server.pid)
    rss_start = server.vm_rss_kib()

    soak(server, WARMUP, 1, *extra)
    fds_warm = settle_fds(server, fds_start)
    rss_warm = server.vm_rss_kib()

    result = soak(server, SECONDS, 2, *extra)
    fds_after = settle_fds(server, fds_start)
    time.sleep(0.5)
    rss_after = server.vm_rss_kib()
    print(f"duplex-echo ({mode}): fds start {fds_start}, after warm-up {fds_warm}, after soak "
          f"{fds_after}, peak {result.get('server_fds_peak')}; VmRSS start {rss_start} KiB, "
          f"after warm-up {rss_warm} KiB, peak {result.get('server_rss_peak_kib')} KiB, "
          f"after soak {rss_after} KiB")

    # The run did what it says: connections at the target, every kind of churn, replies checked.
    assert result["max_open"] >= CONNECTIONS
    assert result["handshakes"] > CONNECTIONS
    kinds = ["churn_close", "churn_abort", "churn_reset", "churn_ping", "churn_slow_reader",
             "churn_cut_frame_hangup", "churn_cut_frame_reset", "churn_cut_frame_resume",
             "churn_cut_handshake_hangup", "churn_cut_handshake_reset",
             "churn_cut_handshake_stall", "churn_cut_handshake_resume", "churn_overflow_reader"]
    if broadcast:
        kinds += ["churn_unsubscribe", "churn_reset_subscriber", "churn_slow_subscriber"]
        assert result["broadcasts_checked"] > result["publishes"]
    for kind in kinds:
        assert result.get(kind, 0) > 0, f"no {kind} in the run"
    assert result["echoes_checked"] > 0 and result["pongs_checked"] > 0
    # Stalled handshakes end at the server's handshake timeout; cut ones that were finished
    # got their 101 (the tool fails the run otherwise; these say it saw them).
    assert result.get("outcome_stalled_handshake_closed_by_server", 0) == \
        result["churn_cut_handshake_stall"]
    # (A resumed one may meet the server's timeout first if this machine held the tool back.)
    assert result.get("outcome_cut_handshake_completed", 0) + \
        result.get("outcome_cut_handshake_timed_out_late", 0) == result["churn_cut_handshake_resume"]
    # A reader that floods without reading is dropped at the server's send bound.
    dropped = result.get("outcome_overflow_dropped", 0) + \
        result.get("outcome_overflow_closed_1013", 0)
    assert dropped >= result["churn_overflow_reader"] // 2, "the send bound dropped too few"

    assert fds_after <= fds_start + 2, \
        f"the server kept {fds_after - fds_start} fds of closed connections"
    if sanitized(server.pid):
        print("ASan build: RSS not judged (quarantine and shadow memory)")
    else:
        # Each loop thread's malloc arena and chunk pool keep their high-water mark (returned
        # memory is reused, not given back): the bound is per loop. A leak grows past it.
        allowed = max(8 * MIB * LOOPS, rss_warm // 5)
        assert rss_after <= rss_warm + allowed, (
            f"VmRSS grew from {rss_warm} KiB (after warm-up) to {rss_after} KiB after the soak")
