"""JSON for CI: the document as it is, stable keys, UTF-8."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gemini_doctor.report.document import Report


def render_json(report: Report) -> str:
    return json.dumps(report.document, indent=2, ensure_ascii=False) + "\n"
