"""gemini-doctor: tells apart the failures of Gemini image-generation calls.

The Python API is `gemini_doctor.api` (`diagnose`, `Diagnosis`, `guard`, the `GeminiImageError` family, the retry
helpers); `from gemini_doctor import diagnose` works too, and loads it on first use, so importing the package
stays as light as `--help`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from gemini_doctor.api import Diagnosis, GeminiImageError, diagnose, should_retry

__all__ = ["Diagnosis", "GeminiImageError", "__version__", "diagnose", "should_retry"]
_LAZY = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from gemini_doctor import api

        return getattr(api, name)
    raise AttributeError(f"module 'gemini_doctor' has no attribute {name!r}")
