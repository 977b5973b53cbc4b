"""A deliberately naive WebSocket peer over a raw socket, for sending what no real client would:
broken handshakes, unmasked or reserved frames, lying lengths. It checks what comes back as
strictly as the RFC asks of a server."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import time
from dataclasses import dataclass, field

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 0xA
READ_TIMEOUT = float(os.environ.get("DUPLEX_READ_TIMEOUT", "5"))


def connect(port: int, host: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection((host, port), timeout=READ_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def send_quietly(sock: socket.socket, data: bytes) -> bool:
    """Sends what the server still takes; a server that already hung up is no error here."""
    try:
        sock.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False


def read_until_eof(sock: socket.socket, timeout: float = READ_TIMEOUT) -> tuple[bytes, bool]:
    """Everything the server sends until it closes; (data, closed). A reset counts as closed."""
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, False
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return data, False
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk


@dataclass
class HttpResponse:
    status: int
    reason: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    raw: bytes
    closed: bool  # the server closed the connection after answering

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def parse_response(raw: bytes, closed: bool) -> HttpResponse:
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep, f"no complete HTTP response head in {raw[:200]!r}"
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    assert version == "HTTP/1.1", f"bad status line {lines[0]!r}"
    status, _, reason = rest.partition(" ")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        assert colon, f"response header line without colon: {line!r}"
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        assert len(body) == int(headers["content-length"]), "body length != Content-Length"
    return HttpResponse(int(status), reason, headers, body, raw, closed)


def http_exchange(port: int, request: bytes) -> HttpResponse:
    """Sends a request head, reads the answer until the server closes."""
    with connect(port) as sock:
        send_quietly(sock, request)
        raw, closed = read_until_eof(sock)
    return parse_response(raw, closed)


def make_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def accept_for(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def upgrade_request(path: str = "/", key: str | None = None, host: str = "127.0.0.1") -> bytes:
    key = key or make_key()
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\n\r\n").encode()


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0,
          mask: bool = True, length: int | None = None, send_payload: bool = True) -> bytes:
    """One frame as a client sends it. `length` lies about the payload length; `rsv` is the
    three RSV bits as a number 0-7 (4 = RSV1)."""
    n = len(payload) if length is None else length
    out = bytearray([(0x80 if fin else 0) | (rsv & 7) << 4 | opcode & 0xF])
    mask_bit = 0x80 if mask else 0
    if n < 126:
        out.append(mask_bit | n)
    elif n < 1 << 16:
        out.append(mask_bit | 126)
        out += struct.pack("!H", n)
    else:
        out.append(mask_bit | 127)
        out += struct.pack("!Q", n)
    if mask:
        key = os.urandom(4)
        out += key
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    if send_payload:
        out += payload
    return bytes(out)


def close_frame(code: int | None = None, reason: bytes = b"") -> bytes:
    payload = b"" if code is None else struct.pack("!H", code) + reason
    return frame(OP_CLOSE, payload)


@dataclass
class ServerFrame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes


@dataclass
class Connection:
    """An upgraded raw connection and the bytes read past what was parsed so far."""
    sock: socket.socket
    buffer: bytes = b""
    frames: list[ServerFrame] = field(default_factory=list)

    def send(self, data: bytes) -> bool:
        return send_quietly(self.sock, data)

    def _fill(self, need: int, deadline: float) -> None:
        while len(self.buffer) < need:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for the server ({len(self.buffer)} of "
                                     f"{need} bytes)")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise AssertionError(f"server closed TCP without a close frame; got "
                                     f"{[(f.opcode, f.payload[:20]) for f in self.frames]}")
            self.buffer += chunk

    def read_frame(self, timeout: float = READ_TIMEOUT) -> ServerFrame:
        deadline = time.monotonic() + timeout
        self._fill(2, deadline)
        b0, b1 = self.buffer[0], self.buffer[1]
        assert not b1 & 0x80, "RFC 6455 5.1: a server must not mask its frames"
        n, pos = b1 & 0x7F, 2
        if n == 126:
            self._fill(4, deadline)
            n, pos = struct.unpack("!H", self.buffer[2:4])[0], 4
        elif n == 127:
            self._fill(10, deadline)
            n, pos = struct.unpack("!Q", self.buffer[2:10])[0], 10
        self._fill(pos + n, deadline)
        f = ServerFrame(bool(b0 & 0x80), b0 >> 4 & 7, b0 & 0xF, self.buffer[pos:pos + n])
        self.buffer = self.buffer[pos + n:]
        self.frames.append(f)
        return f

    def expect_close(self, timeout: float = READ_TIMEOUT) -> tuple[int, str]:
        """Reads up to the server's close frame; returns (code, reason) after checking it."""
        deadline = time.monotonic() + timeout
        while True:
            f = self.read_frame(max(0.0, deadline - time.monotonic()))
            if f.opcode == OP_CLOSE:
                break
        assert f.fin and f.rsv == 0, "close frame with FIN clear or RSV bits set"
        assert len(f.payload) >= 2, f"server's close frame carries no code: {f.payload!r}"
        code = struct.unpack("!H", f.payload[:2])[0]
        reason = f.payload[2:].decode("utf-8")  # raises on a non-UTF-8 reason
        return code, reason

    def finish_close(self, code: int) -> bool:
        """Answers the server's close as a polite client would, then waits for the server to
        close TCP (RFC 6455 7.1.1: the server closes first). True once it has."""
        self.send(close_frame(code))
        _, closed = read_until_eof(self.sock)
        return closed

    def close(self) -> None:
        self.sock.close()


def open_ws(port: int, path: str = "/") -> Connection:
    sock = connect(port)
    key = make_key()
    sock.sendall(upgrade_request(path, key))
    raw = b""
    deadline = time.monotonic() + READ_TIMEOUT
    while b"\r\n\r\n" not in raw:
        assert time.monotonic() < deadline, "no 101 response in time"
        chunk = sock.recv(65536)
        assert chunk, f"server closed during the handshake: {raw!r}"
        raw += chunk
    head, _, rest = raw.partition(b"\r\n\r\n")
    response = parse_response(head + b"\r\n\r\n", closed=False)
    assert response.status == 101, f"handshake refused: {raw!r}"
    assert response.header("sec-websocket-accept") == accept_for(key)
    return Connection(sock, rest)
