"""The forwarding path: every request passes on unchanged (streamed answers stay streamed), and each exchange is
handed to the recorder (record.py) once its answer has passed.

It is asyncio Protocols and HTTP/1.1 parsed by hand (http1.py): the bytes of the app's connection and of the
upstream's are handled in the loop's own callbacks, with no reader, task or future per exchange: a third less CPU
per exchange than the asyncio streams this replaced (bench/bench_proxy.py prints it), where an ASGI app in front of
an HTTP client library cost several milliseconds. The app's headers go upstream as they came (its key
included: the proxy adds none and keeps none), minus the hop-by-hop ones; the answer's bytes come back as they were
sent, framing, encoding and all, a piece at a time as they arrive (its head and first piece in one write). Request
bodies are capped, the answer is tapped up to a cap, and no body outlives its exchange. Every wait is bounded: the
next request on a kept-alive connection by KEEP_ALIVE_S, connecting upstream by the connect timeout, the request
and the answer by the timeout (renewed as the answer's pieces arrive). A slow app holds the upstream's reading
back (past HIGH_WATER bytes waiting), so an answer is never buffered whole.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from enum import Enum
from typing import cast

from gemini_doctor.proxy.exchange import Exchange, Tap
from gemini_doctor.proxy.http1 import (
    FRAMING,
    HOP_BY_HOP,
    MAX_HEAD,
    BadMessage,
    BodyReader,
    Framing,
    Head,
    TooLarge,
    request_framing,
    response_framing,
    serialise,
    split_head,
)
from gemini_doctor.proxy.record import Diagnoser, Pending
from gemini_doctor.proxy.upstream import Connection, Origin
from gemini_doctor.proxy.watch import Watcher
from gemini_doctor.redact import redact

MAX_REQUEST_BYTES = 32 * 1024 * 1024  # Google's own inline limit is 20 MB; a larger body is not a real request
KEEP_ALIVE_S = 30.0
LINGER_S = 2.0
METHODS = frozenset({b"GET", b"HEAD", b"POST", b"PUT", b"PATCH", b"DELETE"})
REQUEST_DROP = HOP_BY_HOP | FRAMING | {b"host", b"expect"}
WITH_BODY = frozenset({b"POST", b"PUT", b"PATCH"})
HIGH_WATER = 256 * 1024  # bytes waiting for a slow app before the upstream's reading is paused
FAILURES = (OSError, TimeoutError, asyncio.IncompleteReadError, BadMessage)
REASONS = {400: b"Bad Request", 405: b"Method Not Allowed", 413: b"Payload Too Large", 502: b"Bad Gateway"}


class Forwarder:
    """Serves the app's connections (`protocol` makes one); one upstream origin, one recorder."""

    def __init__(self, upstream: str, watcher: Watcher, on_batch: Callable[[list[Exchange]], None], timeout: float):
        self.origin = Origin(upstream, timeout, connect_timeout=min(timeout, 15.0))
        self.timeout = timeout
        self.base = redact(self.origin.base + self.origin.prefix.decode("latin-1"))
        self.diagnoser = Diagnoser(watcher, on_batch)
        self.numbers = itertools.count(1)
        self.connections: set[AppConnection] = set()
        self.busy = 0

    def protocol(self) -> AppConnection:
        return AppConnection(self)

    async def aclose(self, grace: float) -> None:
        """Stop: the exchanges under way get `grace` seconds to end, then every connection is closed."""
        deadline = time.monotonic() + grace
        while self.busy and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for connection in list(self.connections):
            connection.abort()
        self.origin.close()
        await asyncio.sleep(0)  # the aborted connections' last callbacks (their exchanges recorded)
        await self.diagnoser.drain()


class Deadline:
    """One timer for a connection, moved later by an assignment (no timer made and cancelled on every move):
    `expire` is called once the loop's time passes `when`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, expire: Callable[[], None]):
        self.loop, self.expire = loop, expire
        self.when: float | None = None
        self.handle: asyncio.TimerHandle | None = None

    def set(self, seconds: float) -> None:
        self.when = self.loop.time() + seconds
        if self.handle is not None and self.handle.when() > self.when:  # moved earlier: the timer too
            self.handle.cancel()
            self.handle = None
        if self.handle is None:
            self.handle = self.loop.call_at(self.when, self._fire)

    def cancel(self) -> None:
        self.when = None
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None

    def _fire(self) -> None:
        self.handle = None
        if self.when is None:
            return
        if self.loop.time() < self.when:
            self.handle = self.loop.call_at(self.when, self._fire)
            return
        self.when = None
        self.expire()


class State(Enum):
    READING = "reading"  # the next request's head or body
    FORWARDING = "forwarding"  # upstream and back
    CLOSING = "closing"  # said done: what the app still sends is read and dropped for a moment, then closed


class AppConnection(asyncio.Protocol):
    """One connection from the app: its requests in turn, until it closes or idles out."""

    def __init__(self, forwarder: Forwarder):
        self.forwarder = forwarder
        self.transport: asyncio.Transport | None = None
        self.state = State.READING
        self.buffer = bytearray()
        self.head: Head | None = None
        self.body: BodyReader | None = None
        self.parts: list[bytes] = []
        self.size = 0
        self.relay: Relay | None = None
        self.eof = False
        self.paused = False  # reading from the app (a pipelined request waits its turn)
        self.held = False  # writing to the app: past HIGH_WATER waiting, the upstream's reading is paused
        self.deadline = Deadline(asyncio.get_running_loop(), self._expired)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are no subclass of it
        self.transport.set_write_buffer_limits(high=HIGH_WATER)
        self.forwarder.connections.add(self)
        self.deadline.set(KEEP_ALIVE_S)

    def data_received(self, data: bytes) -> None:
        if self.state is State.CLOSING:
            return
        self.buffer += data
        if self.state is State.READING:
            self._read()
        elif len(self.buffer) > MAX_HEAD and self.transport is not None:  # pipelined: held back until its turn
            self.transport.pause_reading()
            self.paused = True

    def eof_received(self) -> bool:
        self.eof = True
        if self.state is State.READING:
            if self.head is None and not bytes(self.buffer).strip():
                self.close()
            elif self.head is None:
                self.refuse(400, "INVALID_ARGUMENT", "gemini-doctor proxy: the connection closed in a head")
            else:  # in the middle of a body: nothing to answer
                self.close()
        elif self.state is State.CLOSING:
            self.close()
        return True  # the answer under way still goes back on the half-closed connection

    def connection_lost(self, exc: Exception | None) -> None:
        self.forwarder.connections.discard(self)
        self.deadline.cancel()
        self.state = State.CLOSING
        if self.relay is not None:
            self.relay.app_gone()

    def pause_writing(self) -> None:
        self.held = True
        if self.relay is not None:
            self.relay.hold(True)

    def resume_writing(self) -> None:
        self.held = False
        if self.relay is not None:
            self.relay.hold(False)

    def _read(self) -> None:
        """The request as far as it has arrived; once whole, it is forwarded."""
        try:
            if self.head is None and not self._take_head():
                return
            if not self._take_body():
                return
        except TooLarge:
            self.refuse(413, "INVALID_ARGUMENT", "Request payload size exceeds the limit of the proxy.")
            return
        except BadMessage as exc:
            self.refuse(400, "INVALID_ARGUMENT", f"gemini-doctor proxy: {exc}")
            return
        assert self.head is not None
        head, body = self.head, b"".join(self.parts)
        self.head, self.body, self.parts, self.size = None, None, [], 0
        self.state = State.FORWARDING
        self.deadline.set(self.forwarder.timeout)
        self.relay = Relay(self, head, body)
        self.relay.start()

    def _take_head(self) -> bool:
        found = split_head(self.buffer)
        if found is None:
            return False
        head, end = found
        del self.buffer[:end]
        method, target, version = head.start
        if version not in (b"HTTP/1.1", b"HTTP/1.0") or not target.startswith(b"/"):
            raise BadMessage("not an HTTP/1.x request")
        if method not in METHODS:
            self.refuse(405, "INVALID_ARGUMENT", f"gemini-doctor proxy: {method!r} not forwarded")
            return False
        self.deadline.set(self.forwarder.timeout)
        framing, length = request_framing(head)
        if length > MAX_REQUEST_BYTES:
            raise TooLarge
        if b"100-continue" in head.tokens(b"expect") and self.transport is not None:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.head, self.body = head, BodyReader(framing, length)
        return True

    def _take_body(self) -> bool:
        assert self.body is not None
        if not self.body.done and self.buffer:
            _, payload, rest = self.body.take(bytes(self.buffer))
            self.buffer = bytearray(rest)
            self.size += len(payload)
            if self.size > MAX_REQUEST_BYTES:
                raise TooLarge
            if payload:
                self.parts.append(payload)
        return self.body.done

    def answered(self, keeps: bool) -> None:
        """The exchange is over: the next request, or the connection closed."""
        self.relay = None
        if self.state is not State.FORWARDING:
            return
        if not keeps or self.eof:
            self.close()
            return
        self.state = State.READING
        self.deadline.set(KEEP_ALIVE_S)
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        if self.buffer:
            self._read()

    def _expired(self) -> None:
        if self.state is State.FORWARDING and self.relay is not None:
            self.relay.expired()
        elif self.state is State.READING:
            self.close()
        else:
            self.abort()

    def write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def refuse(self, code: int, status: str, message: str) -> None:
        """An error of the proxy's own, in Google's shape; the connection is closed after it."""
        body = json.dumps({"error": {"code": code, "message": message, "status": status}}).encode()
        headers = [
            (b"Content-Type", b"application/json"),
            (b"Content-Length", str(len(body)).encode()),
            (b"Connection", b"close"),
        ]
        self.write(serialise((b"HTTP/1.1", str(code).encode(), REASONS.get(code, b"Error")), headers) + body)
        self.close()

    def close(self) -> None:
        """Close gently: say we are done, then read what the app still sends (a refused body) for a moment, so
        that closing on unread bytes does not reset the connection before the app has read our answer."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        self.state = State.CLOSING
        self.buffer.clear()
        if self.eof or not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()
        if self.paused:
            transport.resume_reading()
        self.deadline.set(LINGER_S)

    def abort(self) -> None:
        """The proxy is stopping: no lingering."""
        self.state = State.CLOSING
        if self.transport is not None:
            self.transport.close()


class Relay:
    """One exchange: the request upstream, the answer back as it arrives; the upstream connection's sink."""

    def __init__(self, app: AppConnection, head: Head, body: bytes):
        forwarder = app.forwarder
        self.app, self.forwarder, self.request, self.body = app, forwarder, head, body
        number, method = next(forwarder.numbers), head.start[0].decode("latin-1")
        exchange = Exchange(number=number, started=time.monotonic(), method=method)
        self.item = Pending(exchange, head.start[1].decode("latin-1"), forwarder.base, body, Tap())
        self.connection: Connection | None = None
        self.answer: Head | None = None
        self.buffer = b""
        self.reader = BodyReader(Framing.NONE)
        self.raw = self.keeps = self.finished = False
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.forwarder.busy += 1
        connection = self.forwarder.origin.take_idle()
        if connection is not None:
            self._send(connection)
        else:
            self.task = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        try:
            connection = await self.forwarder.origin.acquire()
        except FAILURES as exc:
            self._no_answer(exc)
            return
        if self.finished:  # the app went away meanwhile
            self.forwarder.origin.release(connection, reusable=True)
            return
        self._send(connection)

    def _send(self, connection: Connection) -> None:
        """The request upstream, as the app sent it less the hop-by-hop headers, with its length."""
        self.connection = connection
        connection.sink = self
        if self.app.held:
            self.hold(True)
        method, target, _ = self.request.start
        origin = self.forwarder.origin
        headers = [(b"Host", origin.authority), *self.request.passed_on(REQUEST_DROP), *origin.proxy_headers()]
        if self.body or method in WITH_BODY:
            headers.append((b"Content-Length", str(len(self.body)).encode()))
        message = serialise((method, origin.target(target), b"HTTP/1.1"), headers)
        if len(self.body) < HIGH_WATER:
            connection.write(message + self.body)
        else:
            connection.write(message)
            connection.write(self.body)
        self.body = b""

    def upstream_data(self, data: bytes) -> None:
        if self.finished:
            return
        try:
            if self.answer is None:
                self._head(data)
            else:
                self._body(data)
        except BadMessage as exc:
            self._failed(exc)

    def _head(self, data: bytes) -> None:
        """The answer's head (interim 1xx answers skipped), then what came after it of the body."""
        self.buffer += data
        while True:
            found = split_head(self.buffer, "the upstream's head")
            if found is None:
                return
            answer, end = found
            self.buffer = self.buffer[end:]
            if not (answer.start[1].isdigit() and len(answer.start[1]) == 3):
                raise BadMessage("the upstream's status line is malformed")
            if not answer.start[1].startswith(b"1"):
                break
        self.answer = answer
        rest, self.buffer = self.buffer, b""
        self.item.exchange.ttfb_ms = _ms(self.item.exchange.started)
        framing, length = response_framing(answer, self.request.start[0])
        self.reader = BodyReader(framing, length)
        self._body(rest, self._answer_head(answer, framing))

    def _answer_head(self, answer: Head, framing: Framing) -> bytes:
        """The answer's head for the app; an HTTP/1.0 app gets a chunked answer's payload alone, then a close."""
        self.item.exchange.status = int(answer.start[1])
        self.item.tap.content_encoding = b", ".join(answer.values(b"content-encoding")).decode("latin-1") or "identity"
        version = self.request.start[2]
        self.raw = version == b"HTTP/1.1" or framing is not Framing.CHUNKED
        headers = answer.passed_on(HOP_BY_HOP if self.raw else HOP_BY_HOP | FRAMING)
        self.keeps = self.raw and framing is not Framing.CLOSE and self.request.keep_alive(version)
        if not self.keeps:
            headers.append((b"Connection", b"close"))
        return serialise((b"HTTP/1.1", answer.start[1], answer.start[2]), headers)

    def _body(self, data: bytes, head: bytes = b"") -> None:
        """A piece of the answer's body to the app as it came (after the head, in one write), and to the tap."""
        wire, payload, rest = self.reader.take(data)
        if payload:
            self.item.tap.feed(payload)
        out = wire if self.raw else payload
        if head or out:
            self.app.write(head + out if head else out)
        if self.reader.done:
            self._finish(complete=True, clean=not rest)
        else:
            self.app.deadline.set(self.forwarder.timeout)  # renewed: a slow stream may last, a stalled one not

    def upstream_closed(self, exc: BaseException | None) -> None:
        if self.finished:
            return
        if self.answer is not None and self.reader.framing is Framing.CLOSE:
            self._finish(complete=True, clean=False)
        else:
            self._failed(exc if isinstance(exc, OSError) else asyncio.IncompleteReadError(b"", None))

    def hold(self, paused: bool) -> None:
        """The app reads slower than the upstream sends: the upstream waits (the kernel's buffers fill)."""
        if self.connection is not None:
            (self.connection.pause_reading if paused else self.connection.resume_reading)()

    def expired(self) -> None:
        self._failed(TimeoutError())

    def _failed(self, exc: BaseException) -> None:
        """The exchange ends on `exc`: before the answer's head (nothing sent to the app yet) or after it."""
        if self.answer is None:
            self._no_answer(exc)
        else:
            self._broke_off(exc)

    def app_gone(self) -> None:
        if not self.finished:
            self.item.exchange.note = "the app closed its connection before the answer ended"
            self._finish(complete=False, clean=False)

    def _broke_off(self, exc: BaseException) -> None:
        self.item.exchange.note = f"the upstream answer broke off: {_named(exc)}"
        self._finish(complete=False, clean=False)

    def _no_answer(self, exc: BaseException) -> None:
        if self.finished:
            return
        self.item.exchange.status, self.item.answered = 502, False
        self.item.exchange.note = f"no answer from upstream: {_named(exc)}"
        message = f"gemini-doctor proxy: no answer from {self.forwarder.origin.base} ({_named(exc)})"
        self.app.refuse(502, "UNAVAILABLE", message)  # the app's connection closes after it
        self._finish(complete=False, clean=False)

    def _finish(self, complete: bool, clean: bool) -> None:
        """The exchange recorded (after its answer has gone: recording adds no latency), the upstream connection
        kept for the next one when it can be, the app's connection on to its next request or closed."""
        self.finished = True
        self.forwarder.busy -= 1
        if self.connection is not None:
            self.hold(False)
            answer = self.answer
            reusable = clean and complete and self.reader.framing is not Framing.CLOSE
            reusable = reusable and answer is not None and answer.keep_alive(answer.start[0])
            self.forwarder.origin.release(self.connection, reusable)
        exchange = self.item.exchange
        exchange.total_ms = _ms(exchange.started)
        self.forwarder.diagnoser.submit(self.item)
        self.app.answered(self.keeps and complete)


def _named(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "the connection closed early"
    return type(exc).__name__


def _ms(since: float) -> float:
    return round((time.monotonic() - since) * 1000, 1)
