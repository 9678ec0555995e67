"""The bounds every probe keeps, Gemini's and Google Cloud's alike: one deadline for the whole run, and a body cap
applied to what is decoded, as it is decoded, whatever stack of encodings the server claims.

A server can send 6.7 KB of `Content-Encoding: gzip, gzip` that unpacks to 1 GiB; a cap checked after decoding
comes too late. Here each stage of the stack is asked for no more than the cap allows (zlib's `max_length`), so
no stage ever holds more than the cap, and the raw bytes count too.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

MAX_BODY_BYTES = 32 * 1024 * 1024  # a 4K image answer is a few MiB; anything past this is not a real answer
ACCEPT_ENCODING = "gzip, deflate"  # what BodyDecoder undoes: never ask for an encoding it cannot bound


class Deadline:
    """The run's `--timeout` as one moment: every call gets what is left of it, not a fresh timeout of its own."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def past(self) -> float:
        """How long ago the moment was (negative while it is still ahead)."""
        return time.monotonic() - self.at

    def extend(self, seconds: float) -> None:
        """Move the moment on by `seconds`: time the run spent on start-up (importing a library, waiting for the
        lull) while requests were out is no server's time. One thread extends at a time: the event loop's (the
        lull) before probes.gcp.import_google's, which holds a lock."""
        self.at += seconds

    def spent(self) -> str:
        return f"no complete answer within the {self.seconds:g} s timeout (timed out)"


class Lull:
    """The moment the first requests of a run are all written and the process only waits for answers.

    Start-up work that no request waits for (importing Google's client libraries, the report's modules, compiling
    the error signatures) starts then, not before: it takes the same CPU either way, but done while the requests
    are being written it delays them, and done after the last answer it delays the report. A lull nobody will
    reach is not waited for: `reached()` by hand (no request will be written), or no request begun within the
    loop's first SETTLE_TURNS turns (a check that returned without sending one). `wait` never waits past its cap.
    """

    CAP_SECONDS = 0.5  # a first request still being written after this (a slow DNS answer) is not waited for
    SETTLE_TURNS = 8  # turns of the event loop in which the checks begin their first requests

    def __init__(self) -> None:
        self._writing = 0
        self._begun = False
        self._event = asyncio.Event()

    def reached(self) -> None:
        self._event.set()

    def writing(self) -> Callable[[], None]:
        """Count one request as being written; call what is returned once it is (or failed): a second call is
        a no-op. The lull comes when no request is being written any more."""
        self._writing += 1
        self._begun = True
        done = False

        def written() -> None:
            nonlocal done
            if not done:
                done = True
                self._writing -= 1
                if not self._writing:
                    self._event.set()

        return written

    async def wait(self) -> None:
        for _ in range(self.SETTLE_TURNS):
            if self._begun or self._event.is_set():
                break
            await asyncio.sleep(0)
        if not self._begun:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), self.CAP_SECONDS)


class DaemonExecutor(concurrent.futures.ThreadPoolExecutor):
    """Each call in a daemon thread of its own; shutting down never waits. Blocking work (a DNS lookup, a Google
    Cloud call) that outlives the run's deadline is abandoned, and cannot keep the process alive. (A
    ThreadPoolExecutor only in name, since asyncio takes no other kind as its default executor; it starts none of
    that pool's threads, which the interpreter would wait for at exit.)"""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to whoever waits, whatever it is
                future.set_exception(exc)

        threading.Thread(target=run, name="gemini-doctor-call", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to wait for: the threads are daemons."""


DAEMONS = DaemonExecutor()


class BudgetSpent(RuntimeError):
    """The run's request budget for a service is spent: the request was not sent."""


class Budget:
    """At most `limit` requests, counted across threads; `sent` is how many went out."""

    def __init__(self, limit: int, what: str):
        self.limit = limit
        self.what = what
        self.sent = 0
        self._lock = threading.Lock()

    def spend(self) -> None:
        with self._lock:
            if self.sent >= self.limit:
                raise BudgetSpent(f"not sent: the budget of {self.limit} requests to {self.what} is spent")
            self.sent += 1


class DecodingError(ValueError):
    """A body whose Content-Encoding does not decode."""


class _Stage:
    """One zlib stage (gzip or deflate), never asked for more than `limit` bytes at a time."""

    def __init__(self, name: str):
        self.name = name
        self.raw_deflate = False
        self.started = False
        self.produced = 0
        self.decoder = self._new()

    def _new(self):
        if self.name in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if self.raw_deflate else zlib.MAX_WBITS)

    def decode(self, data: bytes, limit: int) -> tuple[bytes, bool]:
        """(output, complete): complete is False when the limit stopped it with input left over."""
        try:
            out = self.decoder.decompress(data, max(1, limit))
        except zlib.error as exc:
            if self.name == "deflate" and not self.started and not self.raw_deflate:
                self.raw_deflate = True  # "deflate" without its zlib header, as some servers send it
                self.decoder = self._new()
                return self.decode(data, limit)
            raise DecodingError(f"the answer's {self.name} encoding is corrupt ({exc})") from None
        self.started = True
        self.produced += len(out)
        return out, not self.decoder.unconsumed_tail


class BodyDecoder:
    """Undoes a Content-Encoding stack (`gzip, gzip`, `deflate`, identity) chunk by chunk within `cap` bytes.

    Unknown encodings are passed through undecoded, as httpx does. `feed` returns False once the cap is reached:
    the caller stops reading, and `truncated` says the body was cut.
    """

    def __init__(self, content_encoding: str, cap: int = MAX_BODY_BYTES):
        names = [name.strip().lower() for name in content_encoding.split(",")]
        # The last encoding named was applied last, so it is undone first.
        self.stages = [_Stage(name) for name in reversed(names) if name in ("gzip", "x-gzip", "deflate")]
        self.cap = cap
        self.raw = 0
        self.size = 0
        self.truncated = False
        self._chunks: list[bytes] = []

    def feed(self, data: bytes) -> bool:
        self.raw += len(data)
        for stage in self.stages:
            data, complete = stage.decode(data, self.cap + 1 - stage.produced)
            if not complete or stage.produced > self.cap:
                self.truncated = True
        if self.raw > self.cap:
            self.truncated = True
        keep = data[: max(0, self.cap - self.size)]
        self.size += len(keep)
        self._chunks.append(keep)
        if len(keep) < len(data):
            self.truncated = True
        return not self.truncated

    def body(self) -> bytes:
        return b"".join(self._chunks)
