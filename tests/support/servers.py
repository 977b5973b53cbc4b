"""Servers under test as child processes: start, wait for the listening line, stop and judge.

A server passes its run only if it prints `... listening on ws://HOST:PORT` in time, survives
the test, exits 0 within a few seconds of SIGTERM, and prints no sanitizer report. Children get
PR_SET_PDEATHSIG so that none outlives a test runner killed by a timeout.
"""

from __future__ import annotations

import ctypes
import os
import re
import shlex
import signal
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"  # Debian's, which has the websockets package
LISTENING = re.compile(rb"listening on wss?://([0-9.]+):([0-9]+)")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "LeakSanitizer", "runtime error:")

# Sanitizer builds start and stop slower; these are generous but bounded.
START_TIMEOUT = float(os.environ.get("DUPLEX_START_TIMEOUT", "20"))
STOP_TIMEOUT = float(os.environ.get("DUPLEX_STOP_TIMEOUT", "10"))

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def sanitizer_env(env: dict | None = None) -> dict:
    env = dict(os.environ if env is None else env)
    # Reports go to stderr, where ServerProcess looks for them; UBSan findings are fatal.
    env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return env


class ServerProcess:
    """One child process that serves WebSocket on 127.0.0.1 and announces its port."""

    def __init__(self, argv: list[str], name: str | None = None, env: dict | None = None):
        self.argv = [str(a) for a in argv]
        self.term_sent = False
        self.name = name or Path(self.argv[0]).name
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=self._err,
            env=sanitizer_env(env),
            preexec_fn=_die_with_parent,
        )
        self.host, self.port = self._wait_listening()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def _read(self, f) -> str:
        f.seek(0)
        return f.read().decode("utf-8", "replace")

    def stdout(self) -> str:
        return self._read(self._out)

    def stderr(self) -> str:
        return self._read(self._err)

    def _wait_listening(self) -> tuple[str, int]:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            self._out.seek(0)
            m = LISTENING.search(self._out.read())
            if m:
                return m.group(1).decode(), int(m.group(2))
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited {self.proc.returncode} before listening\n"
                    f"stdout: {self.stdout()}\nstderr: {self.stderr()}")
            time.sleep(0.02)
        self.kill()
        raise AssertionError(f"{self.name} printed no listening line in {START_TIMEOUT} s\n"
                             f"stdout: {self.stdout()}\nstderr: {self.stderr()}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def vm_rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS in /proc status")

    def sigterm(self) -> None:
        """Starts a graceful shutdown without waiting for it."""
        self.term_sent = True
        self.proc.send_signal(signal.SIGTERM)

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, then wait; returns the exit status (SIGKILL and AssertionError on a hang)."""
        # One SIGTERM only: a second one may legitimately cut a graceful shutdown short.
        if self.proc.poll() is None and not self.term_sent:
            self.sigterm()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} still running {timeout} s after SIGTERM\n"
                                 f"stderr: {self.stderr()}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def sanitizer_report(self) -> str | None:
        err = self.stderr()
        for mark in SANITIZER_MARKS:
            if mark in err:
                return err
        return None

    def stop_and_check(self) -> None:
        """The verdict on a whole run: clean exit 0 after SIGTERM and no sanitizer report."""
        try:
            status = self.terminate()
        finally:
            self.kill()
        report = self.sanitizer_report()
        assert report is None, f"{self.name}: sanitizer report:\n{report}"
        assert status == 0, (f"{self.name} exited {status} after SIGTERM "
                             f"(negative: killed by signal)\nstderr: {self.stderr()}")

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.stop_and_check()
        else:
            self.kill()


def _from_env(var: str, default_target: str) -> list[str]:
    """The command for a built program: $VAR (set by ctest) or build/release/apps/<target>."""
    value = os.environ.get(var)
    if value:
        return shlex.split(value)
    fallback = REPO / "build" / "release" / "apps" / default_target
    if fallback.exists():
        return [str(fallback)]
    raise AssertionError(f"${var} is not set and {fallback} does not exist; "
                         "run the tests through ctest or build the release tree")


def duplex_echo_command() -> list[str]:
    return _from_env("DUPLEX_ECHO", "duplex-echo")


def duplexd_loops(flags=()) -> list[str]:
    """DUPLEXD_THREADS=N (ctest's loops1.* and loops4.* runs, issue #13): the flags that put
    duplexd on N loops; else none, and duplexd runs its default, one loop per core. A test that
    names --threads itself keeps its own."""
    threads = os.environ.get("DUPLEXD_THREADS")
    if not threads or any(flag.startswith("--threads") for flag in flags):
        return []
    return ["--threads", threads]


def interop_client_command() -> list[str]:
    return _from_env("DUPLEX_INTEROP_CLIENT", "duplex-interop-client")


def start_duplex_echo(*flags: str) -> ServerProcess:
    return ServerProcess(
        [*duplex_echo_command(), "--host", "127.0.0.1", "--port", "0", *flags],
        name="duplex-echo")


def start_node(script: str | Path, *args: str) -> ServerProcess:
    return ServerProcess(["node", str(script), *args], name=Path(script).name)


def start_python(script: str | Path, *args: str) -> ServerProcess:
    return ServerProcess([PYTHON, str(script), *args], name=Path(script).name)
