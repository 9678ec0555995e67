"""Recording and diagnosing exchanges, off the path of the answers.

The forwarding loop hands over what it saw (the request's body, a copy of the answer's bytes) once the answer has
gone. Diagnosing (summarising the request, decoding the tap, the classifier) is CPU work, so it runs on the
forwarding loop itself, in turns between the loop's I/O: in a thread of its own it would hold the GIL the loop
needs after every send and receive, and cost the answers far more than its own time. An answer with no error
takes the short way (watch.read_success): the image's size and finish reason, checked against the request.
Recording (the log file, the terminal) may block, so it runs in a thread: a slow terminal never stalls an answer.
What waits is bounded: at most PENDING exchanges and PENDING_BYTES bytes wait for diagnosis (past either, an exchange is
recorded undiagnosed and says so, and the report counts them), BATCHES of records for recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from gemini_doctor.proxy.exchange import Exchange, Tap, error_excerpt, model_of, summarise_request
from gemini_doctor.proxy.watch import Watcher, digest
from gemini_doctor.redact import redact

PENDING = 256
PENDING_BYTES = 64 * 1024 * 1024
TURN_S = 0.002  # the CPU one turn of diagnosis takes before the loop's I/O goes on (an error's is longer)...
CATCH_UP_FROM = 64  # ...unless more than this many wait: then down to it in one turn, so diagnosis keeps pace
BATCHES = 64  # batches of records waiting for the recording thread
FLUSH_S = 0.02
CLEAN_TARGETS = 1024
NO_IMAGE_METHODS = frozenset({"countTokens", "embedContent", "batchEmbedContents"})
BUSY = "not diagnosed: more exchanges were waiting than the proxy keeps"


@dataclass(slots=True)
class Pending:
    """One finished exchange as the forwarding loop hands it over: nothing in it is redacted yet."""

    exchange: Exchange
    target: str  # the request's path and query, as the app sent them
    base: str  # the upstream's scheme, host and path, to which the target was appended
    body: bytes
    tap: Tap
    answered: bool = True

    @property
    def size(self) -> int:
        return len(self.body) + self.tap.size

    def describe(self, summary: bool = True) -> str:
        """The exchange's request fields filled in, redacted; returns the path (unquoted, without the query).
        Without `summary`, the request's body is not summarised (only its digest taken)."""
        exchange, path = self.exchange, unquote(self.target.partition("?")[0])
        exchange.path = _redacted(self.target)
        exchange.request = summarise_request(self.body) if summary else None
        exchange.model = model_of(path, exchange.request)
        exchange.request_digest = digest(exchange.method, path, self.body)
        return path


_CLEAN: dict[str, None] = {}  # request targets seen to hold nothing to redact (never one with a key), oldest first


def _redacted(target: str) -> str:
    """The target redacted; one already seen to hold nothing to redact is not scanned again (an app calls the
    same few paths over and over). At most CLEAN_TARGETS are remembered."""
    if target in _CLEAN:
        return target
    path = redact(target)
    if path == target and len(target) <= 2048:
        if len(_CLEAN) >= CLEAN_TARGETS:
            del _CLEAN[next(iter(_CLEAN))]
        _CLEAN[target] = None
    return path


class Diagnoser:
    """Diagnoses finished exchanges in order, on the forwarding loop, then hands them to the recorder."""

    def __init__(self, watcher: Watcher, on_batch: Callable[[list[Exchange]], None]):
        self.watcher = watcher
        self.recorder = Recorder(on_batch)
        self.waiting: deque[Pending] = deque()
        self.waiting_bytes = 0
        self.scheduled = False  # a turn is waiting on the loop

    def submit(self, item: Pending) -> None:
        """Called on the forwarding loop once the answer has gone."""
        if len(self.waiting) >= PENDING or self.waiting_bytes + item.size > PENDING_BYTES:
            item.exchange.note = BUSY
            item.body, item.tap = b"", Tap()
            item.describe()
            self.recorder.put(item.exchange)
            return
        self.waiting.append(item)
        self.waiting_bytes += item.size
        if not self.scheduled:
            self.scheduled = True
            asyncio.get_running_loop().call_soon(self._turn)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every submitted exchange has been diagnosed and recorded (at the end of a session)."""
        deadline = time.monotonic() + timeout
        while self.waiting and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        self.recorder.flush()
        await asyncio.get_running_loop().run_in_executor(None, self.recorder.drain, deadline - time.monotonic())

    def _turn(self) -> None:
        """Waiting exchanges diagnosed in turns of at most TURN_S of CPU, each a callback of the loop (no task, no
        future), its I/O between turns: a burst of answers is forwarded first and diagnosed while the proxy waits
        for the upstream, and under sustained load each turn takes a batch, and all but CATCH_UP_FROM of those
        waiting: diagnosis keeps pace with the answers, and none is dropped while the proxy can keep up at all."""
        clock = time.perf_counter
        until = clock() + TURN_S
        while self.waiting and (clock() < until or len(self.waiting) > CATCH_UP_FROM):
            item = self.waiting.popleft()
            self.waiting_bytes -= item.size
            try:
                self._diagnose(item)
            except Exception as exc:  # a record must never take the proxy down
                item.exchange.note = f"not diagnosed: {type(exc).__name__}"
            self.recorder.put(item.exchange)
        if self.waiting:
            asyncio.get_running_loop().call_soon(self._turn)
        else:
            self.scheduled = False

    def _diagnose(self, item: Pending) -> None:
        """One exchange diagnosed: an answer with no error takes the short way (watch.read_success), and a 2xx
        answer to a call that asks for no image (countTokens, models.get: nothing in it can be wrong with an image)
        the shortest: its status and timings recorded, its request's digest taken for retries, no body read."""
        exchange = item.exchange
        plain = item.answered and 200 <= (exchange.status or 0) < 300 and answers_no_image(exchange.method, item.target)
        item.describe(summary=not plain)
        self.watcher.started(exchange)
        if plain:
            exchange.images_in_window = self.watcher.window(
                exchange.model, exchange.started + (exchange.total_ms or 0) / 1000
            )
        if plain or not item.answered:
            return
        self.watcher.answered(exchange)
        text = item.tap.text()
        exchange.error_text = error_excerpt(exchange.status or 0, text)
        evidence = self.watcher.read(exchange, text, item.base + exchange.path)
        exchange.diagnosis = [d.to_dict() for d in self.watcher.judge(exchange, evidence)]


def answers_no_image(method: str, target: str) -> bool:
    """A call whose answer never holds an image: countTokens, the embeddings, models.get and models.list (an
    allow-list: a method not named here is read the full way)."""
    parts = unquote(target.partition("?")[0]).rstrip("/").split("/")
    name, _, verb = parts[-1].rpartition(":")
    if name:
        return verb in NO_IMAGE_METHODS
    return method == "GET" and "models" in parts[-2:]


class Recorder:
    """One thread that records diagnosed exchanges in order (log, view, session): its writes may block. They are
    handed over in batches, every FLUSH_S at most: a thread woken for every exchange would take the GIL from the
    forwarding loop as often."""

    def __init__(self, on_batch: Callable[[list[Exchange]], None]):
        self.on_batch = on_batch
        self.queue: queue.Queue[list[Exchange]] = queue.Queue(maxsize=BATCHES)
        self.batch: list[Exchange] = []
        self.scheduled = False
        self.thread = threading.Thread(target=self._work, name="gemini-doctor-proxy-record", daemon=True)
        self.thread.start()

    def put(self, exchange: Exchange) -> None:
        """On the forwarding loop."""
        self.batch.append(exchange)
        if not self.scheduled:
            self.scheduled = True
            asyncio.get_running_loop().call_later(FLUSH_S, self.flush)

    def flush(self) -> None:
        batch, self.batch, self.scheduled = self.batch, [], False
        if not batch:
            return
        try:
            self.queue.put_nowait(batch)
        except queue.Full:  # the terminal or the log is stuck: these are recorded when they can be, apart
            threading.Thread(target=self._record, args=(batch,), daemon=True).start()

    def drain(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _work(self) -> None:
        while True:
            batch = self.queue.get()
            try:
                self._record(batch)
            finally:
                self.queue.task_done()

    def _record(self, batch: list[Exchange]) -> None:
        with contextlib.suppress(Exception):  # a record must never take the proxy down
            self.on_batch(batch)


def log_line(exchange: Exchange) -> str:
    """The JSON line `--log` writes: the redacted record, never a body or a key."""
    record: dict[str, Any] = exchange.to_dict()
    record["diagnosis"] = [
        {k: d[k] for k in ("code", "slug", "confidence", "evidence") if k in d} for d in exchange.diagnosis
    ]
    return redact(json.dumps(record, ensure_ascii=False, default=str))
