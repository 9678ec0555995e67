"""The forwarding proxy: every request passes on unchanged (streamed answers stay streamed), and each exchange is
recorded, redacted, and diagnosed once its answer has passed.

The app's headers go upstream as they came (its key included: the proxy adds none and keeps none), minus the
hop-by-hop ones; the answer's bytes come back as they were sent, encoding and all. Request bodies are capped, the
answer is tapped up to a cap, and no body outlives its exchange.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from gemini_doctor.proxy.exchange import Exchange, Tap, error_excerpt, model_of, summarise_request
from gemini_doctor.proxy.watch import Watcher, digest
from gemini_doctor.redact import redact

MAX_REQUEST_BYTES = 32 * 1024 * 1024  # Google's own inline limit is 20 MB; a larger body is not a real request
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade", "host", "content-length",
}  # fmt: skip
GOOGLE = "https://generativelanguage.googleapis.com"


def create_proxy(
    upstream: str,
    watcher: Watcher,
    on_exchange: Callable[[Exchange], None],
    timeout: float = 300.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The ASGI app: one upstream client, every path forwarded."""
    numbers = itertools.count(1)
    diagnoser = Diagnoser(watcher, on_exchange)
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
        follow_redirects=False,
        transport=transport,
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
    )
    base = upstream.rstrip("/")

    async def forward(request: Request) -> Response:
        try:
            body = await _capped_body(request)
        except ClientDisconnect:
            return Response(status_code=499)
        if body is None:
            return _google_error(413, "INVALID_ARGUMENT", "Request payload size exceeds the limit of the proxy.")
        exchange = _start(next(numbers), request, body, watcher)
        url = base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        try:
            upstream_request = client.build_request(request.method, url, headers=headers, content=body)
            answer = await client.send(upstream_request, stream=True)
        except httpx.HTTPError as exc:
            exchange.status, exchange.note = 502, f"no answer from upstream: {type(exc).__name__}"
            exchange.total_ms = _ms(exchange.started)
            on_exchange(exchange)
            return _google_error(
                502, "UNAVAILABLE", f"gemini-doctor proxy: no answer from {base} ({type(exc).__name__})"
            )
        exchange.status = answer.status_code
        watcher.answered(exchange)
        tap = Tap(answer.headers.get("content-encoding", "identity"))
        passed = [(k, v) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP - {"content-length"}]
        return StreamingResponse(
            _relay(answer, tap, exchange, diagnoser, redact(url)),
            status_code=answer.status_code,
            headers=dict(passed),
        )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()
        diagnoser.drain()

    app = Starlette(
        routes=[Route("/{path:path}", forward, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])],
        lifespan=lifespan,
    )
    app.state.diagnoser = diagnoser
    return app


def _start(number: int, request: Request, body: bytes, watcher: Watcher) -> Exchange:
    summary = summarise_request(body)
    exchange = Exchange(
        number=number,
        started=time.monotonic(),
        method=request.method,
        path=redact(request.url.path + (f"?{request.url.query}" if request.url.query else "")),
        model=model_of(request.url.path, summary),
        request=summary,
        request_digest=digest(request.method, request.url.path, body),
    )
    watcher.started(exchange)
    return exchange


async def _relay(
    answer: httpx.Response, tap: Tap, exchange: Exchange, diagnoser: Diagnoser, url: str
) -> AsyncIterator[bytes]:
    try:
        async for chunk in answer.aiter_raw():
            tap.feed(chunk)
            yield chunk
    except httpx.HTTPError as exc:
        exchange.note = f"the upstream answer broke off: {type(exc).__name__}"
    finally:
        await answer.aclose()
        exchange.ttfb_ms = round((tap.first_byte - exchange.started) * 1000, 1) if tap.first_byte else None
        exchange.total_ms = _ms(exchange.started)
        diagnoser.submit(exchange, tap, url)  # after the answer has gone: diagnosing adds no latency


class Diagnoser:
    """One worker thread diagnoses finished exchanges in order, off the path of the answers. Its queue is
    bounded: when the proxy is busier than the worker, an exchange is recorded undiagnosed and says so."""

    def __init__(self, watcher: Watcher, on_exchange: Callable[[Exchange], None], pending: int = 256):
        self.watcher = watcher
        self.on_exchange = on_exchange
        self.queue: queue.Queue[tuple[Exchange, Tap, str] | None] = queue.Queue(maxsize=pending)
        self.thread = threading.Thread(target=self._work, name="gemini-doctor-proxy-diagnosis", daemon=True)
        self.thread.start()

    def submit(self, exchange: Exchange, tap: Tap, url: str) -> None:
        try:
            self.queue.put_nowait((exchange, tap, url))
        except queue.Full:  # recorded off the event loop too: a slow terminal or log must not stall answers
            exchange.note = "not diagnosed: more exchanges were waiting than the proxy keeps"
            threading.Thread(target=self.on_exchange, args=(exchange,), daemon=True).start()

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every submitted exchange has been diagnosed (at the end of a session)."""
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _work(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is not None:
                    exchange, tap, url = item
                    text = tap.text()
                    exchange.error_text = error_excerpt(exchange.status or 0, text)
                    exchange.diagnosis = [d.to_dict() for d in self.watcher.finished(exchange, text, url)]
                    self.on_exchange(exchange)
            except Exception as exc:  # a record must never take the proxy down
                item[0].note = f"not diagnosed: {type(exc).__name__}" if item else None
            finally:
                self.queue.task_done()


async def _capped_body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _google_error(code: int, status: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "status": status}}, status_code=code)


def _ms(since: float) -> float:
    return round((time.monotonic() - since) * 1000, 1)


def log_line(exchange: Exchange) -> str:
    """The JSON line `--log` writes: the redacted record, never a body or a key."""
    record: dict[str, Any] = exchange.to_dict()
    record["diagnosis"] = [
        {k: d[k] for k in ("code", "slug", "confidence", "evidence") if k in d} for d in exchange.diagnosis
    ]
    return redact(json.dumps(record, ensure_ascii=False, default=str))
