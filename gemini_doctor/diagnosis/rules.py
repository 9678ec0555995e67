"""The rules: Evidence + Context → ranked Diagnosis list.

Recognition is data: every error type's signatures sit next to its page in knowledge/errors.toml, and one
matcher (`signatures.match_all`) scores the evidence against all of them. What needs context (billing, the
paid quota, the request, the model table) is judged by the named functions in `judges`. The most specific
diagnosis comes first; where the evidence cannot tell two causes apart, the note says what would.
"""

from __future__ import annotations

import re
from dataclasses import replace

from gemini_doctor.diagnosis import Context, Diagnosis, rank
from gemini_doctor.diagnosis.facts import Evidence
from gemini_doctor.diagnosis.judges import JUDGES, basics, network, response
from gemini_doctor.diagnosis.request import read_request, request_findings
from gemini_doctor.diagnosis.signatures import Match, match_all
from gemini_doctor.knowledge import find_model


def diagnose(evidence: Evidence, context: Context | None = None) -> list[Diagnosis]:
    """The ranked diagnoses for one piece of evidence; an empty list means nothing is wrong."""
    context = context or Context()
    found = _from_signatures(evidence, context)
    if evidence.network_error or evidence.html_title is not None:
        found += network(evidence, context)
    elif evidence.is_response and not evidence.is_error:
        found += response(evidence, context)
    if context.request is not None:
        model_name = context.model or evidence.model
        found += request_findings(read_request(context.request), find_model(model_name) if model_name else None)
    if not any(d.severity == "error" for d in found) and (evidence.is_error or not evidence.is_response):
        found.append(_unknown(evidence))
    delay = retry_seconds(evidence.retry_delay)
    return [replace(d, retry_after=delay) if d.error.retryable and delay is not None else d for d in rank(found)]


def _from_signatures(evidence: Evidence, context: Context) -> list[Diagnosis]:
    found: list[Diagnosis] = []
    judged: set[str] = set()
    for match in match_all(evidence):
        judge = match.signature.judge
        if judge is None:
            found.append(_named(match, evidence))
        elif judge not in judged:
            judged.add(judge)
            for diagnosis in JUDGES[judge](evidence, context):
                score = match.score + (diagnosis.score or 0)
                lines = tuple(dict.fromkeys((*diagnosis.evidence, *match.evidence)))
                found.append(replace(diagnosis, score=score, evidence=lines))
    return found


def _named(match: Match, evidence: Evidence) -> Diagnosis:
    signature = match.signature
    return Diagnosis.of(
        signature.slug,
        signature.confidence,
        list(dict.fromkeys([*match.evidence, *basics(evidence)])),
        hints=[signature.hint] if signature.hint else [],
        score=match.score,
    )


def _unknown(evidence: Evidence) -> Diagnosis:
    if evidence.is_error:
        return Diagnosis.of(
            "unknown",
            "possible",
            basics(evidence),
            note="The error is real but matches no known type; the fix steps say what to collect next.",
            score=0,
        )
    return Diagnosis.of(
        "unknown",
        "possible",
        [
            f"input read as {evidence.kind}: no HTTP error status, error body or generateContent answer found",
            *([f"text: {evidence.excerpt(200)!r}"] if evidence.message else []),
        ],
        note="Paste the whole error: the JSON body with its details, the SDK exception, or `curl -i` output.",
        score=0,
    )


def retry_seconds(delay: str | None) -> float | None:
    """RetryInfo's delay ("34s", "856.5ms", "1.2s") in seconds."""
    if not delay:
        return None
    found = re.fullmatch(r"\s*([\d.]+)\s*(ms|s)?\s*", delay)
    if not found:
        return None
    try:
        value = float(found.group(1))
    except ValueError:
        return None
    return round(value / 1000 if found.group(2) == "ms" else value, 3)
