"""Probes: the only code that talks to the network. Gemini over httpx; Google Cloud through its client libraries.

Importing this package does nothing. httpcore imports trio, when it happens to be installed, only to support trio
event loops (about 50 ms of start-up); the doctor runs asyncio, so a module that imports httpx does it inside
`trio_hidden()`, which leaves sys.modules as it found it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def trio_hidden() -> Iterator[None]:
    """While inside, `import trio` raises ImportError (unless trio was imported already, which is left alone);
    on the way out sys.modules holds no trace of it."""
    hide = "trio" not in sys.modules
    if hide:
        sys.modules["trio"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if hide and "trio" in sys.modules and sys.modules["trio"] is None:
            del sys.modules["trio"]
