"""The facts read from an error or an answer, normalised: what the readers fill and the rules read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gemini_doctor.images import ImageInfo

_DATA_RUN = re.compile(r"[A-Za-z0-9+/]{256,}=*")

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
        return "perday" in text or "per_day" in text or "per day" in text

    @property
    def per_minute(self) -> bool:
        text = f"{self.metric or ''} {self.quota_id or ''}".lower()
        return "perminute" in text or "per_minute" in text or "per minute" in text

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
    layers: list[str] = field(default_factory=list)  # outermost first: "relay: LiteLLM", "google: Vertex AI"
    notes: list[str] = field(default_factory=list)  # what was repaired, and what could not be read
    wrapped: bool = False  # Google's error was found inside another layer's error
    _haystack: tuple[str, str, str] | None = field(default=None, repr=False, compare=False)  # (raw, message, it)

    HAYSTACK_LIMIT = 64 * 1024  # signatures search this much of the paste: errors sit near the top

    @property
    def haystack(self) -> str:
        """The message and the paste, as one text for the signatures to search. An image's base64 data is left
        out (a run of 256 or more of its characters: no error's words): a real answer's first 64 KiB are mostly
        that, and every signature would search it."""
        made = self._haystack
        if made is not None and made[0] is self.raw and made[1] is self.message:
            return made[2]  # read by several judges: made once while the raw text and the message stay the same
        raw = _DATA_RUN.sub("[data]", self.raw[: self.HAYSTACK_LIMIT])
        text = raw if self.message and self.message in raw else f"{self.message}\n{raw}"
        self._haystack = (self.raw, self.message, text)
        return text

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
