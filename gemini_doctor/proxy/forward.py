"""The forwarding path: every request passes on unchanged (streamed answers stay streamed), and each exchange is
handed to the recorder (record.py) once its answer has passed.

It is raw asyncio and HTTP/1.1 parsed by hand (http1.py): an exchange costs a few hundred microseconds of Python
here, where an ASGI app in front of an HTTP client library cost several milliseconds. The app's headers go
upstream as they came (its key included: the proxy adds none and keeps none), minus the hop-by-hop ones; the
answer's bytes come back as they were sent, framing, encoding and all, a piece at a time as they arrive. Request
bodies are capped, the answer is tapped up to a cap, and no body outlives its exchange. Every wait is bounded:
the next request on a kept-alive connection by KEEP_ALIVE_S, connecting upstream by the connect timeout, every
read and write by the timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable

from gemini_doctor.proxy.exchange import Exchange, Tap
from gemini_doctor.proxy.http1 import (
    FRAMING,
    HOP_BY_HOP,
    BadMessage,
    Framing,
    Head,
    TooLarge,
    pieces,
    read_body,
    read_head,
    request_framing,
    response_framing,
    serialise,
)
from gemini_doctor.proxy.record import Diagnoser, Pending
from gemini_doctor.proxy.upstream import Connection, Origin
from gemini_doctor.proxy.watch import Watcher
from gemini_doctor.redact import redact

MAX_REQUEST_BYTES = 32 * 1024 * 1024  # Google's own inline limit is 20 MB; a larger body is not a real request
KEEP_ALIVE_S = 30.0
LINGER_S = 2.0
RENEW_S = 1.0  # the answer's deadline is pushed back at most once a second, not on every piece
METHODS = frozenset({b"GET", b"HEAD", b"POST", b"PUT", b"PATCH", b"DELETE"})
REQUEST_DROP = HOP_BY_HOP | FRAMING | {b"host", b"expect"}
WITH_BODY = frozenset({b"POST", b"PUT", b"PATCH"})
HIGH_WATER = 256 * 1024  # bytes waiting for a slow app before the relay waits for it
FAILURES = (OSError, TimeoutError, asyncio.IncompleteReadError, BadMessage)


class Forwarder:
    """Serves the app's connections; one upstream origin, one recorder."""

    def __init__(self, upstream: str, watcher: Watcher, on_batch: Callable[[list[Exchange]], None], timeout: float):
        self.origin = Origin(upstream, timeout, connect_timeout=min(timeout, 15.0))
        self.timeout = timeout
        self.base = redact(self.origin.base + self.origin.prefix.decode("latin-1"))
        self.diagnoser = Diagnoser(watcher, on_batch)
        self.numbers = itertools.count(1)
        self.connections: set[asyncio.Task[None]] = set()
        self.busy = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection from the app: its requests in turn, until it closes or idles out."""
        task = asyncio.current_task()
        if task is not None:
            self.connections.add(task)
        gently = True
        try:
            while await self._next(reader, writer):
                pass
        except FAILURES:
            pass
        except asyncio.CancelledError:  # the proxy is stopping: no lingering
            gently = False
            raise
        finally:
            if task is not None:
                self.connections.discard(task)
            try:
                if gently:
                    await _linger(reader, writer)
            finally:
                writer.close()

    async def _next(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """The next request on the connection, forwarded; True when the connection can take another."""
        try:
            async with asyncio.timeout(KEEP_ALIVE_S) as deadline:
                head = await read_head(reader)
                if head is None:
                    return False
                method, target, version = head.start
                if version not in (b"HTTP/1.1", b"HTTP/1.0") or not target.startswith(b"/"):
                    return _refuse(writer, 400, "INVALID_ARGUMENT", "gemini-doctor proxy: not an HTTP/1.x request")
                if method not in METHODS:
                    return _refuse(writer, 405, "INVALID_ARGUMENT", f"gemini-doctor proxy: {method!r} not forwarded")
                deadline.reschedule(asyncio.get_running_loop().time() + self.timeout)
                body = await self._body(head, reader, writer)
        except TooLarge:
            return _refuse(writer, 413, "INVALID_ARGUMENT", "Request payload size exceeds the limit of the proxy.")
        except BadMessage as exc:
            return _refuse(writer, 400, "INVALID_ARGUMENT", f"gemini-doctor proxy: {exc}")
        except TimeoutError:
            return False
        self.busy += 1
        try:
            return await self._exchange(head, body, writer)
        finally:
            self.busy -= 1

    @staticmethod
    async def _body(head: Head, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        framing, length = request_framing(head)
        if length > MAX_REQUEST_BYTES:
            raise TooLarge
        if b"100-continue" in head.tokens(b"expect"):
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return await read_body(reader, framing, length, MAX_REQUEST_BYTES)

    async def _exchange(self, head: Head, body: bytes, writer: asyncio.StreamWriter) -> bool:
        exchange = Exchange(number=next(self.numbers), started=time.monotonic(), method=head.start[0].decode("latin-1"))
        text = head.start[1].decode("latin-1")
        item = Pending(exchange, text, self.base, body, Tap())
        try:
            return await self._forward(head, body, item, writer)
        finally:
            exchange.total_ms = _ms(exchange.started)
            self.diagnoser.submit(item)  # after the answer has gone: recording adds no latency

    async def _forward(self, head: Head, body: bytes, item: Pending, writer: asyncio.StreamWriter) -> bool:
        """Upstream and back, every wait within the timeout (renewed as the answer's pieces arrive)."""
        try:
            connection = await self.origin.acquire()
        except FAILURES as exc:
            return self._no_answer(item, writer, exc)
        reusable = answered = False
        try:
            async with asyncio.timeout(self.timeout) as deadline:
                answer = await self._ask(connection, head, body)
                answered = True
                item.exchange.ttfb_ms = _ms(item.exchange.started)
                framing, length = response_framing(answer, head.start[0])
                keeps, raw = self._answer_head(head, answer, framing, item, writer)
                complete = await self._relay(connection, (framing, length), item, writer, raw, deadline)
            reusable = complete and framing is not Framing.CLOSE and answer.keep_alive(answer.start[0])
            return keeps and complete
        except FAILURES as exc:
            if not answered:
                return self._no_answer(item, writer, exc)
            item.exchange.note = f"the upstream answer broke off: {_named(exc)}"
            return False
        finally:
            self.origin.release(connection, reusable)

    async def _ask(self, connection: Connection, head: Head, body: bytes) -> Head:
        """The request sent upstream; the answer's head back (interim 1xx answers skipped)."""
        method, target, _ = head.start
        headers = [(b"Host", self.origin.authority), *head.passed_on(REQUEST_DROP), *self.origin.proxy_headers()]
        if body or method in WITH_BODY:
            headers.append((b"Content-Length", str(len(body)).encode()))
        message = serialise((method, self.origin.target(target), b"HTTP/1.1"), headers)
        if len(body) < HIGH_WATER:
            connection.writer.write(message + body)
        else:
            connection.writer.write(message)
            connection.writer.write(body)
            await connection.writer.drain()
        while True:
            answer = await read_head(connection.reader)
            if answer is None:
                raise asyncio.IncompleteReadError(b"", None)
            if not (answer.start[1].isdigit() and len(answer.start[1]) == 3):
                raise BadMessage("the upstream's status line is malformed")
            if not answer.start[1].startswith(b"1"):
                return answer

    def _answer_head(
        self, request: Head, answer: Head, framing: Framing, item: Pending, writer: asyncio.StreamWriter
    ) -> tuple[bool, bool]:
        """The answer's head to the app; (the app's connection stays open, the body passes framed as it came)."""
        item.exchange.status = int(answer.start[1])
        item.tap.content_encoding = b", ".join(answer.values(b"content-encoding")).decode("latin-1") or "identity"
        version = request.start[2]
        raw = version == b"HTTP/1.1" or framing is not Framing.CHUNKED  # an HTTP/1.0 app gets the payload alone
        headers = answer.passed_on(HOP_BY_HOP if raw else HOP_BY_HOP | FRAMING)
        keeps = raw and framing is not Framing.CLOSE and request.keep_alive(version)
        if not keeps:
            headers.append((b"Connection", b"close"))
        writer.write(serialise((b"HTTP/1.1", answer.start[1], answer.start[2]), headers))
        return keeps, raw

    async def _relay(
        self,
        connection: Connection,
        body: tuple[Framing, int],
        item: Pending,
        writer: asyncio.StreamWriter,
        raw: bool,
        deadline: asyncio.Timeout,
    ) -> bool:
        """The answer's body to the app as it arrives; True when all of it passed. The deadline is renewed as
        pieces arrive: a slow stream may last, a stalled one may not."""
        loop = asyncio.get_running_loop()
        transport = writer.transport
        async for wire, payload in pieces(connection.reader, *body):
            item.tap.feed(payload)
            writer.write(wire if raw else payload)
            try:
                if transport.get_write_buffer_size() > HIGH_WATER:
                    await writer.drain()
            except OSError:
                pass
            if transport.is_closing():
                item.exchange.note = "the app closed its connection before the answer ended"
                return False
            now = loop.time()
            if (deadline.when() or now) - now < self.timeout - RENEW_S:
                deadline.reschedule(now + self.timeout)
        return True

    def _no_answer(self, item: Pending, writer: asyncio.StreamWriter, exc: BaseException) -> bool:
        item.exchange.status, item.answered = 502, False
        item.exchange.note = f"no answer from upstream: {_named(exc)}"
        message = f"gemini-doctor proxy: no answer from {self.origin.base} ({_named(exc)})"
        return _refuse(writer, 502, "UNAVAILABLE", message)

    async def aclose(self, grace: float) -> None:
        """Stop: the exchanges under way get `grace` seconds to end, then every connection is closed."""
        deadline = time.monotonic() + grace
        while self.busy and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for task in list(self.connections):
            task.cancel()
        await asyncio.gather(*self.connections, return_exceptions=True)
        self.origin.close()
        await self.diagnoser.drain()


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Close gently: say we are done, then read what the app still sends (a refused body) for a moment, so that
    closing on unread bytes does not reset the connection before the app has read our answer."""
    if writer.transport.is_closing() or reader.at_eof():
        return
    with contextlib.suppress(*FAILURES):
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(LINGER_S):
            while await reader.read(HIGH_WATER):
                pass


def _refuse(writer: asyncio.StreamWriter, code: int, status: str, message: str) -> bool:
    """An error of the proxy's own, in Google's shape; the connection is closed after it."""
    body = json.dumps({"error": {"code": code, "message": message, "status": status}}).encode()
    reason = {400: b"Bad Request", 405: b"Method Not Allowed", 413: b"Payload Too Large", 502: b"Bad Gateway"}
    headers = [
        (b"Content-Type", b"application/json"),
        (b"Content-Length", str(len(body)).encode()),
        (b"Connection", b"close"),
    ]
    writer.write(serialise((b"HTTP/1.1", str(code).encode(), reason.get(code, b"Error")), headers) + body)
    return False


def _named(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "the connection closed early"
    return type(exc).__name__


def _ms(since: float) -> float:
    return round((time.monotonic() - since) * 1000, 1)
