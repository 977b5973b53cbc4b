"""Fixtures shared by the end-to-end suites (tests/interop, tests/badinput, tests/load).

`start_server` starts programs that announce `listening on ws://127.0.0.1:PORT`; at teardown
each must exit 0 within a few seconds of SIGTERM with no sanitizer report, or the test fails.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import servers  # noqa: E402


class _Starter:
    def __init__(self):
        self.started: list[servers.ServerProcess] = []

    def _keep(self, server):
        self.started.append(server)
        return server

    def echo(self, *flags: str) -> servers.ServerProcess:
        """duplex-echo on 127.0.0.1 and an ephemeral port, with extra flags."""
        return self._keep(servers.start_duplex_echo(*flags))

    def node(self, script, *args: str) -> servers.ServerProcess:
        return self._keep(servers.start_node(script, *args))

    def python(self, script, *args: str) -> servers.ServerProcess:
        return self._keep(servers.start_python(script, *args))


@pytest.fixture
def start_server():
    starter = _Starter()
    try:
        yield starter
    finally:
        errors = []
        for server in starter.started:
            try:
                server.stop_and_check()
            except AssertionError as e:
                errors.append(str(e))
        assert not errors, "\n\n".join(errors)


@pytest.fixture
def echo_server(start_server) -> servers.ServerProcess:
    """duplex-echo with its default flags."""
    return start_server.echo()
