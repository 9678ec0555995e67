"""Recording and diagnosing exchanges, off the path of the answers.

The forwarding loop hands over what it saw (the request's body, a capped copy of the answer's bytes) once the
answer has gone; one worker thread summarises the request, decodes the tap, diagnoses and records, in the order
the exchanges finished. What waits for it is bounded twice: at most PENDING exchanges and PENDING_BYTES bytes;
past either, an exchange is recorded undiagnosed and says so.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from gemini_doctor.proxy.exchange import Exchange, Tap, error_excerpt, model_of, summarise_request
from gemini_doctor.proxy.watch import Watcher, digest
from gemini_doctor.redact import redact

PENDING = 256
PENDING_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class Pending:
    """One finished exchange as the forwarding loop hands it over: nothing in it is redacted yet."""

    exchange: Exchange
    target: str  # the request's path and query, as the app sent them
    url: str  # the upstream URL it went to
    body: bytes
    tap: Tap
    answered: bool = True

    @property
    def size(self) -> int:
        return len(self.body) + self.tap.size


class Diagnoser:
    """One worker thread that diagnoses finished exchanges in order."""

    def __init__(self, watcher: Watcher, on_exchange: Callable[[Exchange], None]):
        self.watcher = watcher
        self.on_exchange = on_exchange
        self.queue: queue.Queue[Pending] = queue.Queue(maxsize=PENDING)
        self.waiting_bytes = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._work, name="gemini-doctor-proxy-diagnosis", daemon=True)
        self.thread.start()

    def submit(self, item: Pending) -> None:
        """Called by the forwarding loop only (the one thread that puts)."""
        with self.lock:
            fits = self.waiting_bytes + item.size <= PENDING_BYTES and not self.queue.full()
            if fits:
                self.waiting_bytes += item.size
                self.queue.put_nowait(item)
        if not fits:  # recorded off the event loop too: a slow terminal or log must not stall answers
            item.exchange.note = "not diagnosed: more exchanges were waiting than the proxy keeps"
            item.body, item.tap, item.answered = b"", Tap(), False
            threading.Thread(target=self._record, args=(item, False), daemon=True).start()

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every submitted exchange has been recorded (at the end of a session)."""
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _work(self) -> None:
        while True:
            item = self.queue.get()
            with self.lock:
                self.waiting_bytes -= item.size
            try:
                self._record(item)
            except Exception as exc:  # a record must never take the proxy down
                item.exchange.note = f"not diagnosed: {type(exc).__name__}"
            finally:
                self.queue.task_done()

    def _record(self, item: Pending, watch: bool = True) -> None:
        exchange = item.exchange
        path = unquote(item.target.partition("?")[0])
        exchange.path = redact(item.target)
        exchange.request = summarise_request(item.body)
        exchange.model = model_of(path, exchange.request)
        exchange.request_digest = digest(exchange.method, path, item.body)
        if not watch:  # the watcher's state belongs to the worker thread
            self.on_exchange(exchange)
            return
        self.watcher.started(exchange)
        if item.answered:
            self.watcher.answered(exchange)
            text = item.tap.text()
            exchange.error_text = error_excerpt(exchange.status or 0, text)
            exchange.diagnosis = [d.to_dict() for d in self.watcher.finished(exchange, text, redact(item.url))]
        self.on_exchange(exchange)


def log_line(exchange: Exchange) -> str:
    """The JSON line `--log` writes: the redacted record, never a body or a key."""
    record: dict[str, Any] = exchange.to_dict()
    record["diagnosis"] = [
        {k: d[k] for k in ("code", "slug", "confidence", "evidence") if k in d} for d in exchange.diagnosis
    ]
    return redact(json.dumps(record, ensure_ascii=False, default=str))
