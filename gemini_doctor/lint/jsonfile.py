"""JSON front-end: request bodies and config files, read by the JavaScript tokenizer (JSON is a JS expression),
so a body with comments (JSONC) or a trailing comma still gives positions instead of an error."""

from __future__ import annotations

from gemini_doctor.lint.javascript import scan_javascript
from gemini_doctor.lint.nodes import Scan


def scan_json(source: str) -> Scan:
    return scan_javascript(source, language="json")
