"""HTTP/1.1 on the wire, as little of it as a forwarding proxy needs: message heads parsed strictly, bodies framed.

Heads are parsed by hand (a few microseconds, where a general-purpose parser costs a hundred) but strictly: a
header line without a colon, folded, with whitespace before its colon or a control character in its value is
refused, and so is a request with both Content-Length and Transfer-Encoding, or with two different lengths (the
shapes of request smuggling). Bodies are never held whole on their way back: `pieces` yields each piece as it
arrives, with its framing (to pass on as it came) and its payload (for the tap).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import Enum

MAX_HEAD = 64 * 1024  # a head (request line and headers) larger than this is refused
MAX_HEADERS = 128
PIECE = 256 * 1024  # the most read at once from a body
HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailer", b"trailers",
     b"upgrade", b"proxy-connection"}
)  # fmt: skip
FRAMING = frozenset({b"content-length", b"transfer-encoding"})
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}")


class BadMessage(ValueError):
    """A head or a body framing this proxy will not pass on."""


class TooLarge(ValueError):
    """A body over the cap."""


class Framing(Enum):
    NONE = "none"
    LENGTH = "length"
    CHUNKED = "chunked"
    CLOSE = "close"  # the body runs until the sender closes the connection


@dataclass(slots=True)
class Head:
    """One message head: its start line's three parts and its headers (names as sent, values trimmed), with the
    names lowercased beside them."""

    start: tuple[bytes, bytes, bytes]
    headers: list[tuple[bytes, bytes]]
    names: list[bytes]

    def values(self, name: bytes) -> list[bytes]:
        return (
            [v for (_, v), n in zip(self.headers, self.names, strict=True) if n == name] if name in self.names else []
        )

    def tokens(self, name: bytes) -> set[bytes]:
        """The comma-separated tokens of every `name` header, lowercased (Connection, Transfer-Encoding)."""
        return {t.strip().lower() for v in self.values(name) for t in v.split(b",") if t.strip()}

    def passed_on(self, drop: frozenset[bytes]) -> list[tuple[bytes, bytes]]:
        """The headers without the hop-by-hop ones, `drop`, and any the Connection header names."""
        named = self.tokens(b"connection")
        return [h for h, n in zip(self.headers, self.names, strict=True) if n not in drop and n not in named]

    def keep_alive(self, version: bytes) -> bool:
        connection = self.tokens(b"connection")
        return b"close" not in connection and (version == b"HTTP/1.1" or b"keep-alive" in connection)


async def read_head(reader: asyncio.StreamReader) -> Head | None:
    """The next head on the connection; None when it closed cleanly before one began. The reader's limit
    (MAX_HEAD) bounds it."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise BadMessage("the connection closed in the middle of a head") from None
    except asyncio.LimitOverrunError:
        raise BadMessage("the head is larger than the proxy takes") from None
    return parse_head(raw.lstrip(b"\r\n"))


def parse_head(raw: bytes) -> Head:
    lines = raw[:-4].split(b"\r\n")
    start = lines[0].split(b" ", 2)
    if len(start) == 2:  # "HTTP/1.1 200" with no reason phrase
        start.append(b"")
    if len(start) != 3 or len(lines) > MAX_HEADERS + 1:
        raise BadMessage("malformed start line")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise BadMessage("malformed header line")
        value = value.strip(b" \t")
        if _BAD_VALUE.search(value):
            raise BadMessage("control character in a header value")
        headers.append((name, value))
    return Head((start[0], start[1], start[2]), headers, [name.lower() for name, _ in headers])


def request_framing(head: Head) -> tuple[Framing, int]:
    """How the request's body is framed, and its declared length."""
    coding = head.tokens(b"transfer-encoding")
    lengths = _lengths(head)
    if coding:
        if lengths is not None or coding != {b"chunked"}:
            raise BadMessage("a request with Transfer-Encoding must be chunked alone, with no Content-Length")
        return Framing.CHUNKED, 0
    return (Framing.LENGTH, lengths) if lengths else (Framing.NONE, 0)


def response_framing(head: Head, method: bytes) -> tuple[Framing, int]:
    """How the answer's body is framed (RFC 9112 §6.3): none after HEAD, 1xx, 204 and 304."""
    status = head.start[1]
    if method == b"HEAD" or status in (b"204", b"304") or status.startswith(b"1"):
        return Framing.NONE, 0
    values = head.values(b"transfer-encoding")
    if values:
        last = values[-1].split(b",")[-1].strip().lower()
        return (Framing.CHUNKED, 0) if last == b"chunked" else (Framing.CLOSE, 0)
    lengths = _lengths(head)
    if lengths is None:
        return Framing.CLOSE, 0
    return (Framing.LENGTH, lengths) if lengths else (Framing.NONE, 0)


def _lengths(head: Head) -> int | None:
    found = {v.strip() for value in head.values(b"content-length") for v in value.split(b",")}
    if not found:
        return None
    if len(found) > 1 or not all(v.isdigit() and len(v) < 19 for v in found):
        raise BadMessage("invalid or conflicting Content-Length")
    return int(found.pop())


async def read_body(reader: asyncio.StreamReader, framing: Framing, length: int, cap: int) -> bytes:
    """A request's whole body (it is summarised and forwarded with its length); TooLarge past `cap`."""
    if framing is Framing.LENGTH:
        if length > cap:
            raise TooLarge
        return await reader.readexactly(length)
    if framing is Framing.NONE:
        return b""
    parts, size = [], 0
    async for _wire, payload in pieces(reader, Framing.CHUNKED, 0):
        size += len(payload)
        if size > cap:
            raise TooLarge
        parts.append(payload)
    return b"".join(parts)


async def pieces(reader: asyncio.StreamReader, framing: Framing, length: int) -> AsyncIterator[tuple[bytes, bytes]]:
    """The body as it arrives: (bytes as framed on the wire, payload bytes), a piece at a time."""
    if framing is Framing.LENGTH:
        async for data in _counted(reader, length):
            yield data, data
    elif framing is Framing.CLOSE:
        while data := await reader.read(PIECE):
            yield data, data
    elif framing is Framing.CHUNKED:
        async for piece in _chunks(reader):
            yield piece


async def _chunks(reader: asyncio.StreamReader) -> AsyncIterator[tuple[bytes, bytes]]:
    while True:
        line = await _line(reader)
        size_text = line.split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_text):
            raise BadMessage("malformed chunk size")
        size = int(size_text, 16)
        if size == 0:
            trailer = line
            while (more := await _line(reader)) != b"\r\n":
                trailer += more
            yield trailer + b"\r\n", b""
            return
        first = await reader.read(min(size, PIECE))
        if not first:
            raise asyncio.IncompleteReadError(b"", size)
        if len(first) == size:  # the usual case: a whole chunk, passed on in one write
            yield line + first + await _crlf(reader), first
            continue
        yield line + first, first
        async for data in _counted(reader, size - len(first)):
            yield data, data
        yield await _crlf(reader), b""


async def _counted(reader: asyncio.StreamReader, remaining: int) -> AsyncIterator[bytes]:
    """`remaining` bytes, a piece at a time as they arrive."""
    while remaining:
        data = await reader.read(min(remaining, PIECE))
        if not data:
            raise asyncio.IncompleteReadError(b"", remaining)
        remaining -= len(data)
        yield data


async def _line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\r\n")
    except asyncio.LimitOverrunError:
        raise BadMessage("a chunk line is too long") from None


async def _crlf(reader: asyncio.StreamReader) -> bytes:
    end = await reader.readexactly(2)
    if end != b"\r\n":
        raise BadMessage("a chunk does not end with CRLF")
    return end


def serialise(start: tuple[bytes, bytes, bytes], headers: list[tuple[bytes, bytes]]) -> bytes:
    lines = [b" ".join(start), *(k + b": " + v for k, v in headers)]
    return b"\r\n".join(lines) + b"\r\n\r\n"
