"""bench/run's own plumbing: a server that fails to start is reported with what it printed.

(bench/run's Server.output() used to flush a log that stop() had already closed, so a server
that could not start crashed the benchmark with "I/O operation on closed file" instead.)
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys

import pytest

from support import servers

BENCH = servers.REPO / "bench"


def load_bench_run():
    sys.path.insert(0, str(BENCH))
    loader = importlib.machinery.SourceFileLoader("bench_run", str(BENCH / "run"))
    spec = importlib.util.spec_from_loader("bench_run", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_a_server_that_cannot_start_is_reported_with_its_output(tmp_path):
    bench_run = load_bench_run()
    command = (["/bin/sh", "-c", "echo no such option; exit 3", "server"], None)
    with pytest.raises(RuntimeError, match="no such option"):
        bench_run.Server(command, "echo", tmp_path)
