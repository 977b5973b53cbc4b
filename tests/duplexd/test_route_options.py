"""duplexd's flags reach every WebSocket route: --no-deflate, --max-message-size and
--allow-origin hold on the hub's /connection and on every other WebSocket route alike, because
one place (webSocketRoute in apps/duplexd/main.cpp) builds every route's limits, compression and
admission from them. Checked over raw sockets, so the test sees the handshake's headers and the
close code as sent. Also: --max-message-size is range-checked in duplexd and duplex-echo."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support import rawws, servers  # noqa: E402

# Every WebSocket route duplexd serves: the hub, and the admin page's live feed.
ROUTES = ["/connection", "/admin/live"]
# The routes whose messages are commands that keep the connection open (the admin feed closes
# on a refused login, and reads at most 4096 bytes whatever the flag says).
COMMAND_ROUTES = ["/connection"]

# A hub command that does not close the connection.
COMMAND = b'{"id": 1, "ping": {}}'
HUB_COMMAND_LIMIT = 65536


def duplexd_command() -> list[str]:
    return [os.environ.get("DUPLEXD") or str(servers.REPO / "build/release/apps/duplexd")]


@pytest.fixture
def duplexd(tmp_path):
    started = []

    def start(*flags):
        server = servers.ServerProcess(
            [*duplexd_command(), "--host", "127.0.0.1", "--port", "0", "--quiet",
             "--data", str(tmp_path / f"data{len(started)}"), *servers.duplexd_loops(flags),
             *flags], name="duplexd")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop_and_check()


def handshake(port: int, path: str, *headers: str):
    """Upgrades with permessage-deflate offered (and any extra header lines); returns the
    response and, for a 101, the open connection."""
    key = rawws.make_key()
    request = rawws.upgrade_request(path, key).decode()
    extra = "".join(f"{h}\r\n" for h in
                    ("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
                     *headers))
    request = request[:-2] + extra + "\r\n"
    sock = rawws.connect(port)
    sock.sendall(request.encode())
    raw = b""
    deadline = time.monotonic() + rawws.READ_TIMEOUT
    while b"\r\n\r\n" not in raw:
        assert time.monotonic() < deadline, f"no response head in time: {raw!r}"
        chunk = sock.recv(65536)
        if not chunk:
            break
        raw += chunk
    if not raw.startswith(b"HTTP/1.1 101 "):
        more, closed = rawws.read_until_eof(sock)  # the refusal's body, then the server closes
        sock.close()
        return rawws.parse_response(raw + more, closed), None
    head, _, rest = raw.partition(b"\r\n\r\n")
    response = rawws.parse_response(head + b"\r\n\r\n", closed=False)
    assert response.header("sec-websocket-accept") == rawws.accept_for(key)
    return response, rawws.Connection(sock, rest)


def still_open(conn: rawws.Connection) -> bool:
    """Pings and reads up to the pong: False if a close frame comes first."""
    conn.send(rawws.frame(rawws.OP_PING, b"alive?"))
    while True:
        f = conn.read_frame()
        if f.opcode == rawws.OP_CLOSE:
            return False
        if f.opcode == rawws.OP_PONG and f.payload == b"alive?":
            return True


def padded(size: int) -> bytes:
    """COMMAND padded with JSON whitespace to exactly `size` bytes."""
    return COMMAND + b" " * (size - len(COMMAND))


@pytest.mark.parametrize("path", ROUTES)
def test_deflate_is_agreed_on_every_route_by_default(duplexd, path):
    server = duplexd()
    response, conn = handshake(server.port, path)
    assert response.status == 101
    assert (response.header("sec-websocket-extensions") or "").startswith("permessage-deflate")
    conn.close()


@pytest.mark.parametrize("path", ROUTES)
def test_no_deflate_reaches_every_route(duplexd, path):
    server = duplexd("--no-deflate")
    response, conn = handshake(server.port, path)
    assert response.status == 101
    assert response.header("sec-websocket-extensions") is None, response.raw
    conn.close()


@pytest.mark.parametrize("path", COMMAND_ROUTES)
def test_max_message_size_reaches_every_route(duplexd, path):
    server = duplexd("--max-message-size", "1000")
    _, conn = handshake(server.port, path)
    conn.send(rawws.frame(rawws.OP_TEXT, padded(1000)))  # at the limit: taken
    assert still_open(conn), f"{path} refused a message at the limit"
    conn.send(rawws.frame(rawws.OP_TEXT, padded(1001)))
    code, _ = conn.expect_close()
    assert code == 1009
    conn.close()


@pytest.mark.parametrize("path", COMMAND_ROUTES)
def test_the_default_limit_is_the_hub_protocols_on_every_route(duplexd, path):
    server = duplexd()
    _, conn = handshake(server.port, path)
    conn.send(rawws.frame(rawws.OP_TEXT, padded(HUB_COMMAND_LIMIT)))
    assert still_open(conn)
    conn.send(rawws.frame(rawws.OP_TEXT, padded(HUB_COMMAND_LIMIT + 1)))
    code, _ = conn.expect_close()
    assert code == 1009
    conn.close()


@pytest.mark.parametrize("path", ROUTES)
def test_allow_origin_reaches_every_route(duplexd, path):
    server = duplexd("--allow-origin", "https://ok.example")
    refused, _ = handshake(server.port, path, "Origin: https://elsewhere.example")
    assert refused.status == 403
    response, conn = handshake(server.port, path, "Origin: https://ok.example")
    assert response.status == 101
    conn.close()
    # Not a browser (no Origin): origins do not apply.
    response, conn = handshake(server.port, path)
    assert response.status == 101
    conn.close()


def refused(command: list[str], *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([*command, "--host", "127.0.0.1", "--port", "0", *flags],
                          capture_output=True, text=True, timeout=10,
                          env=servers.sanitizer_env(None))


@pytest.mark.parametrize("value", ["0", "65537", "-1", "1.5", "64k", ""])
def test_duplexd_refuses_a_max_message_size_out_of_range(tmp_path, value):
    result = refused(duplexd_command(), "--data", str(tmp_path), "--max-message-size", value)
    assert result.returncode == 2, result.stderr
    # One line, as for every bad flag, naming the range it takes.
    assert result.stderr == (f"duplexd: bad value for --max-message-size: {value}, not a whole "
                             "number of bytes from 1 to 65536 (see duplexd --help)\n")


@pytest.mark.parametrize("flag", ["--max-message-size", "--max-message"])
@pytest.mark.parametrize("value", ["0", "1073741825"])
def test_duplex_echo_refuses_a_max_message_size_out_of_range(flag, value):
    result = refused(servers.duplex_echo_command(), flag, value)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (f"duplex-echo: bad value for {flag}: {value}, not a whole number "
                             "of bytes from 1 to 1073741824 (see duplex-echo --help)\n")


def test_duplex_echo_max_message_size_closes_with_1009(start_server):
    server = start_server.echo("--max-message-size", "100")
    conn = rawws.open_ws(server.port, "/")
    conn.send(rawws.frame(rawws.OP_TEXT, b"x" * 100))
    assert conn.read_frame().payload == b"x" * 100
    conn.send(rawws.frame(rawws.OP_TEXT, b"x" * 101))
    code, _ = conn.expect_close()
    assert code == 1009
    conn.close()

