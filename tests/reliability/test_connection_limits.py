"""Connection limits of duplexd, from several source addresses: --max-connections-per-ip
refuses the (N+1)th connection from one address with 503 while other addresses still get in;
--max-connections refuses everyone beyond the total with 503, whatever the address; both make
room again when connections close. (tests/duplexd checks each flag from one address.)"""

from __future__ import annotations

import socket
import time

from duplexd_util import start_duplexd
from support import rawws


def attempt(port: int, source: str) -> tuple[int, socket.socket]:
    """An upgrade from `source` (127.0.0.x); returns the status and the socket (open on 101)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(rawws.READ_TIMEOUT)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    sock.sendall(rawws.upgrade_request("/connection"))
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(65536)
        assert chunk, f"closed without an answer: {raw!r}"
        raw += chunk
    if raw.startswith(b"HTTP/1.1 101 "):
        return 101, sock
    rest, closed = rawws.read_until_eof(sock)  # a refusal is answered, then closed
    response = rawws.parse_response(raw + rest, closed)
    assert response.status == 503 and response.header("retry-after"), raw + rest
    return response.status, sock


def eventually_admitted(port: int, source: str) -> socket.socket:
    """Refused connections linger a moment before they stop counting; retry for a while."""
    for _ in range(100):
        status, sock = attempt(port, source)
        if status == 101:
            return sock
        sock.close()
        time.sleep(0.1)
    raise AssertionError(f"{source} never admitted again")


def test_per_ip_and_total_limits_from_several_addresses(tmp_path):
    server = start_duplexd(tmp_path / "data", "--max-connections-per-ip", "3",
                           "--max-connections", "7")
    held: list[socket.socket] = []
    try:
        for _ in range(3):
            status, sock = attempt(server.port, "127.0.0.2")
            assert status == 101
            held.append(sock)
        status, refused = attempt(server.port, "127.0.0.2")
        assert status == 503, "a 4th connection from one address got in"
        refused.close()
        # Another address is not affected by the first one's limit...
        for _ in range(3):
            status, sock = attempt(server.port, "127.0.0.3")
            assert status == 101, "127.0.0.3 refused because of 127.0.0.2's connections"
            held.append(sock)
        # The 7th. The refused 4th from 127.0.0.2 counted towards the total until its loop saw
        # it close (it may linger up to 2 s), and on a busy machine that loop may not have yet.
        held.append(eventually_admitted(server.port, "127.0.0.4"))
        # ...but the total is: 7 open, an 8th from a fresh address is refused.
        status, refused = attempt(server.port, "127.0.0.5")
        assert status == 503, "an 8th connection got in past --max-connections 7"
        refused.close()

        # One from 127.0.0.2 leaves: 127.0.0.2 (at 2 of 3) and the total (6 of 7) have room.
        held.pop(0).close()
        held.append(eventually_admitted(server.port, "127.0.0.2"))
        status, refused = attempt(server.port, "127.0.0.6")
        assert status == 503, "the total limit forgot a connection"
        refused.close()
        assert server.alive()
    finally:
        for sock in held:
            sock.close()
        server.stop_and_check()
