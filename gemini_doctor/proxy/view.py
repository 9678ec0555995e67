"""The live view: a Rich table of the latest exchanges at a terminal, one line per exchange when piped."""

from __future__ import annotations

import threading
from collections import deque
from typing import IO, Any

from gemini_doctor.proxy.exchange import Exchange
from gemini_doctor.proxy.session import line
from gemini_doctor.redact import neutralise, redact

ROWS = 15


class View:
    def __init__(self, live: bool, stream: IO[str]):
        self.live = live
        self.stream = stream
        self.rows: deque[Exchange] = deque(maxlen=ROWS)
        self.lock = threading.Lock()
        self._live: Any = None

    def __enter__(self) -> View:
        if self.live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._table(), console=Console(file=self.stream), refresh_per_second=4)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def show(self, batch: list[Exchange]) -> None:
        """A batch of exchanges: the table updated once, or their lines written with one write."""
        with self.lock:
            self.rows.extend(batch)
            if self._live is not None:
                self._live.update(self._table())
            else:
                self.stream.write("".join(neutralise(redact(line(exchange))) + "\n" for exchange in batch))
                self.stream.flush()

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(title="gemini-doctor proxy", expand=False)
        for name in ("time", "#", "model", "status", "cause", "image", "imgs/60s", "ms"):
            table.add_column(name)
        for exchange in self.rows:
            table.add_row(
                exchange.clock,
                str(exchange.number),
                neutralise(exchange.model or "-"),
                str(exchange.status or "-"),
                exchange.cause or "-",
                ", ".join(exchange.images) or "-",
                str(exchange.images_in_window),
                f"{exchange.total_ms:.0f}" if exchange.total_ms is not None else "-",
            )
        return table
