"""The one text scanner: fills what the structured readers could not, from the words of the paste.

It reads HTTP and gRPC statuses written in prose ("HTTP Error 429", "Error: 400 POST …", "Code: 400"), quota
violations in every wording Google has used (QuotaFailure text, "Quota exceeded for metric: …, limit: 0",
Vertex's "Quota exceeded for aiplatform.googleapis.com/… with base model: …", the 2024 quota-metric sentence,
protobuf text), ErrorInfo reasons and metadata in protobuf text, retry delays, URLs and network failures.
"""

from __future__ import annotations

import re
from dataclasses import replace

from gemini_doctor.diagnosis.facts import GRPC_TO_HTTP, HTTP_TO_GRPC, Evidence, QuotaViolation
from gemini_doctor.diagnosis.shapes import legacy_violation
from gemini_doctor.knowledge import network_markers

_QUOTA_WORDS = (
    re.compile(r"Quota exceeded for metric:\s*([\w./\-]+),?\s*(?:limit:\s*(\d+))?(?:,\s*model:\s*([\w.\-]+))?", re.I),
    re.compile(r"Quota exceeded for ((?:[\w\-]+\.\s?)+com/\s?[\w./\-]+)(?: with base model: ([\w.\-]+))?"),
)
_QUOTA_SENTENCE = re.compile(r"Quota exceeded for quota metric '([^']+)' and limit '([^']+)'", re.I)
_LIMIT_AFTER = re.compile(r"^\s*\n?\s*limit:\s*(\d+)")
_STATUS_WORDS = (
    re.compile(r"(?:Error code|status(?:[ _]code)?|HTTP(?:/[\d.]+)?(?: Error)?|got status)[:=\s]+([1-5]\d\d)\b", re.I),
    re.compile(
        r"\b([45]\d\d)[ :]+(?:Too Many Requests|Bad Request|Forbidden|Not Found|Unauthorized|Payment Required|"
        r"Internal Server Error|Service Unavailable|Gateway Timeout|Bad Gateway)",
        re.I,
    ),
    re.compile(r"""["']?\bcode["']?\s*(?:[:=]|=>)\s*["']?([1-5]\d\d)\b"""),
    re.compile(r"(?:error|exception)\b[^\n\d]{0,12}?[:(]\s*([45]\d\d)\b", re.I),
    re.compile(r"(?m)^\s*([45]\d\d) [A-Z][a-z]+(?: [a-z]+)*[,.:]"),
)


def scan(evidence: Evidence, text: str) -> None:
    """Fill what the structure did not give from the words of the message and the whole text."""
    haystack = f"{evidence.message}\n{text}" if evidence.message not in text else text
    _scan_metadata(evidence, haystack)
    _scan_quota(evidence, haystack)
    _scan_retry(evidence, haystack)
    if evidence.is_response and not evidence.status:
        return  # a generateContent answer: words in the model's text are not statuses
    for found in re.finditer(r"""reason["']?\s*[:=]\s*\\?["']([A-Z][A-Z_]{3,})\\?["']""", haystack):
        if found.group(1) not in evidence.reasons:
            evidence.reasons.append(found.group(1))
    _scan_status(evidence, haystack)
    if not evidence.message:
        message = re.search(r"""["']message["']\s*:\s*["'](.+?)["']\s*[,}]""", haystack)
        evidence.message = message.group(1) if message else " ".join(text.split())[:2000]
    if evidence.url is None:
        url = re.search(
            r"https?://[^\s'\"<>]*googleapis\.com[^\s'\"<>]*|https?://[^\s'\"<>]*/v1(?:beta)?/[^\s'\"<>]*", haystack
        )
        evidence.url = url.group(0).rstrip(".:,)") if url else None
    if evidence.network_error is None and not evidence.is_response and evidence.http_status in (None, 407, 503):
        evidence.network_error = network_kind(haystack, connect_only=evidence.http_status == 503)
        if evidence.http_status == 407:
            evidence.network_error = "proxy"


def network_kind(text: str, connect_only: bool = False) -> str | None:
    """Which network failure the words name, if any. A 503 counts only when the words say no connection."""
    lowered = text.lower()
    for name, markers in network_markers():
        if connect_only and name != "connect":
            continue
        if any(marker in lowered for marker in markers):
            return name
    return None


def _scan_status(evidence: Evidence, haystack: str) -> None:
    if not evidence.status:
        found = re.search(r"\b(" + "|".join(GRPC_TO_HTTP) + r")\b", haystack)
        camel = re.search(r"\bcode\s*=\s*([A-Z][a-z]+(?:[A-Z][a-z]+)*)\b", haystack)  # Go: code = InvalidArgument
        if found:
            evidence.status = found.group(1)
        elif camel and _snake(camel.group(1)) in GRPC_TO_HTTP:
            evidence.status = _snake(camel.group(1))
    if evidence.http_status is None:
        for pattern in _STATUS_WORDS:
            found = pattern.search(haystack)
            if found:
                evidence.http_status = int(found.group(1))
                break
    if evidence.violations and not evidence.status and evidence.http_status in (None, 429):
        evidence.status = "RESOURCE_EXHAUSTED"  # only a 429 names a quota as exceeded
    if evidence.http_status is None and evidence.status in GRPC_TO_HTTP:
        evidence.http_status = GRPC_TO_HTTP[evidence.status]
    if evidence.status is None and evidence.http_status in HTTP_TO_GRPC:
        evidence.status = HTTP_TO_GRPC[evidence.http_status]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def _scan_metadata(evidence: Evidence, haystack: str) -> None:
    """ErrorInfo metadata printed as protobuf text: `metadata { key: "quota_limit_value" value: "0" }`."""
    for key, value in re.findall(r'metadata\s*\{\s*key:\s*"([^"]+)"\s*value:\s*"([^"]*)"\s*\}', haystack[:200_000]):
        evidence.error_metadata.setdefault(key, value)
    legacy_violation(evidence)
    if evidence.block_reason is None:
        found = re.search(r"block_?reason\s*[:=]\s*<?(?:BlockedReason\.)?([A-Z][A-Z_]{2,})", haystack[:200_000])
        evidence.block_reason = found.group(1) if found else None


def _scan_quota(evidence: Evidence, haystack: str) -> None:
    stated = _quota_from_words(haystack)
    if evidence.violations and all(v.value is None and v.quota_id is None for v in evidence.violations):
        evidence.violations.extend(v for v in stated if v not in evidence.violations)  # the words say more
    elif evidence.violations:
        # Real free-tier bodies leave quotaValue out of QuotaFailure and say "limit: 0" only in the message.
        evidence.violations = [_with_limit_from(v, stated) for v in evidence.violations]
    else:
        evidence.violations.extend(stated)
    if not evidence.violations:
        evidence.violations.extend(_proto_text_violations(haystack))


def _quota_from_words(haystack: str) -> list[QuotaViolation]:
    found: list[QuotaViolation] = []
    for pattern in _QUOTA_WORDS:
        for match in pattern.finditer(haystack[:200_000]):
            metric = "".join(match.group(1).split())
            limit = match.group(2) if pattern is _QUOTA_WORDS[0] else None
            if limit is None:
                after = _LIMIT_AFTER.match(haystack, match.end())
                limit = after.group(1) if after else None
            model = match.group(3) if pattern is _QUOTA_WORDS[0] else match.group(2)
            found.append(
                QuotaViolation(
                    metric=metric, value=int(limit) if limit else None, dimensions={"model": model} if model else {}
                )
            )
        if found:
            return found
    for match in _QUOTA_SENTENCE.finditer(haystack[:200_000]):
        found.append(QuotaViolation(metric=match.group(1), quota_id=match.group(2)))
    return found


def _scan_retry(evidence: Evidence, haystack: str) -> None:
    if evidence.retry_delay is not None:
        return
    found = re.search(r"[Pp]lease retry in ([\d.]+\s*m?s)", haystack) or re.search(
        r"retry_delay\s*\{\s*seconds:\s*(\d+)", haystack
    )
    if found:
        evidence.retry_delay = found.group(1).replace(" ", "")
        if evidence.retry_delay.isdigit():
            evidence.retry_delay += "s"


def _proto_text_violations(text: str) -> list[QuotaViolation]:
    """QuotaFailure violations as google.api_core prints them over gRPC (protobuf text format)."""
    found = []
    for start in re.finditer(r"violations\s*\{", text[:200_000]):
        block = text[start.end() : start.end() + 4000]
        end = block.find("}\n}")
        block = block[: end + 1] if end >= 0 else block

        def field(name: str, block: str = block) -> str | None:
            match = re.search(name + r':\s*"?([^"\n]+?)"?\s*\n', block)
            return match.group(1) if match else None

        dimensions = dict(re.findall(r'key:\s*"([^"]*)"\s*value:\s*"([^"]*)"', block))
        found.append(
            QuotaViolation(
                metric=field("quota_metric"),
                quota_id=field("quota_id"),
                value=_int(field("quota_value")),
                dimensions=dimensions,
            )
        )
    return found


def _with_limit_from(violation: QuotaViolation, stated: list[QuotaViolation]) -> QuotaViolation:
    if violation.value is not None:
        return violation
    for candidate in stated:
        if candidate.metric == violation.metric or len(stated) == 1:
            return replace(violation, value=candidate.value)
    return violation


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
