"""Clients that do not speak TLS to the TLS port (plain HTTP, a plain WebSocket upgrade,
garbage, a truncated ClientHello, silence) are dropped, each within the handshake timeout, and
the healthy wss:// connections open meanwhile keep echoing."""

import asyncio
import os
import socket
import ssl
import time

from conftest import client_context, connect, echo_once, run, wss_url

HANDSHAKE_TIMEOUT = 2

# The first bytes of a real TLS 1.2 ClientHello record header and handshake header, cut short.
TRUNCATED_CLIENT_HELLO = bytes.fromhex("160301020001000200" "0303") + os.urandom(20)

BAD_INPUTS = {
    "plain HTTP": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "plain WebSocket upgrade": (b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
    "garbage": bytes(range(256)) * 4,
    "random": os.urandom(4096),
    "truncated ClientHello": TRUNCATED_CLIENT_HELLO,
    "silence": b"",
}


def dropped_within(port: int, payload: bytes, seconds: float) -> float:
    """Sends `payload` on a raw TCP connection; returns how long the server took to close it."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as s:
        if payload:
            s.sendall(payload)
        try:
            while s.recv(65536):  # an alert may come first; then EOF
                pass
        except ConnectionResetError:
            pass
        except socket.timeout:
            raise AssertionError(f"still open after {seconds} s") from None
    return time.monotonic() - start


def test_bad_clients_are_dropped_and_healthy_ones_keep_going(wss_echo, pki):
    server = wss_echo("--handshake-timeout", str(HANDSHAKE_TIMEOUT))

    async def go():
        context = client_context(pki)
        healthy = [await connect(wss_url(server, f"/healthy/{i}"), context).__aenter__()
                   for i in range(5)]
        try:
            for ws in healthy:
                await echo_once(ws, "before")
            loop = asyncio.get_running_loop()
            durations = {}
            # All bad clients at once, beside the healthy ones.
            jobs = {name: loop.run_in_executor(None, dropped_within, server.port, payload,
                                               HANDSHAKE_TIMEOUT + 5)
                    for name, payload in BAD_INPUTS.items()}
            for i, ws in enumerate(healthy):
                await echo_once(ws, os.urandom(1000 * (i + 1)))
            for name, job in jobs.items():
                durations[name] = await job
            # Speaking the wrong protocol fails the handshake at once; only those that send
            # too little wait for the timeout.
            for name in ("plain HTTP", "plain WebSocket upgrade", "garbage", "random"):
                assert durations[name] < 1, (name, durations[name])
            for name in ("truncated ClientHello", "silence"):
                assert HANDSHAKE_TIMEOUT - 1 <= durations[name] <= HANDSHAKE_TIMEOUT + 2, \
                    (name, durations[name])
            for ws in healthy:
                await echo_once(ws, "after")
                await echo_once(ws, os.urandom(1 << 20))
        finally:
            for ws in healthy:
                await ws.close()
        # And new ones are still welcome.
        async with connect(wss_url(server), context) as ws:
            await echo_once(ws, "new")

    run(go(), timeout=60)
    assert server.alive()


def test_a_client_that_stalls_mid_handshake_is_dropped(wss_echo, pki):
    # A real TLS client that sends its ClientHello and then never answers the server's flight.
    server = wss_echo("--handshake-timeout", str(HANDSHAKE_TIMEOUT))
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client_context(pki).wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    raw.sendall(outgoing.read())
    start = time.monotonic()
    try:
        while raw.recv(65536):
            pass
    except ConnectionResetError:
        pass
    elapsed = time.monotonic() - start
    raw.close()
    assert HANDSHAKE_TIMEOUT - 1 <= elapsed <= HANDSHAKE_TIMEOUT + 2, elapsed
