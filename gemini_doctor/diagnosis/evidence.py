"""Turn whatever a user pasted into typed Evidence, without being told what it is.

The flow: redact → undo forum and terminal damage (`tolerant.normalise`) → read the shape the paste has
(`shapes`) → unwrap Google's error from inside a relay's → fill the gaps from the words (`scan`) → name the
layers it passed through (`layers`). A messy paste is read as far as it goes and `notes` say what could not be
read; only input with nothing to read (empty, binary) is refused. Pure functions: no I/O, no network.
"""

from __future__ import annotations

from dataclasses import dataclass

from gemini_doctor.diagnosis.facts import (
    API_CORE_CLASSES,
    GRPC_TO_HTTP,
    HTTP_TO_GRPC,
    Evidence,
    ImagePart,
    QuotaViolation,
)
from gemini_doctor.diagnosis.layers import find_layers
from gemini_doctor.diagnosis.scan import network_kind, scan
from gemini_doctor.diagnosis.shapes import (
    error_bodies,
    html_title,
    is_google_error_page,
    looks_like_html,
    read_body,
    read_shape,
    unwrap,
)
from gemini_doctor.diagnosis.tolerant import normalise
from gemini_doctor.input_error import InputError
from gemini_doctor.redact import redact

__all__ = [
    "API_CORE_CLASSES",
    "GRPC_TO_HTTP",
    "HTTP_TO_GRPC",
    "Evidence",
    "ImagePart",
    "QuotaViolation",
    "Reading",
    "network_evidence",
    "read_all",
    "read_evidence",
    "read_http_answer",
]


@dataclass(frozen=True)
class Reading:
    """One distinct error of a paste, and how many times the paste holds it."""

    evidence: Evidence
    count: int = 1


def read_evidence(text: str) -> Evidence:
    """Read any pasted text; raises InputError only when there is nothing to read (empty or binary)."""
    return _read_one(_prepared(text))


def read_all(text: str) -> list[Reading]:
    """Every distinct error in a paste (a log can hold several), most frequent first, each read in full."""
    stripped = _prepared(text)
    fixed, _ = normalise(stripped)
    spans = error_bodies(fixed)
    if len(spans) < 2:
        return [Reading(_read_one(stripped))]
    readings: dict[tuple, Reading] = {}
    for start, end in spans:
        evidence = _read_one(fixed[start:end], context=fixed)
        key = (evidence.http_status, evidence.status, " ".join(evidence.message.split())[:160])
        seen = readings.get(key)
        readings[key] = Reading(seen.evidence if seen else evidence, (seen.count if seen else 0) + 1)
    if len(readings) == 1:
        only = next(iter(readings.values()))
        return [Reading(_read_one(stripped), only.count)]
    return sorted(readings.values(), key=lambda r: -r.count)


def _prepared(text: str) -> str:
    text = redact(text)
    if "\x00" in text:
        raise InputError("input is binary (it contains NUL bytes); paste the error text or the JSON body")
    stripped = text.strip().lstrip("\ufeff").strip()
    if not stripped:
        raise InputError("input is empty; paste the error text, the JSON body or `curl -i` output")
    return stripped


def _read_one(text: str, context: str | None = None) -> Evidence:
    fixed, notes = normalise(text)
    evidence = unwrap(read_shape(fixed))
    evidence.raw = fixed
    evidence.notes[:0] = notes
    scan(evidence, fixed)
    if evidence.kind == "text" and looks_like_html(fixed) and not evidence.status:
        evidence.kind = "HTML page"
        evidence.html_title = html_title(fixed)
        evidence.notes.append(
            "an HTML error page of Google's front end: the address reached Google but is no API"
            if is_google_error_page(evidence.html_title)
            else "an HTML page is not an answer of the Gemini API: a proxy or portal answered"
        )
    evidence.layers = find_layers(evidence, context or fixed)
    if not (evidence.is_error or evidence.is_response):
        evidence.notes.append("no HTTP status, error body or generateContent answer was found: read the words only")
    return evidence


def read_http_answer(status: int, body: str, url: str | None = None) -> Evidence:
    """Evidence from an HTTP answer a probe received; never raises, whatever the body holds."""
    body = redact(body)
    stripped = body.strip()
    if stripped and looks_like_html(stripped) and not stripped.startswith("{"):
        evidence = Evidence(kind="html", html_title=html_title(stripped))
    elif stripped:
        evidence = unwrap(read_body(stripped))
    else:
        evidence = Evidence(kind="empty body")
    if status >= 400 or evidence.http_status is None:
        evidence.http_status = status
    evidence.url = redact(url) if url else evidence.url
    evidence.raw = stripped[:100_000]
    if status >= 400 and evidence.html_title is None:
        scan(evidence, stripped[:100_000])
    elif status < 300 and not evidence.is_response and evidence.html_title is None and evidence.kind != "json":
        evidence.message = evidence.message or f"HTTP {status} with a body that is not a Gemini answer"
    return evidence


def network_evidence(error: BaseException, url: str | None = None) -> Evidence:
    """Evidence from a client exception (httpx or the GCP clients): which network layer failed."""
    text = redact(f"{type(error).__name__}: {error}")
    evidence = Evidence(kind="network error", message=text, url=redact(url) if url else None, raw=text)
    evidence.network_error = network_kind(text)
    if evidence.network_error is None:
        kind = type(error).__name__.lower()
        evidence.network_error = (
            "timeout"
            if "timeout" in kind
            else "proxy"
            if "proxy" in kind
            else "tls"
            if "ssl" in kind
            else "refused"
            if "connect" in kind
            else "reset"
        )
    return evidence
