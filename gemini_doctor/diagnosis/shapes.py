"""One tolerant extractor per shape a paste arrives in; each fills the Evidence it can and leaves the rest.

Shapes: google.rpc.Status JSON (with details), the Interactions API's error, generateContent answers (also
streamed), `curl -i` / `curl -v`, google-genai exception text, `print(response)` reprs, the JS SDKs' messages,
google.api_core text, and an error body embedded anywhere in a log or inside another layer's error (a relay's
JSON holding Google's JSON as a string, sometimes twice). Structures are parsed by `tolerant`, so cut-off
bodies, Python reprs and JavaScript literals are read rather than refused. Pure functions: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from typing import Any

from gemini_doctor.diagnosis.facts import (
    API_CORE_CLASSES,
    INTERACTIONS_CODES,
    Evidence,
    ImagePart,
    QuotaViolation,
)
from gemini_doctor.diagnosis.tolerant import parse_at, structures
from gemini_doctor.images import ImageInfo, sniff

MAX_IMAGE_BYTES_DECODED = 64 * 1024  # the header is all a size needs
MAX_UNWRAP = 3  # Google's error inside a relay's inside another's: deeper than that is not seen
ERROR_OPENER = re.compile(r"""(?:%?\{|\barray\()\s*["'`]?error["'`]?\s*(?::|=>)""")
RESPONSE_OPENER = re.compile(r"""\{\s*["']?(?:candidates|promptFeedback|prompt_feedback)["']?\s*:""")
SSE_LINE = re.compile(r"(?m)^data:\s*([\[{].*)$")


def read_shape(text: str) -> Evidence:
    """The shape the whole paste has, read as far as it goes."""
    if text.startswith("data:") and (streamed := _read_sse(text)):
        return streamed
    if re.match(r"(?:[*<>]\s*)?HTTP/[\d.]+\s+\d{3}", text) or re.search(r"(?m)^<\s*HTTP/[\d.]+\s+\d{3}", text):
        return _read_curl(text)
    if text[:1] in "{[" or text.startswith("%{"):
        evidence = _read_structure_text(text)
        if evidence is not None:
            return evidence
    return read_text(text)


def _read_structure_text(text: str) -> Evidence | None:
    parsed = parse_at(text, 0)
    if parsed is None:
        evidence = read_text(text)
        evidence.notes.append("it starts like JSON but does not parse as any known structure; read as text")
        return evidence
    evidence = Evidence(kind="json")
    read_document(evidence, parsed.value)
    if not parsed.complete:
        evidence.notes.append(f"the body is cut off after {len(text)} characters; what was there was read")
    elif text[parsed.end :].strip():
        evidence.notes.append("text after the body was searched for error words only")
    if evidence.kind == "json" and not (evidence.status or evidence.http_status or evidence.message):
        return None
    return evidence


def _read_sse(text: str) -> Evidence | None:
    """A streamed answer (`alt=sse`): every `data:` line is one chunk; all of them are read."""
    chunks = [parse_at(found.group(1), 0) for found in SSE_LINE.finditer(text)]
    values = [chunk.value for chunk in chunks if chunk is not None]
    if not values:
        return None
    evidence = Evidence(kind="server-sent events stream")
    read_document(evidence, values)
    return evidence


def _read_curl(text: str) -> Evidence:
    """`curl -i` (status line, headers, body) or `curl -v` (lines prefixed with `< `)."""
    lines = text.splitlines()
    if any(line.startswith("< ") or line == "<" for line in lines):
        head = [line[2:] if line.startswith("< ") else "" for line in lines if line.startswith("<")]
        progress = re.compile(r"^[{}] \[\d+ bytes data\]$")  # curl's own notes, not the body
        body = "\n".join(x for x in lines if not x.startswith(("<", ">", "*")) and not progress.match(x))
    else:
        # The last status block wins: `HTTP/1.1 200 Connection established` from a proxy comes first.
        starts = [i for i, line in enumerate(lines) if re.match(r"HTTP/[\d.]+\s+\d{3}", line)]
        block = lines[starts[-1] :] if starts else lines
        blank = next((i for i, line in enumerate(block) if not line.strip()), len(block))
        head, body = block[:blank], "\n".join(block[blank + 1 :])
    evidence = Evidence(kind="curl")
    _read_headers(evidence, head)
    request_line = re.search(r"(?m)^>\s*(?:POST|GET)\s+(\S+)", text)
    host = re.search(r"(?m)^>\s*[Hh]ost:\s*(\S+)", text)
    if request_line:
        evidence.url = f"https://{host.group(1)}{request_line.group(1)}" if host else request_line.group(1)
    body = body.strip()
    if body:
        inner = read_body(body)
        status_from_head = evidence.http_status
        merge(evidence, inner)
        evidence.http_status = status_from_head or evidence.http_status
        if inner.kind == "html":
            evidence.html_title = inner.html_title or ""
    return evidence


def _read_headers(evidence: Evidence, head: list[str]) -> None:
    for line in head:
        status = re.match(r"HTTP/[\d.]+\s+(\d{3})", line)
        if status:
            evidence.http_status = int(status.group(1))
            evidence.headers = {}
        elif ":" in line:
            name, _, value = line.partition(":")
            evidence.headers[name.strip().lower()] = value.strip()


def read_body(body: str) -> Evidence:
    """An HTTP body: JSON (forgivingly), an SSE stream, an HTML page, or text."""
    if body.startswith("data:") and (streamed := _read_sse(body)):
        return streamed
    if body[:1] in "{[":
        parsed = parse_at(body, 0)
        if parsed is not None:
            evidence = Evidence(kind="json")
            read_document(evidence, parsed.value)
            if not parsed.complete:
                evidence.notes.append("the body is cut off; what was there was read")
            return evidence
    if looks_like_html(body):
        return Evidence(kind="html", html_title=html_title(body))
    return read_text(body)


def read_text(text: str) -> Evidence:
    """Free text: SDK exception messages, tracebacks, logs. Structured parts embedded in it are read too."""
    for reader in (_read_genai_exception, _read_sdk_response_repr, _read_js_sdk, _read_api_core):
        evidence = reader(text)
        if evidence is not None:
            return evidence
    evidence = Evidence(kind="text")
    if not read_embedded(evidence, text):
        evidence.message = text
    return evidence


def _read_genai_exception(text: str) -> Evidence | None:
    genai = re.search(r"\b([1-5]\d\d) ([A-Z_]{4,}|[A-Z][A-Za-z ]{2,40})\. ([{\[].*)", text, re.S)
    if not genai:
        return None
    evidence = Evidence(kind="google-genai exception", http_status=int(genai.group(1)))
    evidence.status = genai.group(2) if re.fullmatch(r"[A-Z_]+", genai.group(2)) else None
    parsed = parse_at(genai.group(3), 0)
    if parsed is not None and isinstance(parsed.value, dict):
        read_document(evidence, parsed.value)
        if isinstance(parsed.value.get("message"), str) and not evidence.message:
            evidence.message = parsed.value["message"]
        if not parsed.complete:
            evidence.notes.append("the exception text is cut off; what was there was read")
    if looks_like_html(evidence.message):  # the SDK wraps a gateway's HTML page as the message
        evidence.html_title = html_title(evidence.message)
    return evidence


def _read_sdk_response_repr(text: str) -> Evidence | None:
    """`print(response)` of google-genai: GenerateContentResponse(...) with enum reprs, no JSON."""
    if "GenerateContentResponse(" not in text and "finish_reason=<FinishReason." not in text:
        return None
    evidence = Evidence(kind="google-genai response repr", is_response=True, http_status=200)
    evidence.finish_reasons = re.findall(r"finish_reason=<FinishReason\.(\w+)", text)
    block = re.search(r"block_reason=<BlockedReason\.(\w+)", text)
    evidence.block_reason = block.group(1) if block else None
    for mime in re.findall(r"inline_data=Blob\([^)]*?mime_type='([^']+)'", text, re.S):
        evidence.images.append(ImagePart(declared_mime=mime, info=ImageInfo(mime.rsplit("/", 1)[-1])))
    evidence.texts = [t for t in re.findall(r"\btext='([^']*)'", text) if t]
    evidence.message = " ".join(text.split())[:2000]
    return evidence


def _read_js_sdk(text: str) -> Evidence | None:
    js = re.search(r"\[GoogleGenerativeAI Error\]:?(.*)", text, re.S)
    if not js:
        return None
    evidence = Evidence(kind="JS SDK error")
    bracket = re.search(r"\[(\d{3})(?: ([^\]]*))?\]\s*(.*)", js.group(1), re.S)
    if bracket:
        evidence.http_status = int(bracket.group(1))
        rest = bracket.group(3)
        cut = rest.find("[{")
        evidence.message = (rest[:cut] if cut >= 0 else rest).strip()
        details = parse_at(rest, cut) if cut >= 0 else None
        if details is not None and isinstance(details.value, list):
            read_details(evidence, details.value)
    else:
        evidence.message = js.group(1).strip()
    url = re.search(r"https?://\S+?(?=:\s|\s|$)", js.group(1))
    evidence.url = url.group(0) if url else None
    return evidence


def _read_api_core(text: str) -> Evidence | None:
    api_core = re.search(r"google\.\s?api_core\.\s?exceptions\.?\s?(\w+):\s*(?:(\d{3})\s+)?(.*)", text, re.S | re.I)
    if not api_core:
        return None
    evidence = Evidence(kind="google.api_core exception")
    evidence.http_status = int(api_core.group(2)) if api_core.group(2) else API_CORE_CLASSES.get(api_core.group(1))
    evidence.message = api_core.group(3).strip()
    read_embedded(evidence, text)
    return evidence


def read_embedded(evidence: Evidence, text: str) -> bool:
    """An error body (JSON, Python repr, JS or Elixir literal) anywhere in the text, as loggers embed it."""
    for _, parsed in structures(text, ERROR_OPENER, limit=3):
        if isinstance(parsed.value, dict) and parsed.value.get("error") is not None:
            if evidence.kind == "text":
                evidence.kind = "text with an embedded error body"
            read_document(evidence, parsed.value)
            if not parsed.complete:
                evidence.notes.append("the embedded error body is cut off; what was there was read")
            return True
    for _, parsed in structures(text, RESPONSE_OPENER, limit=3):
        if isinstance(parsed.value, dict):
            evidence.kind = "text with an embedded response body"
            read_document(evidence, parsed.value)
            return True
    return False


def error_bodies(text: str, limit: int = 20) -> list[tuple[int, int]]:
    """The spans of every error body in a paste: several in one log are diagnosed one by one."""
    return [
        (start, parsed.end)
        for start, parsed in structures(text, ERROR_OPENER, limit=limit)
        if isinstance(parsed.value, dict) and parsed.value.get("error") is not None
    ]


def read_document(evidence: Evidence, doc: Any) -> None:
    if isinstance(doc, list):
        responses = [item for item in doc if isinstance(item, dict)]
        errors = [item for item in responses if "error" in item]
        if errors:
            read_document(evidence, errors[0])
            return
        for item in responses:  # a streamed answer pasted as a JSON array
            _read_response(evidence, item)
        return
    if not isinstance(doc, dict):
        return
    error = doc.get("error")
    if isinstance(error, dict):
        _read_status(evidence, error)
    elif isinstance(error, str) and error:  # {"error": "text"} of relays and apps
        evidence.message = evidence.message or error
        if isinstance(doc.get("response"), dict):
            read_document(evidence, doc["response"])
    elif any(key in doc for key in ("candidates", "promptFeedback", "prompt_feedback", "usageMetadata")):
        _read_response(evidence, doc)
    elif "code" in doc and "message" in doc:
        _read_status(evidence, doc)
    elif isinstance(doc.get("response"), dict):  # a saved {request, response} pair
        read_document(evidence, doc["response"])
    elif isinstance(doc.get("data"), dict | list):  # a logger's {"data": {...}} envelope
        read_document(evidence, doc["data"])


def _read_status(evidence: Evidence, error: dict) -> None:
    code = error.get("code")
    if isinstance(code, str) and not code.isdigit():
        evidence.kind = "Interactions API error" if evidence.kind == "json" else evidence.kind
        evidence.status = INTERACTIONS_CODES.get(code.lower(), code.upper() if code.isidentifier() else None)
        evidence.reasons.append(code)
    elif code is not None:
        with contextlib.suppress(TypeError, ValueError):
            evidence.http_status = int(code)
        if evidence.kind == "json":
            evidence.kind = "google.rpc.Status JSON"
    if isinstance(error.get("status"), str) and re.fullmatch(r"[A-Z_]{4,}", error["status"]):
        evidence.status = error["status"]
    if isinstance(error.get("message"), str):
        evidence.message = error["message"]
    details = error.get("details")
    if isinstance(details, list):
        read_details(evidence, details)
    metadata = error.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("raw"), str):  # OpenRouter keeps Google's text here
        evidence.message = f"{evidence.message}\n{metadata['raw']}".strip()


def read_details(evidence: Evidence, details: list) -> None:
    for detail in details:
        if not isinstance(detail, dict):
            continue
        kind = str(detail.get("@type", "")).rsplit("/", 1)[-1].rsplit(".", 1)[-1]
        if kind == "ErrorInfo":
            if detail.get("reason"):
                evidence.reasons.append(str(detail["reason"]))
            metadata = detail.get("metadata")
            if isinstance(metadata, dict):
                evidence.error_metadata.update({str(k): str(v) for k, v in metadata.items()})
        elif kind == "QuotaFailure":
            for violation in _list(detail.get("violations")):
                if isinstance(violation, dict):
                    evidence.violations.append(_violation(violation))
        elif kind == "RetryInfo":
            delay = detail.get("retryDelay") or detail.get("retry_delay")
            evidence.retry_delay = str(delay) if delay is not None else None
        elif kind == "BadRequest":
            for violation in _list(detail.get("fieldViolations") or detail.get("field_violations")):
                if isinstance(violation, dict):
                    evidence.field_violations.append(
                        (str(violation.get("field", "")), str(violation.get("description", "")))
                    )
    legacy_violation(evidence)


def legacy_violation(evidence: Evidence) -> None:
    """The 2024 shape: the quota named in ErrorInfo metadata (quota_metric, quota_limit, quota_limit_value)."""
    legacy = evidence.error_metadata
    if ("quota_limit" in legacy or "quota_metric" in legacy) and not evidence.violations:
        evidence.violations.append(
            QuotaViolation(
                metric=legacy.get("quota_metric"),
                quota_id=legacy.get("quota_limit"),
                value=_int(legacy.get("quota_limit_value")),
                dimensions={"location": legacy["quota_location"]} if "quota_location" in legacy else {},
            )
        )


def _violation(raw: dict) -> QuotaViolation:
    dimensions = raw.get("quotaDimensions") or raw.get("quota_dimensions") or {}
    return QuotaViolation(
        metric=_str(raw.get("quotaMetric") or raw.get("quota_metric")),
        quota_id=_str(raw.get("quotaId") or raw.get("quota_id")),
        value=_int(raw.get("quotaValue", raw.get("quota_value"))),
        dimensions={str(k): str(v) for k, v in dimensions.items()} if isinstance(dimensions, dict) else {},
        description=_str(raw.get("description")),
    )


def _read_response(evidence: Evidence, doc: dict) -> None:
    """An HTTP 200 generateContent body (or one chunk of a stream)."""
    evidence.is_response = True
    evidence.http_status = evidence.http_status or 200
    if evidence.kind in ("json", "text"):
        evidence.kind = "generateContent response"
    feedback = doc.get("promptFeedback") or doc.get("prompt_feedback") or {}
    if isinstance(feedback, dict):
        reason = feedback.get("blockReason") or feedback.get("block_reason")
        if reason:
            evidence.block_reason = str(reason)
    evidence.model_version = _str(doc.get("modelVersion") or doc.get("model_version")) or evidence.model_version
    usage = doc.get("usageMetadata") or {}
    if isinstance(usage, dict):
        for item in _list(usage.get("candidatesTokensDetails")):
            if isinstance(item, dict) and item.get("modality") == "IMAGE":
                evidence.image_tokens = _int(item.get("tokenCount"))
    for candidate in _list(doc.get("candidates")):
        if isinstance(candidate, dict):
            _read_candidate(evidence, candidate)


def _read_candidate(evidence: Evidence, candidate: dict) -> None:
    reason = candidate.get("finishReason") or candidate.get("finish_reason")
    if reason:
        evidence.finish_reasons.append(str(reason))
    message = candidate.get("finishMessage") or candidate.get("finish_message")
    if message:
        evidence.finish_message = str(message)
    content = candidate.get("content") or {}
    parts = content.get("parts") if isinstance(content, dict) else None
    for part in _list(parts):
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str) and not part.get("thought"):
            evidence.texts.append(part["text"])
        blob = part.get("inlineData") or part.get("inline_data")
        if isinstance(blob, dict):
            evidence.images.append(
                ImagePart(
                    declared_mime=_str(blob.get("mimeType") or blob.get("mime_type")),
                    info=_image_info(blob.get("data")),
                    thought=bool(part.get("thought")),
                )
            )


def _image_info(data: Any) -> ImageInfo:
    if not isinstance(data, str):
        return ImageInfo("unknown")
    head = data[: MAX_IMAGE_BYTES_DECODED * 4 // 3].strip()
    head = head[: len(head) - len(head) % 4]
    try:
        raw = base64.b64decode(head, validate=False) if "-" not in head else base64.urlsafe_b64decode(head)
    except (binascii.Error, ValueError):
        return ImageInfo("unknown")
    return sniff(raw)


def unwrap(evidence: Evidence, depth: int = 0) -> Evidence:
    """Google's error carried as text inside another layer's error: read it and let it speak."""
    message = evidence.message
    start = message.find("{")
    if depth >= MAX_UNWRAP or start < 0 or not re.search(r"""["']?error["']?\s*(?::|=>)""", message[start:]):
        return evidence
    inner = unwrap(read_text(message[start:]), depth + 1)
    if not (inner.status or inner.reasons or inner.violations or inner.is_response or inner.wrapped):
        return evidence
    outer_status = evidence.http_status
    outer_message = message[:start].strip(" :.-")
    merge(evidence, inner)
    evidence.wrapped = True
    if outer_message and outer_message not in evidence.message:
        evidence.notes.append(f"the outer layer said: {outer_message[:160]!r}")
    if outer_status and inner.http_status and outer_status != inner.http_status:
        evidence.notes.append(f"the outer layer answered {outer_status}; Google's error inside: {inner.http_status}")
    return evidence


def merge(target: Evidence, source: Evidence) -> None:
    for name in Evidence.__dataclass_fields__:
        value = getattr(source, name)
        if name in ("kind", "raw", "layers"):
            continue
        if name == "notes":
            target.notes.extend(n for n in value if n not in target.notes)
        elif value not in (None, "", [], {}, False):
            setattr(target, name, value)


def looks_like_html(text: str) -> bool:
    head = text[:2000].lower()
    return "<html" in head or "<!doctype html" in head or ("<body" in head and "</" in head)


def is_google_error_page(title: str | None) -> bool:
    """Google's front end titles its own error pages "Error 404 (Not Found)!!1"."""
    return bool(title and re.fullmatch(r"\s*Error \d{3} \([^)]*\)!!1\s*", title))


def html_title(text: str) -> str:
    """The page's <title>, or "" when it has none."""
    title = re.search(r"(?is)<title[^>]*>(.*?)</title>", text[:20000])
    return " ".join(title.group(1).split())[:120] if title else ""


def _list(value: Any) -> list:
    """A JSON array, or nothing: hostile or odd answers put other types where lists belong."""
    return value if isinstance(value, list) else []


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
