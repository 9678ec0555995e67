"""Probes: the only code that talks to the network. Gemini over httpx; Google Cloud through its client libraries.

Importing this package does nothing. Some imports pull in modules the doctor never uses, at a cost paid by every
run: httpcore imports trio and h2, when they happen to be installed, only for trio event loops and HTTP/2; httpx
imports its command-line client (click, rich, pygments) when those are installed. A module that imports such a
package does it inside `hidden(...)`, which makes those optional imports fail as if the module were absent and
leaves sys.modules as it found it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def hidden(*names: str) -> Iterator[None]:
    """While inside, `import name` raises ImportError for each name (unless that module was imported already, which
    is left alone); on the way out sys.modules holds no trace of them."""
    hide = [name for name in names if name not in sys.modules]
    for name in hide:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in hide:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
