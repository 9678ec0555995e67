"""The one matcher: scores the evidence against every signature in the catalog, most specific first.

A signature (errors.toml, `[[error.signature]]`) holds when every condition it gives holds. Its score is the
sum of what each condition is worth (an ErrorInfo reason or a finishReason says more than words, words more than
a status code) plus its own `weight`; the best-scoring matches become the diagnoses, the rest are alternatives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from gemini_doctor.diagnosis.facts import Evidence
from gemini_doctor.diagnosis.layers import answering_google
from gemini_doctor.knowledge import Signature, error_types

WORTH = {"reason": 8, "finish": 8, "block": 8, "message": 6, "grpc": 2, "layer": 2, "http": 1}


@dataclass(frozen=True)
class Match:
    signature: Signature
    score: int
    evidence: tuple[str, ...]  # what held, in words, for the report


@cache
def all_signatures() -> tuple[Signature, ...]:
    return tuple(signature for entry in error_types() for signature in entry.signatures)


@cache
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text, re.I)


@cache
def required_literal(pattern: str) -> str | None:
    """A lowercase piece of text every match of `pattern` contains, or None when there is no safe one.

    Only literal runs at the top level count (not inside groups or classes, not made optional by a quantifier,
    and none at all when the pattern has a top-level `|`). Checking it with `in` spares most signatures both
    their compilation and their search: start-up stays light and a long paste is read once per piece.
    """
    runs, run, depth, index = [], "", 0, 0
    while index < len(pattern):
        char, literal = pattern[index], None
        if char == "\\" and index + 1 < len(pattern):
            index += 1
            literal = pattern[index] if not pattern[index].isalnum() else None
        elif char == "[":
            index = _class_end(pattern, index)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return None
        elif char in "?*{":
            run = run[:-1]  # the quantified character may be absent
            if char == "{":
                index = pattern.find("}", index) if "}" in pattern[index:] else len(pattern)
        elif char not in ".^$+":
            literal = char
        if literal is not None and depth == 0:
            run += literal
        elif char != "+":
            runs.append(run)
            run = ""
        index += 1
    runs.append(run)
    best = max(runs, key=len).lower()
    return best if len(best.strip()) >= 4 else None


def _class_end(pattern: str, start: int) -> int:
    index = start + 1
    while index < len(pattern) and pattern[index] != "]":
        index += 2 if pattern[index] == "\\" else 1
    return index


def prepare() -> None:
    """What matching any evidence needs first, made ahead of time (cached): each pattern's required literal, and
    the patterns that have none compiled, since every evidence is searched with them."""
    for signature in all_signatures():
        for text in signature.message:
            if required_literal(text) is None:
                _pattern(text)


def match_all(evidence: Evidence) -> list[Match]:
    """Every signature that holds for the evidence, best score first."""
    haystack = evidence.haystack
    lowered = haystack.lower()
    found = [m for s in all_signatures() if (m := _match(s, evidence, haystack, lowered)) is not None]
    return sorted(found, key=lambda m: -m.score)


def _match(signature: Signature, evidence: Evidence, haystack: str, lowered: str) -> Match | None:
    said: list[str] = []
    score = signature.weight
    checks = (
        ("http", signature.http, lambda: _http(signature, evidence)),
        ("grpc", signature.grpc, lambda: _grpc(signature, evidence)),
        ("reason", signature.reason, lambda: _reason(signature, evidence)),
        ("finish", signature.finish, lambda: _finish(signature, evidence)),
        ("block", signature.block, lambda: _block(evidence)),
        ("message", signature.message, lambda: _words(signature, haystack, lowered)),
        ("layer", signature.layer, lambda: _layer(signature, evidence)),
    )
    for kind, condition, test in checks:
        if not condition:
            continue
        held = test()
        if held is None:
            return None
        score += WORTH[kind]
        said.append(held)
    return Match(signature, score, tuple(said)) if said else None


def _http(signature: Signature, evidence: Evidence) -> str | None:
    return f"HTTP {evidence.http_status}" if evidence.http_status in signature.http else None


def _grpc(signature: Signature, evidence: Evidence) -> str | None:
    return f"status {evidence.status}" if evidence.status in signature.grpc else None


def _reason(signature: Signature, evidence: Evidence) -> str | None:
    named = [r for r in evidence.reasons if r.upper() in signature.reason]
    return f"ErrorInfo.reason {named[0]}" if named else None


def _finish(signature: Signature, evidence: Evidence) -> str | None:
    if evidence.final_images:
        return None
    named = [r for r in evidence.finish_reasons if r.upper() in signature.finish]
    return f"finishReason {named[0]} and no image in the answer" if named else None


def _layer(signature: Signature, evidence: Evidence) -> str | None:
    google = answering_google(evidence)
    return f"{google} answered" if google in signature.layer else None


def _block(evidence: Evidence) -> str | None:
    return f"promptFeedback.blockReason {evidence.block_reason}" if evidence.block_reason else None


def _words(signature: Signature, haystack: str, lowered: str) -> str | None:
    for text in signature.message:
        needle = required_literal(text)
        if needle is not None and needle not in lowered:
            continue
        found = _pattern(text).search(haystack)
        if found:
            words = " ".join(found.group(0).split())
            return f"the text says {words[:120]!r}"
    return None
