"""Turn whatever a user pasted into typed Evidence, without being told what it is.

Reads google.rpc.Status JSON (with details), the Interactions API's error shape, google-genai exception text (a
Python dict repr), google.api_core exception text, the JS SDKs' messages, OpenAI-SDK errors from the compatible
endpoint, `curl -i` / `curl -v` output, HTTP 200 generateContent bodies, and plain network-error text.
Pure functions: no I/O, no network.
"""

from __future__ import annotations

import ast
import base64
import binascii
import contextlib
import itertools
import json
import re
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

from gemini_doctor.images import ImageInfo, sniff
from gemini_doctor.input_error import InputError
from gemini_doctor.redact import redact

GRPC_TO_HTTP = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ABORTED": 409,
    "ALREADY_EXISTS": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    "DATA_LOSS": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
HTTP_TO_GRPC = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
# google.api_core exception class names and the HTTP status each stands for.
API_CORE_CLASSES = {
    "BadRequest": 400,
    "InvalidArgument": 400,
    "FailedPrecondition": 400,
    "OutOfRange": 400,
    "Unauthorized": 401,
    "Unauthenticated": 401,
    "Forbidden": 403,
    "PermissionDenied": 403,
    "NotFound": 404,
    "TooManyRequests": 429,
    "ResourceExhausted": 429,
    "InternalServerError": 500,
    "ServiceUnavailable": 503,
    "GatewayTimeout": 504,
    "DeadlineExceeded": 504,
}
# Interactions API error codes are strings; these are the ones a Status name can be read from.
INTERACTIONS_CODES = {
    "invalid_request": "INVALID_ARGUMENT",
    "invalid_argument": "INVALID_ARGUMENT",
    "failed_precondition": "FAILED_PRECONDITION",
    "unauthenticated": "UNAUTHENTICATED",
    "permission_denied": "PERMISSION_DENIED",
    "not_found": "NOT_FOUND",
    "rate_limit_exceeded": "RESOURCE_EXHAUSTED",
    "resource_exhausted": "RESOURCE_EXHAUSTED",
    "internal": "INTERNAL",
    "internal_error": "INTERNAL",
    "unavailable": "UNAVAILABLE",
    "overloaded": "UNAVAILABLE",
    "deadline_exceeded": "DEADLINE_EXCEEDED",
}

# Network failures, by the words the usual clients (Python, curl, Node, Go) print for them.
NETWORK_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "proxy",
        (
            "407 proxy authentication",
            "proxy authentication required",
            "proxyerror",
            "tunnel connection failed",
            "unable to connect to proxy",
            "cannot connect to proxy",
            "curl: (5)",
            "curl: (56) connect tunnel",
        ),
    ),
    (
        "tls",
        (
            "certificate_verify_failed",
            "certificate verify failed",
            "self-signed certificate",
            "self signed certificate",
            "unable to get local issuer certificate",
            "self_signed_cert_in_chain",
            "unable_to_verify_leaf_signature",
            "sslerror",
            "ssl: ",
            "tlsv1 alert",
            "wrong version number",
            "curl: (60)",
            "curl: (35)",
            "x509: certificate",
        ),
    ),
    (
        "dns",
        (
            "name or service not known",
            "nodename nor servname",
            "getaddrinfo failed",
            "getaddrinfo enotfound",
            "temporary failure in name resolution",
            "nameresolutionerror",
            "could not resolve host",
            "no address associated with hostname",
            "[errno -2]",
            "[errno -3]",
            "[errno 8]",
            "[errno 11001]",
            "enotfound",
            "eai_again",
            "no such host",
            "curl: (6)",
        ),
    ),
    ("refused", ("connection refused", "econnrefused", "[errno 111]", "[errno 61]", "actively refused", "curl: (7)")),
    (
        "timeout",
        (
            "readtimeout",
            "connecttimeout",
            "timed out",
            "etimedout",
            "timeouterror",
            "curl: (28)",
            "deadline exceeded while",
            "i/o timeout",
        ),
    ),
    (
        "reset",
        (
            "connection reset",
            "econnreset",
            "remoteprotocolerror",
            "server disconnected",
            "peer closed connection",
            "incompleteread",
            "curl: (52)",
            "curl: (56)",
            "socket hang up",
            "connection aborted",
            "broken pipe",
        ),
    ),
)

MAX_IMAGE_BYTES_DECODED = 64 * 1024  # the header is all a size needs
MAX_CANDIDATES = 3  # embedded bodies tried per text: keeps a log full of unbalanced braces linear
MAX_STRUCTURE_CHARS = 12 * 1024 * 1024  # an embedded body larger than any real answer is not one


@dataclass(frozen=True)
class QuotaViolation:
    metric: str | None = None
    quota_id: str | None = None
    value: int | None = None
    dimensions: dict[str, str] = field(default_factory=dict)
    description: str | None = None

    @property
    def free_tier(self) -> bool:
        text = f"{self.metric or ''} {self.quota_id or ''}".lower()
        return "free_tier" in text or "freetier" in text

    @property
    def per_day(self) -> bool:
        text = f"{self.metric or ''} {self.quota_id or ''}".lower()
        return "perday" in text or "per_day" in text

    @property
    def model(self) -> str | None:
        return self.dimensions.get("model")

    def describe(self) -> str:
        bits = [
            f"quotaId {self.quota_id}" if self.quota_id else None,
            f"metric {self.metric}" if self.metric else None,
            f"value {self.value}" if self.value is not None else None,
            f"model {self.model}" if self.model else None,
        ]
        return ", ".join(b for b in bits if b)


@dataclass(frozen=True)
class ImagePart:
    declared_mime: str | None
    info: ImageInfo
    thought: bool = False


@dataclass
class Evidence:
    """What the input says, normalised; every field optional because inputs carry different parts."""

    kind: str = "text"
    http_status: int | None = None
    status: str | None = None
    message: str = ""
    reasons: list[str] = field(default_factory=list)
    error_metadata: dict[str, str] = field(default_factory=dict)
    violations: list[QuotaViolation] = field(default_factory=list)
    retry_delay: str | None = None
    field_violations: list[tuple[str, str]] = field(default_factory=list)
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    is_response: bool = False
    images: list[ImagePart] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    finish_reasons: list[str] = field(default_factory=list)
    finish_message: str | None = None
    block_reason: str | None = None
    model_version: str | None = None
    image_tokens: int | None = None
    network_error: str | None = None
    html_title: str | None = None
    raw: str = ""

    @property
    def is_error(self) -> bool:
        return bool(
            (self.http_status and self.http_status >= 400)
            or self.status
            or self.network_error
            or self.html_title is not None
        )

    @property
    def final_images(self) -> list[ImagePart]:
        """Images that are the answer, not interim "thought" renders."""
        return [image for image in self.images if not image.thought]

    @property
    def model(self) -> str | None:
        """A model name the input itself mentions (URL, message, quota dimension)."""
        for text in (self.url or "", self.message):
            found = re.search(r"models/([A-Za-z0-9._\-]+)", text)
            if found:
                return found.group(1).rstrip(".")
        for violation in self.violations:
            if violation.model:
                return violation.model
        return self.model_version

    @property
    def api_version(self) -> str | None:
        for text in (self.url or "", self.message):
            found = re.search(r"/(v1(?:beta|alpha)?\d*)/", text) or re.search(r"for API version (v\w+)", text)
            if found:
                return found.group(1)
        return None

    def excerpt(self, limit: int = 300) -> str:
        text = " ".join(self.message.split())
        return text if len(text) <= limit else text[: limit - 1] + "…"


def read_evidence(text: str) -> Evidence:
    """Read any pasted text; raises InputError when it is not something the doctor can read."""
    text = redact(text)
    if "\x00" in text:
        raise InputError("input is binary (it contains NUL bytes); paste the error text or the JSON body")
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        raise InputError("input is empty; paste the error text, the JSON body or `curl -i` output")
    evidence = _read(stripped)
    evidence.raw = stripped
    _scan_text(evidence, stripped)
    if evidence.kind == "text" and _looks_like_html(stripped) and not evidence.status:
        raise InputError(
            f"input is an HTML page{_title_clause(stripped)}, not an answer of the Gemini API: a proxy, gateway "
            "or captive portal answered instead of Google; run `gemini-doctor check` to test the path"
        )
    return evidence


SSE_LINE = re.compile(r"(?m)^data:\s*([\[{].*)$")


def _read_sse(text: str) -> Evidence | None:
    """A streamed answer (`alt=sse`): every `data:` line is one chunk; all of them are read."""
    chunks = [_structure_at(found.group(1), 0) for found in SSE_LINE.finditer(text)]
    chunks = [chunk for chunk in chunks if chunk is not None]
    if not chunks:
        return None
    evidence = Evidence(kind="server-sent events stream")
    _read_document(evidence, chunks)
    return evidence


def _read(text: str) -> Evidence:
    if text.startswith("data:") and (streamed := _read_sse(text)):
        return streamed
    if re.match(r"(?:[*<>]\s*)?HTTP/[\d.]+\s+\d{3}", text) or re.search(r"(?m)^<\s*HTTP/[\d.]+\s+\d{3}", text):
        return _read_curl(text)
    if text[0] in "{[":
        try:
            doc = json.loads(text)
        except RecursionError:
            raise InputError("input nests deeper than any API answer does; paste the error body itself") from None
        except json.JSONDecodeError as exc:
            doc = _python_literal(text)
            if doc is None:
                raise InputError(
                    f"input looks like JSON but does not parse ({exc.msg} at line {exc.lineno}, column "
                    f"{exc.colno}): it may be cut off; paste the whole body"
                ) from None
        evidence = Evidence(kind="json")
        _read_document(evidence, doc)
        return evidence
    return _read_text(text)


def _read_curl(text: str) -> Evidence:
    """`curl -i` (status line, headers, body) or `curl -v` (lines prefixed with `< `)."""
    lines = text.splitlines()
    verbose = any(line.startswith("< ") or line == "<" for line in lines)
    if verbose:
        response = [line[2:] if line.startswith("< ") else "" for line in lines if line.startswith("<")]
        progress = re.compile(r"^[{}] \[\d+ bytes data\]$")  # curl's own notes, not the body
        body_lines = [line for line in lines if not line.startswith(("<", ">", "*")) and not progress.match(line)]
        head, body = response, "\n".join(body_lines)
    else:
        # The last status block wins: `HTTP/1.1 200 Connection established` from a proxy comes first.
        starts = [i for i, line in enumerate(lines) if re.match(r"HTTP/[\d.]+\s+\d{3}", line)]
        block = lines[starts[-1] :] if starts else lines
        try:
            blank = next(i for i, line in enumerate(block) if not line.strip())
        except StopIteration:
            blank = len(block)
        head, body = block[:blank], "\n".join(block[blank + 1 :])
    evidence = Evidence(kind="curl")
    for line in head:
        status = re.match(r"HTTP/[\d.]+\s+(\d{3})", line)
        if status:
            evidence.http_status = int(status.group(1))
            evidence.headers = {}
        elif ":" in line:
            name, _, value = line.partition(":")
            evidence.headers[name.strip().lower()] = value.strip()
    request_line = re.search(r"(?m)^>\s*(?:POST|GET)\s+(\S+)", text)
    host = re.search(r"(?m)^>\s*[Hh]ost:\s*(\S+)", text)
    if request_line:
        evidence.url = f"https://{host.group(1)}{request_line.group(1)}" if host else request_line.group(1)
    body = body.strip()
    if body:
        inner = _read_body(body)
        status_from_head = evidence.http_status
        _merge(evidence, inner)
        evidence.http_status = status_from_head or evidence.http_status
        if inner.kind == "html":
            evidence.html_title = inner.html_title or ""
    return evidence


def _read_body(body: str) -> Evidence:
    if body.startswith("data:") and (streamed := _read_sse(body)):
        return streamed
    if body[:1] in "{[":
        try:
            doc = json.loads(body)
        except (json.JSONDecodeError, RecursionError):
            return _read_text(body)
        evidence = Evidence(kind="json")
        _read_document(evidence, doc)
        return evidence
    if _looks_like_html(body):
        return Evidence(kind="html", html_title=_html_title(body))
    return _read_text(body)


def _read_text(text: str) -> Evidence:
    """Free text: SDK exception messages, tracebacks, logs. Structured parts embedded in it are read too."""
    evidence = Evidence(kind="text")
    genai = re.search(r"\b([1-5]\d\d) ([A-Z_]+|[A-Z][A-Za-z ]{2,40})\. (\{.*)", text, re.S)
    if genai:
        evidence.kind = "google-genai exception"
        evidence.http_status = int(genai.group(1))
        evidence.status = genai.group(2) if re.fullmatch(r"[A-Z_]+", genai.group(2)) else None
        doc = _structure_at(genai.group(3), 0)
        if isinstance(doc, dict):
            _read_document(evidence, doc)
            if isinstance(doc.get("message"), str) and not evidence.message:
                evidence.message = doc["message"]
        if _looks_like_html(evidence.message):  # the SDK wraps a gateway's HTML page as the message
            evidence.html_title = _html_title(evidence.message)
        return evidence
    sdk_repr = _read_sdk_response_repr(text)
    if sdk_repr is not None:
        return sdk_repr
    js = re.search(r"\[GoogleGenerativeAI Error\]:?(.*)", text, re.S)
    if js:
        evidence.kind = "JS SDK error"
        bracket = re.search(r"\[(\d{3})(?: ([^\]]*))?\]\s*(.*)", js.group(1), re.S)
        if bracket:
            evidence.http_status = int(bracket.group(1))
            rest = bracket.group(3)
            cut = rest.find("[{")
            evidence.message = (rest[:cut] if cut >= 0 else rest).strip()
            if cut >= 0:
                details = _structure_at(rest, cut)
                if isinstance(details, list):
                    _read_details(evidence, details)
        else:
            evidence.message = js.group(1).strip()
        url = re.search(r"https?://\S+?(?=:\s|\s|$)", js.group(1))
        evidence.url = url.group(0) if url else None
        return evidence
    api_core = re.search(r"google\.api_core\.exceptions\.(\w+):\s*(?:(\d{3})\s+)?(.*)", text, re.S)
    if api_core:
        evidence.kind = "google.api_core exception"
        evidence.http_status = int(api_core.group(2)) if api_core.group(2) else API_CORE_CLASSES.get(api_core.group(1))
        evidence.message = api_core.group(3).strip()
        _read_embedded_json(evidence, text)
        return evidence
    if _read_embedded_json(evidence, text):
        return evidence
    evidence.message = text
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


def _read_embedded_json(evidence: Evidence, text: str) -> bool:
    """An `{"error": …}` object (JSON or Python repr) anywhere in the text, as SDKs and loggers embed it."""
    for found in itertools.islice(re.finditer(r"""\{\s*["']error["']\s*:""", text), MAX_CANDIDATES):
        doc = _structure_at(text, found.start())
        if isinstance(doc, dict):
            if evidence.kind == "text":
                evidence.kind = "text with an embedded error body"
            _read_document(evidence, doc)
            return True
    for found in itertools.islice(
        re.finditer(r"""\{\s*["'](?:candidates|promptFeedback)["']\s*:""", text), MAX_CANDIDATES
    ):
        doc = _structure_at(text, found.start())
        if isinstance(doc, dict):
            evidence.kind = "text with an embedded response body"
            _read_document(evidence, doc)
            return True
    return False


def _read_document(evidence: Evidence, doc: Any) -> None:
    if isinstance(doc, list):
        responses = [item for item in doc if isinstance(item, dict)]
        errors = [item for item in responses if "error" in item]
        if errors:
            _read_document(evidence, errors[0])
            return
        for item in responses:  # a streamed answer pasted as a JSON array
            _read_response(evidence, item)
        return
    if not isinstance(doc, dict):
        return
    if isinstance(doc.get("error"), dict):
        _read_status(evidence, doc["error"])
    elif any(key in doc for key in ("candidates", "promptFeedback", "prompt_feedback", "usageMetadata")):
        _read_response(evidence, doc)
    elif "code" in doc and "message" in doc:
        _read_status(evidence, doc)
    elif isinstance(doc.get("response"), dict):  # a saved {request, response} pair
        _read_document(evidence, doc["response"])


def _read_status(evidence: Evidence, error: dict) -> None:
    code = error.get("code")
    if isinstance(code, str) and not code.isdigit():
        evidence.kind = "Interactions API error" if evidence.kind == "json" else evidence.kind
        evidence.status = INTERACTIONS_CODES.get(code.lower(), code.upper())
        evidence.reasons.append(code)
    elif code is not None:
        with contextlib.suppress(TypeError, ValueError):
            evidence.http_status = int(code)
        if evidence.kind == "json":
            evidence.kind = "google.rpc.Status JSON"
    if isinstance(error.get("status"), str) and error["status"]:
        evidence.status = error["status"]
    if isinstance(error.get("message"), str):
        evidence.message = error["message"]
    details = error.get("details")
    if isinstance(details, list):
        _read_details(evidence, details)


def _read_details(evidence: Evidence, details: list) -> None:
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
    legacy = evidence.error_metadata
    if "quota_limit" in legacy or "quota_metric" in legacy:  # the 2024 shape: quota named in ErrorInfo
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
        if not isinstance(candidate, dict):
            continue
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


def _merge(target: Evidence, source: Evidence) -> None:
    for name in Evidence.__dataclass_fields__:
        value = getattr(source, name)
        if name == "kind":
            continue
        if value not in (None, "", [], {}, False):
            setattr(target, name, value)


def _scan_text(evidence: Evidence, text: str) -> None:
    """Fill what the structure did not give from the words of the message and the whole text."""
    haystack = f"{evidence.message}\n{text}" if evidence.message not in text else text
    from_message = [
        QuotaViolation(
            metric=found.group(1),
            value=int(found.group(2)),
            dimensions={"model": found.group(3)} if found.group(3) else {},
        )
        for found in re.finditer(
            r"Quota exceeded for metric:\s*([\w./\-]+),\s*limit:\s*(\d+)(?:,\s*model:\s*([\w.\-]+))?", haystack
        )
    ]
    if evidence.violations:
        # Real free-tier bodies leave quotaValue out of QuotaFailure and say "limit: 0" only in the message.
        evidence.violations = [_with_limit_from(v, from_message) for v in evidence.violations]
    else:
        evidence.violations.extend(from_message)
    if not evidence.violations:
        evidence.violations.extend(_proto_text_violations(haystack))
    if evidence.retry_delay is None:
        found = re.search(r"[Pp]lease retry in ([\d.]+\s*m?s)", haystack) or re.search(
            r"retry_delay\s*\{\s*seconds:\s*(\d+)", haystack
        )
        if found:
            evidence.retry_delay = found.group(1).replace(" ", "")
            if evidence.retry_delay.isdigit():
                evidence.retry_delay += "s"
    if evidence.is_response and not evidence.status:
        return  # a generateContent answer: words in the model's text are not statuses
    for found in re.finditer(r"""reason["']?\s*[:=]\s*["']([A-Z][A-Z_]{3,})["']""", haystack):
        if found.group(1) not in evidence.reasons:
            evidence.reasons.append(found.group(1))
    if not evidence.status:
        found = re.search(r"\b(" + "|".join(GRPC_TO_HTTP) + r")\b", haystack)
        if found:
            evidence.status = found.group(1)
    if evidence.http_status is None:
        found = (
            re.search(r"(?:Error code|status(?: code)?|HTTP(?:/[\d.]+)?)[:=\s]+([1-5]\d\d)\b", haystack, re.I)
            or re.search(
                r"\b([45]\d\d) (?:Too Many Requests|Bad Request|Forbidden|Not Found|Unauthorized|"
                r"Payment Required|Internal Server Error|Service Unavailable|Gateway Timeout)",
                haystack,
            )
            or re.search(r"""["']code["']\s*:\s*([1-5]\d\d)\b""", haystack)
            or re.search(r"(?m)^\s*([45]\d\d) [A-Z][a-z]+(?: [a-z]+)*[,.:]", haystack)
        )
        if found:
            evidence.http_status = int(found.group(1))
    if evidence.http_status is None and evidence.status in GRPC_TO_HTTP:
        evidence.http_status = GRPC_TO_HTTP[evidence.status]
    if evidence.status is None and evidence.http_status in HTTP_TO_GRPC:
        evidence.status = HTTP_TO_GRPC[evidence.http_status]
    if not evidence.message:
        found = re.search(r"""["']message["']\s*:\s*["'](.+?)["']\s*[,}]""", haystack)
        evidence.message = found.group(1) if found else " ".join(text.split())[:2000]
    if evidence.url is None:
        found = re.search(
            r"https?://[^\s'\"<>]*googleapis\.com[^\s'\"<>]*|https?://[^\s'\"<>]*/v1(?:beta)?/[^\s'\"<>]*", haystack
        )
        evidence.url = found.group(0).rstrip(".:,)") if found else None
    if evidence.network_error is None and not evidence.is_response and (evidence.http_status in (None, 407)):
        lowered = haystack.lower()
        for name, markers in NETWORK_MARKERS:
            if any(marker in lowered for marker in markers):
                evidence.network_error = name
                break
        if evidence.http_status == 407:
            evidence.network_error = "proxy"


def _proto_text_violations(text: str) -> list[QuotaViolation]:
    """QuotaFailure violations as google.api_core prints them over gRPC (protobuf text format)."""
    found = []
    for start in re.finditer(r"violations\s*\{", text):
        brace = start.end() - 1
        end = _balanced_end(text, brace)
        block = text[brace:end] if end else text[brace : brace + 4000]

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


def _structure_at(text: str, start: int) -> Any:
    """Parse the balanced {…} or […] that starts at `start`, as JSON or as a Python literal."""
    end = _balanced_end(text, start)
    if end is None:
        return None
    chunk = text[start:end]
    try:
        return json.loads(chunk)
    except RecursionError:
        return None
    except json.JSONDecodeError:
        return _python_literal(chunk)


def _balanced_end(text: str, start: int) -> int | None:
    opener = text[start] if start < len(text) else ""
    if opener not in "{[":
        return None
    depth, quote, escaped = 0, "", False
    for index in range(start, min(len(text), start + MAX_STRUCTURE_CHARS)):
        char = text[index]
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def _python_literal(text: str) -> Any:
    """A dict printed by Python (google-genai's `str(e)`): single quotes, True/None. Never evaluated as code."""
    if len(text) > 1_000_000:
        return None
    try:
        with warnings.catch_warnings():  # "invalid escape sequence" in pasted text is not the user's problem
            warnings.simplefilter("ignore")
            return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None


def _looks_like_html(text: str) -> bool:
    head = text[:2000].lower()
    return "<html" in head or "<!doctype html" in head or ("<body" in head and "</" in head)


def _html_title(text: str) -> str:
    """The page's <title>, or "" when it has none."""
    title = re.search(r"(?is)<title[^>]*>(.*?)</title>", text[:20000])
    return " ".join(title.group(1).split())[:120] if title else ""


def _title_clause(text: str) -> str:
    title = _html_title(text)
    return f" (title: {title[:80]!r})" if title else ""


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


def read_http_answer(status: int, body: str, url: str | None = None) -> Evidence:
    """Evidence from an HTTP answer a probe received; never raises, whatever the body holds."""
    body = redact(body)
    stripped = body.strip()
    if stripped and _looks_like_html(stripped) and not stripped.startswith("{"):
        evidence = Evidence(kind="html", html_title=_html_title(stripped))
    elif stripped:
        try:
            evidence = _read_body(stripped)
        except InputError:
            evidence = Evidence(kind="text", message=stripped[:2000])
    else:
        evidence = Evidence(kind="empty body")
    if status >= 400 or evidence.http_status is None:
        evidence.http_status = status
    evidence.url = redact(url) if url else evidence.url
    evidence.raw = stripped[:100_000]
    if status >= 400 and evidence.html_title is None:
        _scan_text(evidence, stripped[:100_000])
    elif status < 300 and not evidence.is_response and evidence.html_title is None and evidence.kind != "json":
        evidence.message = evidence.message or f"HTTP {status} with a body that is not a Gemini answer"
    return evidence


def network_evidence(error: BaseException, url: str | None = None) -> Evidence:
    """Evidence from a client exception (httpx or the GCP clients): which network layer failed."""
    text = redact(f"{type(error).__name__}: {error}")
    evidence = Evidence(kind="network error", message=text, url=redact(url) if url else None, raw=text)
    lowered = text.lower()
    for name, markers in NETWORK_MARKERS:
        if any(marker in lowered for marker in markers):
            evidence.network_error = name
            break
    else:
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
