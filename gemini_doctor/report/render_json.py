"""JSON for CI: the document as it is, stable keys, UTF-8."""

from __future__ import annotations

import json
from typing import Any


def render_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
