"""Probes: the only code that talks to the network. Gemini over httpx; Google Cloud through its client libraries.

httpcore imports trio, when it happens to be installed, only to support trio event loops (about 50 ms of start-up
here); the doctor runs asyncio, so trio is hidden while httpx and httpcore are imported, and restored after.
"""

import sys

_HIDE_TRIO = "trio" not in sys.modules
if _HIDE_TRIO:
    sys.modules["trio"] = None  # type: ignore[assignment]
try:
    import httpcore  # noqa: F401
    import httpx  # noqa: F401
finally:
    if _HIDE_TRIO:
        del sys.modules["trio"]
