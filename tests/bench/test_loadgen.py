"""duplex-loadgen against duplex-echo, for what the smoke (bench/run --quick) cannot show:

- `--deflate` against a server with compression off must fail the run, not measure it: a server
  that silently does not compress would otherwise look fast in the deflate table.
- duplex-echo's benchmark knobs (`--no-cork`, `--no-shared-frames`) must leave a server that
  the generator, which checks every message's content and order, finds correct, with and
  without permessage-deflate: a knob that broke the server would make its table row a lie.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from support import servers

LOADGEN = os.environ.get("DUPLEX_LOADGEN") or str(servers.REPO / "build/release/bench/duplex-loadgen")
QUICK = ["--duration", "0.3", "--warmup", "0.1", "--timeout", "20"]


def loadgen(server, *args: str) -> tuple[int, dict, str]:
    done = subprocess.run([LOADGEN, "--port", str(server.port), "--server-pid", str(server.pid),
                           *args, *QUICK], capture_output=True, text=True, timeout=60)
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_deflate_offer_declined_fails_the_run(start_server):
    server = start_server.echo()  # compression off
    status, result, stderr = loadgen(server, "--connections", "4", "--bytes", "1024",
                                     "--payload", "json", "--deflate")
    assert status == 1
    assert result["ok"] is False
    assert "did not accept permessage-deflate" in result["error"], stderr


@pytest.mark.parametrize("takeover", [False, True])
def test_deflate_echo_is_compressed_both_ways(start_server, takeover):
    server = start_server.echo("--deflate-takeover" if takeover else "--deflate")
    status, result, stderr = loadgen(server, "--connections", "4", "--in-flight", "4",
                                     "--bytes", "1024", "--payload", "json",
                                     "--deflate-takeover" if takeover else "--deflate")
    assert status == 0 and result["ok"], stderr
    assert result["received_compressed_share"] == 1.0
    assert 0 < result["sent_compression_ratio"] < 0.5
    assert result["deflate"] == ("context_takeover" if takeover else "no_context_takeover")


@pytest.mark.parametrize("knob", ["--no-cork", "--no-shared-frames"])
@pytest.mark.parametrize("deflate", [False, True])
def test_benchmark_knobs_leave_a_correct_server(start_server, knob, deflate):
    payload = ["--bytes", "1024", "--payload", "json", "--deflate"] if deflate else []
    echo = start_server.echo(knob, *(["--deflate"] if deflate else []))
    status, result, stderr = loadgen(echo, "--connections", "8", "--in-flight", "16", *payload)
    assert status == 0 and result["ok"], stderr
    assert result["checked"] > 0
    broadcast = start_server.echo(knob, "--broadcast", *(["--deflate"] if deflate else []))
    status, result, stderr = loadgen(broadcast, "--scenario", "fanout", "--subscribers", "50",
                                     "--in-flight", "4", *payload)
    assert status == 0 and result["ok"], stderr
    assert result["checked"] > 0
    if deflate:
        assert result["received_compressed_share"] == 1.0
