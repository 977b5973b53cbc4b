"""duplex-echo against python-websockets 10.4's asyncio client, an independent RFC 6455 peer."""

import asyncio
import os

import pytest
import websockets
from websockets.frames import OP_BINARY, OP_CONT, OP_TEXT

SIZES = [0, 125, 126, 65535, 65536, 1 << 20]


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def connect(server, path="/"):
    return websockets.connect(server.url + path, max_size=None, open_timeout=10,
                              close_timeout=10, ping_interval=None)


def text_of(n: int) -> str:
    """A str whose UTF-8 encoding is exactly n bytes, with 2- and 3-byte characters in it."""
    unit = "duplex€ü"  # 11 bytes
    s = unit * (n // 11) + "x" * (n % 11)
    assert len(s.encode()) == n
    return s


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", ["text", "binary"])
def test_echo_sizes(echo_server, kind, size):
    message = text_of(size) if kind == "text" else os.urandom(size)

    async def go():
        async with connect(echo_server, "/any/path?q=1") as ws:
            await ws.send(message)
            echoed = await ws.recv()
            assert type(echoed) is type(message)
            assert echoed == message

    run(go())


def test_many_messages_in_order(echo_server):
    async def go():
        async with connect(echo_server) as ws:
            sent = [f"message {i}" for i in range(200)]
            for m in sent:
                await ws.send(m)
            got = [await ws.recv() for _ in sent]
            assert got == sent

    run(go())


def test_fragmented_text_and_binary(echo_server):
    async def go():
        async with connect(echo_server) as ws:
            await ws.send(["Hel", "lo, ", "wörld", ""])
            assert await ws.recv() == "Hello, wörld"
            chunks = [os.urandom(n) for n in (1, 0, 70000, 125)]
            await ws.send(chunks)
            assert await ws.recv() == b"".join(chunks)

    run(go())


def test_utf8_character_split_across_fragments(echo_server):
    async def go():
        async with connect(echo_server) as ws:
            # "café€": é and € are cut between frames; only the whole message must be valid.
            await ws.write_frame(False, OP_TEXT, b"caf\xc3")
            await ws.write_frame(False, OP_CONT, b"\xa9\xe2")
            await ws.write_frame(True, OP_CONT, b"\x82\xac")
            assert await ws.recv() == "café€"

    run(go())


def test_ping_between_fragments(echo_server):
    async def go():
        async with connect(echo_server) as ws:
            await ws.write_frame(False, OP_BINARY, b"ab")
            pong = await ws.ping(b"in the middle")  # RFC 6455 5.4: control frames may interleave
            await ws.write_frame(True, OP_CONT, b"cd")
            await asyncio.wait_for(pong, 5)
            assert await ws.recv() == b"abcd"

    run(go())


@pytest.mark.parametrize("payload", [b"", b"duplex", bytes(range(125))],
                         ids=["empty", "6", "125"])
def test_ping_pong(echo_server, payload):
    async def go():
        async with connect(echo_server) as ws:
            pong = await ws.ping(payload)
            await asyncio.wait_for(pong, 5)
            await ws.send("still open")
            assert await ws.recv() == "still open"

    run(go())


@pytest.mark.parametrize("code,reason", [
    (1000, ""),
    (1000, "done"),
    (1001, "going"),
    (3000, "registered"),
    (4999, "adiós 👋"),
])
def test_close_code_round_trip(echo_server, code, reason):
    async def go():
        async with connect(echo_server) as ws:
            await ws.send("before close")
            assert await ws.recv() == "before close"
            await ws.close(code, reason)
            assert ws.close_code == code
            # RFC 6455 5.5.1 asks the peer to echo the code; echoing the reason is optional.
            assert ws.close_reason in ("", reason)

    run(go())


def test_close_without_status(echo_server):
    async def go():
        async with connect(echo_server) as ws:
            await ws.write_frame(True, 0x8, b"")  # an empty close frame: "no status" (1005)
            await ws.wait_closed()
            assert ws.close_code in (1000, 1005)

    run(go())


def test_invalid_utf8_text_gets_1007(echo_server):
    async def go():
        async with connect(echo_server) as ws:
            await ws.write_frame(True, OP_TEXT, b"valid, then \xff\xfe")
            await asyncio.wait_for(ws.wait_closed(), 10)
            assert ws.close_code == 1007

    run(go())


def test_sigterm_closes_clients_with_1001_and_exits_0(echo_server):
    async def go():
        clients = [await connect(echo_server) for _ in range(3)]
        for i, ws in enumerate(clients):
            await ws.send(f"hello {i}")
            assert await ws.recv() == f"hello {i}"
        # The clients must keep running their loop to answer the server's close frames.
        echo_server.sigterm()
        await asyncio.wait_for(asyncio.gather(*(ws.wait_closed() for ws in clients)), 10)
        assert [ws.close_code for ws in clients] == [1001] * 3

    run(go())
    status = echo_server.terminate()
    assert status == 0, echo_server.stderr()
