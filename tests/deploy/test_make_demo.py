"""`make demo` installs and builds only what the demo needs; `make test` and `make bench` get the
rest. Checked without uninstalling anything: the package sets scripts/install-deps prints, and
`make demo`'s own configure command run in a scratch tree with GoogleTest, Google Benchmark and
Boost made unfindable, followed by a list of its build's commands that must touch no test or benchmark.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.servers import REPO  # noqa: E402

# What the demo must not pull in (issue #15): the browser, the benchmark's C++ peers, plots,
# Tornado, and the test-only build dependencies; nor a Redis server (issue #14: the demo runs on
# the embedded engine, though duplexd links the Redis client and so needs libhiredis).
NOT_FOR_THE_DEMO = {"chromium", "libboost1.81-dev", "libwebsocketpp-dev", "gnuplot-nox",
                    "python3-tornado", "libgtest-dev", "libbenchmark-dev", "clang", "nginx-light",
                    "redis-server"}


def package_set(*args: str) -> set[str]:
    out = subprocess.run([REPO / "scripts" / "install-deps", "--list", *args], check=True,
                         capture_output=True, text=True).stdout
    return set(out.split())


def make_dry_run(target: str) -> list[list[str]]:
    # Run from `make test`, this process inherits the outer make's flags and jobserver.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    out = subprocess.run(["make", "-n", "-C", REPO, target], check=True, capture_output=True,
                         text=True, env=env).stdout
    return [shlex.split(line) for line in out.splitlines() if line and not line.startswith("make")]


def test_package_sets():
    demo, everything = package_set("demo"), package_set()
    assert not demo & NOT_FOR_THE_DEMO, demo & NOT_FOR_THE_DEMO
    assert NOT_FOR_THE_DEMO <= everything
    assert demo <= everything
    assert {"cmake", "g++", "libssl-dev", "libsqlite3-dev", "libsimdjson-dev",
            "libhiredis-dev"} <= demo


def test_make_targets_install_their_sets():
    assert make_dry_run("demo")[0] == ["scripts/install-deps", "demo"]
    for target in ("bench", "build"):
        assert make_dry_run(target)[0] == ["scripts/install-deps"], target
    # `make test` runs scripts/test (JOBS=N scripts/test), which installs everything itself.
    assert make_dry_run("test")[0][-1] == "scripts/test"
    script = (REPO / "scripts" / "test").read_text()
    assert "scripts/install-deps ||" in script


def test_demo_configures_without_test_or_bench_dependencies(tmp_path):
    demo = make_dry_run("demo")
    configure = next(c for c in demo if c[:2] == ["cmake", "-S"])
    build = next(c for c in demo if c[:2] == ["cmake", "--build"])
    assert "-DDUPLEX_TESTS=OFF" in configure
    assert build[build.index("--target") + 1] == "duplexd"
    tree = tmp_path / "demo"
    configure = [tree if arg == "build/release" else arg for arg in configure]
    subprocess.run([*configure, "-DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON",
                    "-DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON",
                    "-DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON"],
                   cwd=REPO, check=True, capture_output=True)
    # Every command building duplexd takes, whether or not it is up to date.
    planned = subprocess.run(["ninja", "-C", tree, "-t", "commands", "duplexd"],
                             check=True, capture_output=True, text=True).stdout
    assert "duplexd/main.cpp" in planned
    for unwanted in ("tests/", "bench/", "fuzz/", "examples/"):
        assert unwanted not in planned, unwanted
