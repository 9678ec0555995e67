"""A lint finding: one catalog diagnosis at one place in one file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gemini_doctor.diagnosis import Diagnosis
from gemini_doctor.knowledge import find_error

# `# gemini-doctor: ignore[GD009]`, `// gemini-doctor: ignore[GD009, wrong-model-name]`, bare `gemini-doctor: ignore`
IGNORE_COMMENT = re.compile(r"gemini-doctor:\s*ignore(?:\[([^\]]*)\])?", re.IGNORECASE)


class Safety(StrEnum):
    """A fix's applicability, as ruff's: `--fix` applies safe fixes only."""

    SAFE = "safe"  # cannot change what the code asks for, beyond removing the trap
    UNSAFE = "unsafe"  # shown, never applied by --fix


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace one string literal's value: from (line, col) to (end_line, end_col), 1-based, quotes included."""

    line: int
    col: int
    end_line: int
    end_col: int
    old: str
    new: str
    safety: Safety

    def to_dict(self) -> dict[str, Any]:
        return {"safety": self.safety.value, "old": self.old, "new": self.new}


@dataclass(frozen=True, slots=True)
class Finding:
    diagnosis: Diagnosis
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    edit: Edit | None = None

    @property
    def code(self) -> str:
        return self.diagnosis.error.code

    @property
    def message(self) -> str:
        return self.diagnosis.evidence[0] if self.diagnosis.evidence else self.diagnosis.error.title

    def __reduce__(self) -> tuple[Any, tuple]:
        """Pickled with the catalog entry's slug, not the entry: findings come back from worker processes."""
        d = self.diagnosis
        state = (d.severity, d.confidence, d.evidence, d.hints, d.note, d.score, d.occurrences, d.retry_after)
        where = (self.path, self.line, self.column, self.end_line, self.end_column, self.edit)
        return _rebuild, (d.error.slug, state, where)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code)

    def to_dict(self) -> dict[str, Any]:
        entry = self.diagnosis.error
        result: dict[str, Any] = {
            "code": entry.code,
            "slug": entry.slug,
            "title": entry.title,
            "severity": self.diagnosis.severity,
            "confidence": self.diagnosis.confidence,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
            "evidence": list(self.diagnosis.evidence),
            "fix": list(self.diagnosis.fix),
            "docs": entry.docs,
        }
        if self.diagnosis.note:
            result["note"] = self.diagnosis.note
        result["fixable"] = self.edit is not None and self.edit.safety is Safety.SAFE
        if self.edit is not None:
            result["edit"] = self.edit.to_dict()
        return result


def _rebuild(slug: str, state: tuple, where: tuple) -> Finding:
    from gemini_doctor.knowledge import error

    return Finding(Diagnosis(error(slug), *state), *where)


def ignored_on_line(text: str) -> set[str] | None:
    """Codes an inline comment on this line silences: a set of codes, {"*"} for all, None if no comment."""
    match = IGNORE_COMMENT.search(text)
    if match is None:
        return None
    if match.group(1) is None:
        return {"*"}
    codes = set()
    for item in match.group(1).split(","):
        entry = find_error(item.strip()) if item.strip() else None
        if entry is not None:
            codes.add(entry.code)
    return codes
