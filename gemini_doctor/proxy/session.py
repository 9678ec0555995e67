"""A proxy session: the server on its socket, the exchanges it has seen, the live view, the log, the report.

Memory stays bounded over a long run: exchanges are summaries (no body), and only the last MAX_KEPT are kept for
the view and the report; the totals count every one.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
from collections import Counter, deque
from collections.abc import Callable
from typing import IO, Any

from gemini_doctor.proxy.exchange import Exchange
from gemini_doctor.proxy.forward import Forwarder
from gemini_doctor.proxy.record import BUSY, log_line
from gemini_doctor.proxy.watch import Watcher
from gemini_doctor.report import SCHEMA, tool_info
from gemini_doctor.serving import BACKLOG, SocketServer

MAX_KEPT = 1000


class Session:
    """Exchanges as they finish: counted, kept (the last MAX_KEPT), logged, and shown (`show` takes a batch)."""

    def __init__(self, upstream: str, log: IO[str] | None = None, show: Callable[[list[Exchange]], None] | None = None):
        self.upstream = upstream
        self.recent: deque[Exchange] = deque(maxlen=MAX_KEPT)
        self.total = 0
        self.undiagnosed = 0  # recorded without a diagnosis: more exchanges were waiting than the proxy keeps
        self.statuses: Counter[int] = Counter()
        self.causes: Counter[str] = Counter()
        self.found: dict[str, dict[str, Any]] = {}
        self.log = log
        self.show = show
        self.lock = threading.Lock()

    def record(self, batch: list[Exchange]) -> None:
        """A batch of exchanges, in order: counted, kept, then logged and shown with one write each."""
        with self.lock:
            for exchange in batch:
                self.total += 1
                self.recent.append(exchange)
                self.statuses[exchange.status or 0] += 1
                self.undiagnosed += exchange.note == BUSY
                for item in exchange.diagnosis:
                    if item.get("severity") == "error":
                        self.causes[item["slug"]] += 1
                        self.found.setdefault(item["slug"], item)
            if self.log is not None:
                with contextlib.suppress(OSError, ValueError):  # a full disk loses lines, never the view
                    self.log.write("".join(log_line(exchange) + "\n" for exchange in batch))
                    self.log.flush()
        if self.show is not None:
            self.show(batch)

    def document(self, watcher: Watcher) -> dict[str, Any]:
        """The report at the end, in the shape every renderer takes."""
        diagnoses = []
        for slug, item in sorted(self.found.items(), key=lambda kv: -self.causes[kv[0]]):
            entry = dict(item)
            if self.causes[slug] > 1:
                entry["occurrences"] = self.causes[slug]
            diagnoses.append(entry)
        statuses = ", ".join(f"{count}× {status or 'no answer'}" for status, count in sorted(self.statuses.items()))
        notes = [f"the app resent {watcher.retries} request(s) after an error"] if watcher.retries else []
        if self.undiagnosed:
            notes.append(f"{self.undiagnosed} exchange(s) recorded undiagnosed: more were waiting than the proxy keeps")
        return {
            "schema": SCHEMA,
            "command": "proxy",
            "tool": tool_info(),
            "input": {
                "source": f"proxy to {self.upstream}",
                "kind": f"{self.total} exchanges",
                "status": statuses or None,
                "notes": notes,
            },
            "exchanges": [e.to_dict() for e in list(self.recent)[-50:]],
            "totals": {
                "exchanges": self.total,
                "retries": watcher.retries,
                "undiagnosed": self.undiagnosed,
                "by_status": dict(self.statuses),
            },
            "diagnosis": diagnoses,
            "exit_code": 1 if diagnoses else 0,
        }


class ProxyServer(SocketServer):
    """The proxy on one socket, listening before its URL is printed; served on a thread or in the foreground."""

    name = "proxy"

    def __init__(
        self,
        upstream: str,
        watcher: Watcher,
        session: Session,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 300.0,
    ):
        super().__init__(host, port)
        self.server = Runner(Forwarder(upstream, watcher, session.record, timeout))  # type: ignore[assignment]


class Runner:
    """The forwarding loop in the shape SocketServer drives (uvicorn.Server's: `run`, `started`, `should_exit`).
    In the main thread, SIGINT and SIGTERM stop it: exchanges under way get GRACE_S to end, then the recorder
    is drained, and `run` returns."""

    GRACE_S = 2.0

    def __init__(self, forwarder: Forwarder):
        self.forwarder = forwarder
        self.started = False
        self._exit = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    @property
    def should_exit(self) -> bool:
        return self._exit

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self._exit = value
        if value and self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                self._loop.call_soon_threadsafe(self._stop.set)

    def run(self, sockets: list[socket.socket]) -> None:
        asyncio.run(self._serve(sockets[0]))

    async def _serve(self, sock: socket.socket) -> None:
        self._stop = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._loop.add_signal_handler(signum, self._stop.set)
        server = await self._loop.create_server(self.forwarder.protocol, sock=sock, backlog=BACKLOG)
        self.started = True
        if self._exit:
            self._stop.set()
        await self._stop.wait()
        server.close()
        await self.forwarder.aclose(self.GRACE_S)


def line(exchange: Exchange) -> str:
    """One exchange in a line, for the terminal view and piped output."""
    images = f" images {', '.join(exchange.images)}" if exchange.images else ""
    retry = f" (retry of #{exchange.retry_of})" if exchange.retry_of else ""
    took = f" {exchange.total_ms:.0f} ms" if exchange.total_ms is not None else ""
    return (
        f"{exchange.clock} #{exchange.number} {exchange.model or '-'} {exchange.status or '-'} {exchange.cause or '-'}"
        f"{images}{retry}{took} · {exchange.images_in_window} image(s) in the last 60 s"
    )
