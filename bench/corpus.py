"""The real-error corpus: loading its cases and grading `explain` on one. Shared by bench_accuracy and the tests."""

from __future__ import annotations

import json
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fixtures" / "corpus"
if str(ROOT) not in sys.path:  # grade this checkout's code, not whichever copy is installed
    sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    text: str
    cause: str
    expected: str | None
    also_right: tuple[str, ...]
    confidence: str
    model: str | None
    file: str
    note: str = ""

    @property
    def target(self) -> str:
        """The catalog slug that is right for this case."""
        return self.expected or _cause_map().get(self.cause, f"?{self.cause}")


@dataclass(frozen=True)
class Grade:
    first: str | None
    slugs: tuple[str, ...]
    right: bool
    refused: bool
    error: str | None = None


def _causes() -> dict:
    path = CORPUS / "causes.toml"
    return tomllib.loads(path.read_text()) if path.exists() else {}


def _cause_map() -> dict[str, str]:
    return _causes().get("cause", {})


VERTEX_WORDS = ("vertex", "aiplatform", "publisher model")


def refines(first: str | None, case: Case) -> bool:
    """Whether `first` is the Vertex AI form of the case's general label, for a case established as Vertex's."""
    general = _causes().get("refines", {}).get(first or "")
    said = f"{case.text} {case.cause} {case.note}".lower()
    return general is not None and general == case.target and any(word in said for word in VERTEX_WORDS)


def load_cases(folder: Path = CORPUS, pattern: str = "*.jsonl") -> list[Case]:
    cases = []
    for path in sorted(folder.glob(pattern)):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            cases.append(
                Case(
                    id=row["id"],
                    source=row["source"],
                    text=row["text"],
                    cause=row["cause"],
                    expected=row.get("expected"),
                    also_right=tuple(row.get("also_right") or ()),
                    confidence=row.get("confidence", "likely"),
                    model=row.get("model"),
                    file=path.name,
                    note=row.get("note") or "",
                )
            )
    return cases


def grade(case: Case) -> Grade:
    """Run explain's reading and classifier on the case's text, as `gemini-doctor explain -` would."""
    from gemini_doctor.diagnosis import Context
    from gemini_doctor.explain import explain_document
    from gemini_doctor.input_error import InputError

    try:
        document = explain_document(case.text, "-", Context())
    except InputError as exc:
        return Grade(None, (), False, True, str(exc))
    slugs = tuple(d["slug"] for d in document["diagnosis"])
    first = slugs[0] if slugs else None
    right = first is not None and (first == case.target or first in case.also_right or refines(first, case))
    return Grade(first, slugs, right, False)
