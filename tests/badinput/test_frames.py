"""Bad frames after a good handshake, over raw sockets: each gets the exact close code in the
server's close frame (RFC 6455 5, 7.4), then the server closes TCP, and then the same server
still serves a healthy client."""

import struct
from dataclasses import dataclass

import pytest

from support import rawws
from support.healthy import assert_healthy
from support.rawws import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, close_frame, frame

PROTOCOL_ERROR, INVALID_PAYLOAD, MESSAGE_TOO_BIG = 1002, 1007, 1009


@dataclass
class Case:
    id: str
    frames: list[bytes]
    code: int


def close_with_code(code: int) -> bytes:
    return close_frame(code, b"")


CASES = [
    Case("unmasked frame", [frame(OP_TEXT, b"hello", mask=False)], PROTOCOL_ERROR),
    Case("reserved opcode 3", [frame(3, b"x")], PROTOCOL_ERROR),
    Case("reserved opcode 0xB", [frame(0xB, b"x")], PROTOCOL_ERROR),
    Case("RSV1 without an extension", [frame(OP_TEXT, b"x", rsv=4)], PROTOCOL_ERROR),
    Case("RSV2 set", [frame(OP_TEXT, b"x", rsv=2)], PROTOCOL_ERROR),
    Case("RSV3 set", [frame(OP_BINARY, b"x", rsv=1)], PROTOCOL_ERROR),
    Case("fragmented ping", [frame(OP_PING, b"a", fin=False), frame(OP_CONT, b"b")],
         PROTOCOL_ERROR),
    Case("ping of 126 bytes", [frame(OP_PING, b"p" * 126)], PROTOCOL_ERROR),
    Case("close of 126 bytes", [frame(OP_CLOSE, struct.pack("!H", 1000) + b"r" * 124)],
         PROTOCOL_ERROR),
    Case("continuation without start", [frame(OP_CONT, b"orphan")], PROTOCOL_ERROR),
    Case("text inside a fragmented message",
         [frame(OP_TEXT, b"first", fin=False), frame(OP_TEXT, b"second")], PROTOCOL_ERROR),
    Case("binary inside a fragmented message",
         [frame(OP_BINARY, b"first", fin=False), frame(OP_BINARY, b"second")], PROTOCOL_ERROR),
    Case("invalid UTF-8 in one frame", [frame(OP_TEXT, b"caf\xc3\x28")], INVALID_PAYLOAD),
    Case("overlong UTF-8", [frame(OP_TEXT, b"\xc0\xaf")], INVALID_PAYLOAD),
    Case("UTF-16 surrogate in UTF-8", [frame(OP_TEXT, b"\xed\xa0\x80")], INVALID_PAYLOAD),
    Case("code point above U+10FFFF", [frame(OP_TEXT, b"\xf4\x90\x80\x80")], INVALID_PAYLOAD),
    Case("UTF-8 cut at the message's end",
         [frame(OP_TEXT, b"euro \xe2\x82", fin=False), frame(OP_CONT, b"")], INVALID_PAYLOAD),
    Case("close with a 1-byte payload", [frame(OP_CLOSE, b"\x03")], PROTOCOL_ERROR),
    *[Case(f"close code {c}", [close_with_code(c)], PROTOCOL_ERROR)
      for c in (999, 1004, 1005, 1006, 1015, 2000, 5000)],
    Case("close reason not UTF-8", [close_frame(1000, b"bye \xff")], INVALID_PAYLOAD),
    Case("64-bit length with the top bit set",
         [frame(OP_BINARY, b"", length=1 << 63, send_payload=False)], PROTOCOL_ERROR),
    # The server runs with --max-message 65536 (conftest.py); no payload follows the header,
    # so only a server that judges the declared length answers in time.
    Case("oversize message declared in the header",
         [frame(OP_BINARY, b"", length=65537, send_payload=False)], MESSAGE_TOO_BIG),
    Case("oversize message over two fragments",
         [frame(OP_BINARY, b"a" * 40000, fin=False),
          frame(OP_CONT, b"", length=40000, send_payload=False)], MESSAGE_TOO_BIG),
]


def assert_refused(conn: rawws.Connection, code: int) -> None:
    got, reason = conn.expect_close()
    assert got == code, f"expected close {code}, got {got} ({reason!r})"
    assert conn.finish_close(got), "server did not close TCP after its close frame"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_frame(server, case):
    conn = rawws.open_ws(server.port, "/bad")
    try:
        for f in case.frames:
            conn.send(f)
        assert_refused(conn, case.code)
        assert not [f for f in conn.frames if f.opcode in (OP_TEXT, OP_BINARY)], \
            "the server echoed something from a broken message"
    finally:
        conn.close()
    assert_healthy(server.port)


def test_invalid_utf8_fails_fast_before_the_message_ends(server):
    # RFC 6455 8.1: fail as soon as the bytes cannot become valid UTF-8, not at the message's end.
    conn = rawws.open_ws(server.port)
    try:
        conn.send(frame(OP_TEXT, b"fine so far \xff", fin=False))
        code, _ = conn.expect_close()  # must arrive before the second frame is sent
        assert code == INVALID_PAYLOAD
        conn.send(frame(OP_CONT, b" and the rest"))
        assert conn.finish_close(code)
    finally:
        conn.close()
    assert_healthy(server.port)


@pytest.mark.parametrize("code", [1000, 1001, 1003, 1011, 3000, 4999])
def test_valid_close_codes_are_echoed(server, code):
    # The other side of the close-code table: valid codes get a normal close, not 1002.
    conn = rawws.open_ws(server.port)
    try:
        conn.send(close_frame(code, b"bye"))
        got, _ = conn.expect_close()
        assert got == code
        _, closed = rawws.read_until_eof(conn.sock)
        assert closed, "server did not close TCP after the close handshake"
    finally:
        conn.close()
    assert_healthy(server.port)


def test_control_frames_inside_a_fragmented_message(server):
    conn = rawws.open_ws(server.port)
    try:
        conn.send(frame(OP_TEXT, b"caf\xc3", fin=False))
        conn.send(frame(OP_PING, b"mid"))
        conn.send(frame(OP_CONT, b"\xa9"))
        pong = conn.read_frame()
        assert (pong.opcode, pong.payload) == (rawws.OP_PONG, b"mid")
        echo = conn.read_frame()
        assert (echo.opcode, echo.payload) == (OP_TEXT, "café".encode())
        conn.send(close_frame(1000))
        assert conn.expect_close()[0] == 1000
    finally:
        conn.close()
    assert_healthy(server.port)
