"""Malformed opening handshakes over raw sockets: each gets the exact HTTP status (RFC 6455 4.2.1,
RFC 9110/9112), a body naming the bad header for 400s, then the server closes the connection,
and then the same server still serves a healthy client."""

import socket
import time
from dataclasses import dataclass, field

import pytest

from support import rawws
from support.healthy import assert_healthy

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # the RFC's sample key, base64 of 16 bytes
GOOD = [("Host", "127.0.0.1"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", KEY), ("Sec-WebSocket-Version", "13")]


def request(method="GET", target="/", version="HTTP/1.1", drop=(), replace=None, add=()):
    replace = replace or {}
    headers = [(n, replace.get(n, v)) for n, v in GOOD if n not in drop] + list(add)
    lines = [f"{method} {target} {version}"] + [f"{n}: {v}" for n, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class Case:
    id: str
    request: bytes
    status: int
    names: str | None = None  # a 400's body must name this header (case-insensitive)
    headers: dict = field(default_factory=dict)  # response headers that must hold these values


CASES = [
    Case("method POST", request(method="POST"), 405, headers={"Allow": "GET"}),
    Case("method PUT", request(method="PUT"), 405, headers={"Allow": "GET"}),
    Case("HTTP/1.0", request(version="HTTP/1.0"), 400),
    Case("HTTP/2.0", request(version="HTTP/2.0"), 505),
    Case("HTTP/3.0", request(version="HTTP/3.0"), 505),
    Case("missing Host", request(drop=["Host"]), 400, names="Host"),
    Case("missing Upgrade", request(drop=["Upgrade"]), 426, headers={"Upgrade": "websocket"}),
    Case("Upgrade h2c", request(replace={"Upgrade": "h2c"}), 400, names="Upgrade"),
    Case("missing Connection", request(drop=["Connection"]), 400, names="Connection"),
    Case("Connection keep-alive", request(replace={"Connection": "keep-alive"}), 400,
         names="Connection"),
    Case("missing key", request(drop=["Sec-WebSocket-Key"]), 400, names="Sec-WebSocket-Key"),
    Case("key of 15 bytes", request(replace={"Sec-WebSocket-Key": "AAECAwQFBgcICQoLDA0O"}),
         400, names="Sec-WebSocket-Key"),
    Case("key of 17 bytes",
         request(replace={"Sec-WebSocket-Key": "AAECAwQFBgcICQoLDA0ODxA="}), 400,
         names="Sec-WebSocket-Key"),
    Case("key not base64", request(replace={"Sec-WebSocket-Key": "!!!!!!!!!!!!!!!!!!!!!!=="}),
         400, names="Sec-WebSocket-Key"),
    Case("duplicated key", request(add=[("Sec-WebSocket-Key", "AAECAwQFBgcICQoLDA0ODw==")]),
         400, names="Sec-WebSocket-Key"),
    Case("version 12", request(replace={"Sec-WebSocket-Version": "12"}), 426,
         headers={"Sec-WebSocket-Version": "13"}),
    Case("missing version", request(drop=["Sec-WebSocket-Version"]), 426,
         headers={"Sec-WebSocket-Version": "13"}),
    Case("9 KiB head", request(add=[("X-Padding", "p" * 9 * 1024)]), 431),
    Case("9 KiB head, no end", request()[:-4] + b"\r\nX-Padding: " + b"p" * 9 * 1024, 431),
    Case("garbage bytes", bytes(range(256)) + b"\r\n\r\n", 400),
    Case("request line only two words", b"GET /\r\nHost: 127.0.0.1\r\n\r\n", 400),
    Case("header line without colon", request(add=[("X-No-Colon-Here", "")]).replace(
        b"X-No-Colon-Here: ", b"X-No-Colon-Here"), 400),
    Case("space before colon", request().replace(b"Host:", b"Host :"), 400),
    Case("bare LF line endings", request().replace(b"\r\n", b"\n"), 400),
    Case("obsolete line folding", request(add=[("X-Folded", "a")]).replace(
        b"X-Folded: a", b"X-Folded: a\r\n b"), 400),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_handshake(server, case):
    response = rawws.http_exchange(server.port, case.request)
    assert response.status == case.status, f"expected {case.status}, got {response.raw[:300]!r}"
    if case.names:
        assert case.names.lower() in response.body.decode("utf-8", "replace").lower(), \
            f"the 400's body does not name {case.names}: {response.body!r}"
    for name, value in case.headers.items():
        got = response.header(name)
        assert got is not None and value.lower() in got.lower(), \
            f"expected {name}: {value}, got {response.headers}"
    assert response.closed, "the server did not close the connection after refusing"
    assert_healthy(server.port)


def test_good_handshake_for_reference(server):
    # The same helpers with nothing wrong: proves the cases above fail for their one defect.
    conn = rawws.open_ws(server.port, "/reference")
    conn.send(rawws.frame(rawws.OP_TEXT, b"hello"))
    f = conn.read_frame()
    assert (f.opcode, f.payload) == (rawws.OP_TEXT, b"hello")
    conn.send(rawws.close_frame(1000))
    assert conn.expect_close()[0] == 1000
    conn.close()


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> float | None:
    """Sends `trickle` one byte a second (slowloris) until the server hangs up; returns when it
    did, or None if it was still open after `seconds`."""
    start = time.monotonic()
    sent = 0
    while time.monotonic() - start < seconds:
        if sent < len(trickle):
            if not rawws.send_quietly(sock, trickle[sent:sent + 1]):
                return time.monotonic() - start
            sent += 1
        sock.settimeout(1.0)
        try:
            data = sock.recv(4096)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return time.monotonic() - start
        if not data:
            return time.monotonic() - start
        # An answer such as 408 is allowed before the close; keep reading for the close.
    return None


@pytest.mark.parametrize("trickle", [request(), b""], ids=["one byte a second", "silent"])
def test_slow_handshake_is_cut_off(server, trickle):
    limit = server.handshake_timeout
    with rawws.connect(server.port) as sock:
        elapsed = _closed_within(sock, limit + 6, trickle)
    assert elapsed is not None, f"server kept a {limit} s handshake open for {limit + 6} s"
    assert elapsed >= limit - 0.5, f"server closed after {elapsed:.1f} s, before its timeout"
    assert_healthy(server.port)
