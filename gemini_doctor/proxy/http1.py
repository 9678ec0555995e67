"""HTTP/1.1 on the wire, as little of it as a forwarding proxy needs: message heads parsed strictly, bodies framed.

Heads are parsed by hand (a few microseconds, where a general-purpose parser costs a hundred) but strictly: a
header line without a colon, folded, with whitespace before its colon or a control character in its value is
refused, and so is a request with both Content-Length and Transfer-Encoding, or with two different lengths (the
shapes of request smuggling). Bodies are never held whole on their way back: a `BodyReader` takes each piece as
it arrives, with its framing (to pass on as it came) and its payload (for the tap).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

MAX_HEAD = 64 * 1024  # a head (request line and headers) larger than this is refused
MAX_HEADERS = 128
HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailer", b"trailers",
     b"upgrade", b"proxy-connection"}
)  # fmt: skip
FRAMING = frozenset({b"content-length", b"transfer-encoding"})
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}")
_HEADER_LINES = re.compile(rb"(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]++:[^\x00-\x08\x0a-\x1f\x7f]*+\r\n)*+")


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
    names lowercased beside them, and each lowercased name's values."""

    start: tuple[bytes, bytes, bytes]
    headers: list[tuple[bytes, bytes]]
    names: list[bytes]
    index: dict[bytes, list[bytes]]

    def values(self, name: bytes) -> list[bytes]:
        return self.index.get(name) or []

    def tokens(self, name: bytes) -> set[bytes]:
        """The comma-separated tokens of every `name` header, lowercased (Connection, Transfer-Encoding)."""
        values = self.index.get(name)
        return {t.strip().lower() for v in values for t in v.split(b",") if t.strip()} if values else set()

    def passed_on(self, drop: frozenset[bytes]) -> list[tuple[bytes, bytes]]:
        """The headers without the hop-by-hop ones, `drop`, and any the Connection header names."""
        named = self.tokens(b"connection")
        return [h for h, n in zip(self.headers, self.names, strict=True) if n not in drop and n not in named]

    def keep_alive(self, version: bytes) -> bool:
        connection = self.tokens(b"connection")
        return b"close" not in connection and (version == b"HTTP/1.1" or b"keep-alive" in connection)


def split_head(buffer: bytes | bytearray, what: str = "the head") -> tuple[Head, int] | None:
    """The head at the start of `buffer` (blank lines before it skipped) and the offset just past it, or None while
    it has not all come; BadMessage when it is, or will be, larger than MAX_HEAD."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0 or end + 4 > MAX_HEAD:
        if end >= 0 or len(buffer) > MAX_HEAD:
            raise BadMessage(f"{what} is larger than the proxy takes")
        return None
    return parse_head(bytes(buffer[: end + 4]).lstrip(b"\r\n")), end + 4


def parse_head(raw: bytes) -> Head:
    """A head ending in its blank line. Its header lines are checked in one pass of a regular expression (a
    token, a colon, a value with no control character); one that fails is found line by line, to say why."""
    lines = raw[:-4].split(b"\r\n")
    start = lines[0].split(b" ", 2)
    if len(start) == 2:  # "HTTP/1.1 200" with no reason phrase
        start.append(b"")
    if len(start) != 3 or len(lines) > MAX_HEADERS + 1:
        raise BadMessage("malformed start line")
    if _HEADER_LINES.fullmatch(raw, len(lines[0]) + 2, len(raw) - 2) is None:
        _refuse_header(lines[1:])
    headers: list[tuple[bytes, bytes]] = []
    names: list[bytes] = []
    index: dict[bytes, list[bytes]] = {}
    for line in lines[1:]:  # one pass: each header split, trimmed, lowercased and indexed
        name, _, value = line.partition(b":")
        value = value.strip(b" \t")
        lower = name.lower()
        headers.append((name, value))
        names.append(lower)
        found = index.get(lower)
        if found is None:
            index[lower] = [value]
        else:
            found.append(value)
    return Head((start[0], start[1], start[2]), headers, names, index)


def _refuse_header(lines: list[bytes]) -> None:
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise BadMessage("malformed header line")
        if _BAD_VALUE.search(value.strip(b" \t")):
            raise BadMessage("control character in a header value")
    raise BadMessage("malformed head")


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
    values = head.index.get(b"content-length")
    if values is None:
        return None
    if len(values) == 1 and b"," not in values[0]:  # the usual one: a single length, already trimmed
        found = {values[0]}
    else:
        found = {v.strip() for value in values for v in value.split(b",")}
    if not found:
        return None
    if len(found) > 1 or not all(v.isdigit() and len(v) < 19 for v in found):
        raise BadMessage("invalid or conflicting Content-Length")
    return int(found.pop())


class Stage(Enum):
    SIZE = "size"  # a chunk's size line
    DATA = "data"
    CRLF = "crlf"  # the line end after a chunk's data
    TRAILER = "trailer"  # after the last chunk: trailer lines up to an empty one


class BodyReader:
    """A body taken a piece at a time as it arrives, by its framing, with no copy of a piece held: `take(data)`
    returns (the bytes of the body as framed on the wire, its payload, the bytes past its end). `done` once the
    body has ended; a CLOSE body ends when the sender closes. Chunked framing is checked as strictly as a head."""

    def __init__(self, framing: Framing, length: int = 0):
        self.framing = framing
        self.remaining = length  # LENGTH: bytes left of the body; CHUNKED: of the current chunk's data
        self.done = framing is Framing.NONE or (framing is Framing.LENGTH and not length)
        self.stage = Stage.SIZE
        self.pending = b""  # CHUNKED: a line (or a chunk's CRLF) not yet whole
        self.trailers = 0

    def take(self, data: bytes) -> tuple[bytes, bytes, bytes]:
        if self.done:
            return b"", b"", data
        if self.framing is Framing.LENGTH:
            piece = data[: self.remaining] if len(data) > self.remaining else data
            self.remaining -= len(piece)
            self.done = not self.remaining
            return piece, piece, data[len(piece) :]
        if self.framing is Framing.CHUNKED:
            return self._chunked(self.pending + data if self.pending else data)
        return data, data, b""

    def _chunked(self, data: bytes) -> tuple[bytes, bytes, bytes]:
        payload: list[bytes] = []
        position = 0
        while position < len(data) and not self.done:
            if self.stage is Stage.DATA:
                piece = data[position : position + self.remaining]
                payload.append(piece)
                position += len(piece)
                self.remaining -= len(piece)
                self.stage = Stage.DATA if self.remaining else Stage.CRLF
            elif self.stage is Stage.CRLF:
                if len(data) - position < 2:
                    break
                if data[position : position + 2] != b"\r\n":
                    raise BadMessage("a chunk does not end with CRLF")
                position += 2
                self.stage = Stage.SIZE
            else:
                end = data.find(b"\r\n", position)
                if end < 0:
                    break
                self._line(data[position:end])
                position = end + 2
        if len(data) - position > MAX_HEAD and not self.done:
            raise BadMessage("a chunk line is too long")
        self.pending = b"" if self.done else data[position:]
        return data[:position], b"".join(payload), data[position:] if self.done else b""

    def _line(self, line: bytes) -> None:
        if self.stage is Stage.TRAILER:
            self.trailers += len(line) + 2
            if self.trailers > MAX_HEAD:
                raise BadMessage("the trailers are larger than the proxy takes")
            self.done = not line
            return
        size_text = line.split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_text) or len(line) > MAX_HEAD:
            raise BadMessage("malformed chunk size")
        self.remaining = int(size_text, 16)
        self.stage = Stage.DATA if self.remaining else Stage.TRAILER


def serialise(start: tuple[bytes, bytes, bytes], headers: list[tuple[bytes, bytes]]) -> bytes:
    lines = [b" ".join(start), *(k + b": " + v for k, v in headers)]
    return b"\r\n".join(lines) + b"\r\n\r\n"
