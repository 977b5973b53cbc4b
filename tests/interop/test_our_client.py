"""duplex-interop-client (our client) against independent echo servers: python-websockets and
Node's ws, and against duplex-echo. The client checks each echo byte for byte, a ping, and the
close handshake; it exits 0 only when all of that held."""

import subprocess
from pathlib import Path

import pytest

from support import servers

HERE = Path(__file__).resolve().parent
CLIENT_TIMEOUT = 60


def run_client(url: str, *flags: str) -> subprocess.CompletedProcess:
    cmd = [*servers.interop_client_command(), url, *flags]
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=CLIENT_TIMEOUT, env=servers.sanitizer_env())
    for mark in servers.SANITIZER_MARKS:
        assert mark not in result.stderr, f"sanitizer report from the client:\n{result.stderr}"
    return result


def assert_passes(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, (f"client exited {result.returncode}\n"
                                    f"stdout: {result.stdout}\nstderr: {result.stderr}")


@pytest.fixture(params=["python-websockets", "node-ws", "duplex-echo"])
def peer(request, start_server):
    if request.param == "python-websockets":
        return start_server.python(HERE / "py_echo_server.py")
    if request.param == "node-ws":
        return start_server.node(HERE / "node_echo_server.mjs")
    return start_server.echo()


def test_client_against_peer(peer):
    assert_passes(run_client(peer.url + "/interop"))


@pytest.mark.parametrize("code", ["1000", "3000", "4999"])
def test_client_close_codes(peer, code):
    assert_passes(run_client(peer.url + "/", "--close-code", code))


def test_client_notices_a_corrupted_echo(start_server):
    # Without this, a client that checks nothing would pass everything above.
    bad = start_server.python(HERE / "py_echo_server.py", "--break", "corrupt")
    result = run_client(bad.url + "/")
    assert result.returncode != 0, f"client passed a corrupting peer\n{result.stdout}"
    assert result.stderr.strip(), "client failed without saying why on stderr"


def test_client_fails_when_no_server_listens():
    import socket
    with socket.socket() as s:  # a port that was free a moment ago, and nobody listens on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run_client(f"ws://127.0.0.1:{port}/")
    assert result.returncode != 0
    assert result.stderr.strip()
