"""duplexd's server API (docs/protocol.md, "The server API"): ``Api`` blocks (urllib),
``AsyncApi`` is for asyncio (one short HTTP/1.1 exchange per call over asyncio streams). Both
send ``POST /api/<endpoint>`` with the key in ``X-API-Key`` and raise the hub's errors as the
classes of ``duplex.hub.errors``, with the HTTP ``status`` attached.

    api = duplex.hub.Api("http://127.0.0.1:8080", api_key)
    api.publish("#alice", {"note": "for alice only"})
"""

from __future__ import annotations

import asyncio
import json
import ssl as ssl_module
import urllib.error
import urllib.parse
import urllib.request

from .errors import HubError, error_from

__all__ = ["Api", "AsyncApi"]


def _publish_body(channel, data, key):
    body = {"channel": channel, "data": data}
    if key is not None:
        body["key"] = key
    return body


def _history_body(channel, since, limit):
    body: dict = {"channel": channel}
    if since is not None:
        body["since"] = since if isinstance(since, dict) else {"offset": since[0],
                                                               "epoch": since[1]}
    if limit is not None:
        body["limit"] = limit
    return body


def _answer(status: int, payload: bytes) -> dict:
    """The result of an answer, or the hub's error as an exception."""
    try:
        document = json.loads(payload)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        error = document["error"]
        raise error_from(error.get("code", ""), error.get("message", ""), status=status)
    if status >= 400 or not isinstance(document, dict):
        text = payload[:200].decode("utf-8", "replace")
        raise HubError(f"HTTP {status}: {text}", code="internal", status=status)
    return document.get("result", {})


class _Endpoints:
    """The four calls, over whatever ``_call`` does."""

    def publish(self, channel: str, data, *, key: str | None = None):
        """``{"offset", "epoch"}`` once stored and delivered; ``key`` makes it idempotent."""
        return self._call("publish", _publish_body(channel, data, key))

    def history(self, channel: str, *, since=None, limit: int | None = None):
        return self._call("history", _history_body(channel, since, limit))

    def presence(self, channel: str):
        """``{"clients": {client_id: {"user": ...}}}``."""
        return self._call("presence", {"channel": channel})

    def disconnect(self, user: str):
        """Closes every connection of ``user`` (close 4003): ``{"disconnected": N}``."""
        return self._call("disconnect", {"user": user})


class Api(_Endpoints):
    """The server API, blocking: ``Api("http://127.0.0.1:8080", api_key, timeout=10)``."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 10.0,
                 ssl: ssl_module.SSLContext | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.ssl = ssl

    def _call(self, endpoint: str, body: dict) -> dict:
        request = urllib.request.Request(
            f"{self.base_url}/api/{endpoint}", method="POST",
            data=json.dumps(body, separators=(",", ":")).encode(),
            headers={"Content-Type": "application/json", "X-API-Key": self.api_key})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self.ssl) as r:
                return _answer(r.status, r.read())
        except urllib.error.HTTPError as e:
            with e:
                return _answer(e.code, e.read())


class AsyncApi(_Endpoints):
    """The server API for asyncio: the same calls as ``Api``, as coroutines."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 10.0,
                 ssl: ssl_module.SSLContext | None = None):
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"not an http(s) URL: {base_url}")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self._host = parsed.hostname
        self._port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self._prefix = parsed.path.rstrip("/")
        self._ssl = (ssl or ssl_module.create_default_context()) if parsed.scheme == "https" else None
        self._host_header = parsed.netloc

    async def _call(self, endpoint: str, body: dict) -> dict:
        return await asyncio.wait_for(self._exchange(endpoint, body), self.timeout)

    async def _exchange(self, endpoint: str, body: dict) -> dict:
        payload = json.dumps(body, separators=(",", ":")).encode()
        head = (f"POST {self._prefix}/api/{endpoint} HTTP/1.1\r\nHost: {self._host_header}\r\n"
                f"X-API-Key: {self.api_key}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n")
        reader, writer = await asyncio.open_connection(self._host, self._port, ssl=self._ssl)
        try:
            writer.write(head.encode("latin-1") + payload)
            await writer.drain()
            status, headers = await _read_head(reader)
            if "content-length" in headers:
                content = await reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                content = await _read_chunked(reader)
            else:
                content = await reader.read()
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass
        return _answer(status, content)


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict]:
    status_line = await reader.readline()
    parts = status_line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise HubError(f"not an HTTP answer: {status_line[:80]!r}", code="internal")
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    content = bytearray()
    while True:
        size = int((await reader.readline()).split(b";")[0].strip(), 16)
        if size == 0:
            await reader.readline()
            return bytes(content)
        content += await reader.readexactly(size)
        await reader.readline()
