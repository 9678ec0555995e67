"""Diagnosis: evidence in, a ranked list of named failures out. Shared by `explain`, `check` and `lint`.

Pure: no I/O, no network. The rules read the knowledge files for models and error types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from gemini_doctor.knowledge import ErrorType, error
from gemini_doctor.levels import Confidence, Severity

SEVERITIES = tuple(Severity)
CONFIDENCES = tuple(Confidence)
CONFIDENCE_SCORE = {"certain": 8, "likely": 5, "possible": 2}  # the score of a diagnosis no signature scored


@dataclass(frozen=True)
class Diagnosis:
    """One named failure with how sure we are and what led there."""

    error: ErrorType
    severity: Severity
    confidence: Confidence
    evidence: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()  # case-specific fix steps, shown before the catalog's general ones
    note: str | None = None  # e.g. what would tell this apart from a rival diagnosis
    score: int | None = None  # how specific the evidence that named it is (diagnosis/signatures.py)
    occurrences: int = 1  # how many errors of a paste it names
    retry_after: float | None = None  # seconds, from RetryInfo or "Please retry in N s", when retrying can help

    @classmethod
    def of(
        cls,
        slug: str,
        confidence: str,
        evidence: list[str] | tuple[str, ...] = (),
        *,
        severity: str = "error",
        hints: list[str] | tuple[str, ...] = (),
        note: str | None = None,
        score: int | None = None,
    ) -> Diagnosis:
        return cls(error(slug), Severity(severity), Confidence(confidence), tuple(evidence), tuple(hints), note, score)

    @property
    def fix(self) -> tuple[str, ...]:
        return self.hints + tuple(step for step in self.error.fix if step not in self.hints)

    @property
    def specificity(self) -> int:
        return self.score if self.score is not None else CONFIDENCE_SCORE[self.confidence]

    def rank(self) -> tuple[int, int, int]:
        return (SEVERITIES.index(self.severity), -self.specificity, CONFIDENCES.index(self.confidence))

    def to_dict(self) -> dict[str, Any]:
        entry = self.error
        return v1_item(
            {key: getattr(entry, key) for key in CATALOG_KEYS},
            severity=self.severity,
            confidence=self.confidence,
            evidence=self.evidence,
            fix=self.fix,
            retry_after=self.retry_after if entry.retryable else None,
            note=self.note,
            occurrences=self.occurrences,
        )


# One element of a `gemini-doctor/v1` document's `diagnosis` list: these keys in this order, then `note` when there
# is one and `occurrences` past 1. CATALOG_KEYS are the ones the catalog entry gives.
V1_KEYS = (
    "code",
    "slug",
    "title",
    "category",
    "severity",
    "confidence",
    "established",
    "evidence",
    "fix",
    "retryable",
    "retry_after",
    "retry_advice",
    "docs",
)
CATALOG_KEYS = ("code", "slug", "title", "category", "established", "retryable", "retry_advice", "docs")


def v1_item(values: Mapping[str, Any], **more: Any) -> dict[str, Any]:
    """The JSON of one diagnosis from its values (`values` and `more` together): what `explain --format json`
    lists under `diagnosis`, and what the public `gemini_doctor.api.Diagnosis.to_dict` gives."""
    every = {**values, **more}
    result: dict[str, Any] = {key: every[key] for key in V1_KEYS}
    result["evidence"], result["fix"] = list(result["evidence"]), list(result["fix"])
    if every.get("note"):
        result["note"] = every["note"]
    if every.get("occurrences", 1) > 1:
        result["occurrences"] = every["occurrences"]
    return result


@dataclass(frozen=True)
class Context:
    """What is known besides the pasted error: it sharpens or changes the diagnosis."""

    model: str | None = None
    billing_enabled: bool | None = None
    paid_quota: int | None = None  # a non-zero paid per-minute limit read from Cloud Quotas
    request: dict | None = None  # the JSON body the app sends
    api_version: str | None = None
    base_url: str | None = None


def rank(diagnoses: list[Diagnosis]) -> list[Diagnosis]:
    """Failures before warnings, then by confidence. One entry per slug: the strongest, with the evidence and
    hints of the others added, so two different invalid arguments are both shown under one GD113."""
    best: dict[str, Diagnosis] = {}
    for diagnosis in diagnoses:
        slug = diagnosis.error.slug
        if slug not in best:
            best[slug] = diagnosis
            continue
        kept, other = (best[slug], diagnosis) if best[slug].rank() <= diagnosis.rank() else (diagnosis, best[slug])
        best[slug] = replace(
            kept,
            evidence=kept.evidence + tuple(e for e in other.evidence if e not in kept.evidence),
            hints=kept.hints + tuple(h for h in other.hints if h not in kept.hints),
            retry_after=kept.retry_after if kept.retry_after is not None else other.retry_after,
        )
    return sorted(best.values(), key=lambda d: d.rank())
