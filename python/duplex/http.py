"""The HTTP request of an opening handshake, as handlers see it (``ws.request``)."""

from __future__ import annotations

from typing import Iterator


class Headers:
    """HTTP headers: case-insensitive, multi-valued, in the order received (like
    ``websockets.datastructures.Headers``)."""

    __slots__ = ("_list", "_raw")

    def __init__(self, items=()):
        if isinstance(items, str):
            # "Name: value\r\n"... as duplex's C++ server hands them over: split when first read.
            self._raw = items
            self._list = None
            return
        if isinstance(items, dict):
            items = items.items()
        elif isinstance(items, Headers):
            items = items._items
        self._raw = None
        self._list = list(items)

    @property
    def _items(self) -> list[tuple[str, str]]:
        if self._list is None:
            self._list = []
            for line in self._raw.split("\r\n"):
                if line:
                    name, _, value = line.partition(": ")
                    self._list.append((name, value))
            self._raw = None
        return self._list

    def __getitem__(self, name: str) -> str:
        values = self.get_all(name)
        if not values:
            raise KeyError(name)
        if len(values) > 1:
            raise KeyError(f"{name} appears {len(values)} times; use get_all()")
        return values[0]

    def get(self, name: str, default=None):
        lowered = name.lower()
        for key, value in self._items:
            if key.lower() == lowered:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self._items if key.lower() == lowered]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        seen = set()
        for key, _ in self._items:
            if key.lower() not in seen:
                seen.add(key.lower())
                yield key

    def __len__(self) -> int:
        return len(self._items)

    def __setitem__(self, name: str, value: str) -> None:
        self._items.append((name, value))  # appends, like python-websockets' Headers

    def raw_items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def items(self):
        return list(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class Request:
    """The upgrade request: ``path`` (with the query string, as sent) and ``headers``."""

    __slots__ = ("path", "headers")

    def __init__(self, path: str, headers: Headers):
        self.path = path
        self.headers = headers

    def __repr__(self) -> str:
        return f"Request(path={self.path!r})"


class Response:
    """What ``process_request`` returns to refuse a handshake (only the status is sent)."""

    __slots__ = ("status_code", "reason_phrase", "headers", "body")

    def __init__(self, status_code: int, reason_phrase: str = "", headers=None, body=b""):
        self.status_code = int(status_code)
        self.reason_phrase = reason_phrase
        self.headers = Headers(headers or ())
        self.body = body


def parse_address(text: str):
    """'1.2.3.4:5' -> ('1.2.3.4', 5); '[::1]:5' -> ('::1', 5); '' -> None."""
    if not text:
        return None
    host, _, port = text.rpartition(":")
    if host.startswith("["):
        host = host[1:-1]
    return (host, int(port))
