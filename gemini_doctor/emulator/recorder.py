"""What the emulator was asked: the last requests whole, and exact counts (tests read these)."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field


@dataclass
class Recorded:
    """One request as the emulator saw it; tests read these to count requests and check where keys went."""

    method: str
    path: str
    query: str
    key_in_header: bool
    key_in_query: bool
    at: float = field(default_factory=time.monotonic)


RECENT_REQUESTS = 1000  # the recorder keeps this many requests whole; the total stays exact whatever the traffic
COUNTED_PATHS = 10_000  # distinct paths counted one by one; more than that (a fuzzer) share one tally
MAX_RECORDED_CHARS = 1024  # of a path or a query, as recorded


@dataclass
class Recorder:
    """The last RECENT_REQUESTS requests, and exact counts: in all, and per path (up to COUNTED_PATHS paths)."""

    recent: deque[Recorded] = field(default_factory=lambda: deque(maxlen=RECENT_REQUESTS))
    total: int = 0
    per_path: Counter[str] = field(default_factory=Counter)
    uncounted: int = 0  # requests to paths beyond COUNTED_PATHS distinct ones
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requests(self) -> list[Recorded]:
        """A snapshot of the recent requests, oldest first (all of them, below RECENT_REQUESTS)."""
        with self.lock:
            return list(self.recent)

    def add(self, entry: Recorded) -> None:
        entry.path, entry.query = entry.path[:MAX_RECORDED_CHARS], entry.query[:MAX_RECORDED_CHARS]
        with self.lock:
            self.recent.append(entry)
            self.total += 1
            if entry.path in self.per_path or len(self.per_path) < COUNTED_PATHS:
                self.per_path[entry.path] += 1
            else:
                self.uncounted += 1

    def count(self, pattern: str = "") -> int:
        """Requests whose path holds `pattern`, since the start (exact unless COUNTED_PATHS was passed)."""
        with self.lock:
            if not pattern:
                return self.total
            return sum(n for path, n in self.per_path.items() if pattern in path)
