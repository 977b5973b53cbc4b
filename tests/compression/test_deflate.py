"""permessage-deflate (RFC 7692) end to end: Python websockets against duplex-echo --deflate,
our client against Python and Node servers, and the attacks a compressed stream allows
(decompression bombs, corrupt DEFLATE data, invalid UTF-8 hidden inside compressed text)."""

from __future__ import annotations

import asyncio
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import websockets
from websockets.extensions import permessage_deflate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support import rawws, servers  # noqa: E402
from support.healthy import assert_healthy  # noqa: E402

HERE = Path(__file__).resolve().parent
INTEROP = HERE.parent / "interop"
SIZES = [0, 1, 125, 126, 1000, 65535, 65536, 1 << 20]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def negotiated(ws) -> str:
    return ws.response_headers.get("Sec-WebSocket-Extensions") or ""


@pytest.mark.parametrize("flags", [("--deflate",), ("--deflate", "--deflate-takeover")])
def test_python_client_round_trips_compressed_messages(start_server, flags):
    server = start_server.echo(*flags)

    async def go():
        async with websockets.connect(server.url + "/x", max_size=None) as ws:
            assert negotiated(ws).startswith("permessage-deflate")
            for n in SIZES:
                text = ("tomato " * (n // 7 + 1))[:n]
                await ws.send(text)
                assert await ws.recv() == text
                data = os.urandom(n)
                await ws.send(data)
                assert await ws.recv() == data
            # Fragmented compressed message (RSV1 on the first frame only).
            await ws.send(["é" * 500, "x" * 500, "ü" * 500])
            assert await ws.recv() == "é" * 500 + "x" * 500 + "ü" * 500
            # Many similar messages: with context takeover the window carries across them.
            for i in range(200):
                message = f'{{"type":"throw","kind":"tomato","seq":{i}}}' * 10
                await ws.send(message)
                assert await ws.recv() == message

    run(go())


def test_takeover_flag_changes_what_is_negotiated(start_server):
    alone = start_server.echo("--deflate")
    shared = start_server.echo("--deflate", "--deflate-takeover")

    async def go():
        async with websockets.connect(alone.url) as ws:
            assert "server_no_context_takeover" in negotiated(ws)
            assert "client_no_context_takeover" in negotiated(ws)
        async with websockets.connect(shared.url) as ws:
            assert negotiated(ws).startswith("permessage-deflate")
            assert "no_context_takeover" not in negotiated(ws)

    run(go())


def test_without_the_flag_or_without_an_offer_nothing_is_compressed(start_server):
    plain = start_server.echo()
    deflating = start_server.echo("--deflate")

    async def go():
        async with websockets.connect(plain.url) as ws:
            assert negotiated(ws) == ""
            await ws.send("x" * 5000)
            assert await ws.recv() == "x" * 5000
        async with websockets.connect(deflating.url, compression=None) as ws:
            assert negotiated(ws) == ""
            await ws.send("y" * 5000)
            assert await ws.recv() == "y" * 5000

    run(go())


def test_python_client_window_bits_offer_is_honoured(start_server):
    server = start_server.echo("--deflate", "--deflate-takeover")
    factory = permessage_deflate.ClientPerMessageDeflateFactory(
        server_max_window_bits=10, client_max_window_bits=10)

    async def go():
        async with websockets.connect(server.url, extensions=[factory]) as ws:
            assert "server_max_window_bits=10" in negotiated(ws)
            for i in range(50):
                message = os.urandom(8).hex() * 300
                await ws.send(message)
                assert await ws.recv() == message

    run(go())


def run_our_client(url: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([*servers.interop_client_command(), url, *flags],
                          capture_output=True, text=True, timeout=120,
                          env=servers.sanitizer_env())


@pytest.mark.parametrize("peer", ["python", "node"])
@pytest.mark.parametrize("deflate", ["on", "off"])
def test_our_client_against_compressing_servers(start_server, peer, deflate):
    server = (start_server.python(INTEROP / "py_echo_server.py") if peer == "python"
              else start_server.node(INTEROP / "node_echo_server.mjs"))
    flags = ["--expect-deflate", deflate] + (["--no-deflate"] if deflate == "off" else [])
    result = run_our_client(server.url + "/x", *flags)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"permessage-deflate {deflate}" in result.stdout


def test_our_client_against_our_server_with_compression(start_server):
    server = start_server.echo("--deflate")
    result = run_our_client(server.url + "/x", "--expect-deflate", "on")
    assert result.returncode == 0, result.stdout + result.stderr


# ---- attacks over a raw socket that negotiated permessage-deflate --------------------------

def open_deflate_ws(port: int) -> rawws.Connection:
    sock = rawws.connect(port)
    key = rawws.make_key()
    request = rawws.upgrade_request("/", key).replace(
        b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
    sock.sendall(request)
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(65536)
        assert chunk, raw
        raw += chunk
    head, _, rest = raw.partition(b"\r\n\r\n")
    response = rawws.parse_response(head + b"\r\n\r\n", closed=False)
    assert response.status == 101
    assert (response.header("sec-websocket-extensions") or "").startswith("permessage-deflate")
    return rawws.Connection(sock, rest)


def compress(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]  # RFC 7692 7.2.1: the tail is removed


@pytest.mark.parametrize("name, payload, opcode, code", [
    ("bomb: 10 MiB of zeros against a 1 MiB limit", compress(b"\0" * (10 << 20)),
     rawws.OP_BINARY, 1009),
    ("corrupt DEFLATE data", b"\xff\xff\xff\xff\x00garbage", rawws.OP_BINARY, 1007),
    ("invalid UTF-8 inside compressed text", compress(b"ok \xc3\x28 not utf-8" * 20),
     rawws.OP_TEXT, 1007),
])
def test_compressed_attacks_get_the_right_close_code(start_server, name, payload, opcode, code):
    server = start_server.echo("--deflate", "--max-message", str(1 << 20))
    ws = open_deflate_ws(server.port)
    ws.send(rawws.frame(opcode, payload, rsv=4))
    got, _ = ws.expect_close()
    assert got == code, name
    ws.close()
    assert_healthy(server.port)


def test_rsv1_on_a_continuation_frame_is_a_protocol_error(start_server):
    server = start_server.echo("--deflate")
    ws = open_deflate_ws(server.port)
    body = compress(b"hello hello hello")
    ws.send(rawws.frame(rawws.OP_TEXT, body[:3], fin=False, rsv=4) +
            rawws.frame(rawws.OP_CONT, body[3:], rsv=4))
    got, _ = ws.expect_close()
    assert got == 1002
    ws.close()


def test_compressed_control_frames_are_refused(start_server):
    server = start_server.echo("--deflate")
    ws = open_deflate_ws(server.port)
    ws.send(rawws.frame(rawws.OP_PING, b"x", rsv=4))
    got, _ = ws.expect_close()
    assert got == 1002
    ws.close()
