"""The doctor inside an app: `diagnose` names why a Gemini image call failed, with no network and light imports.

    from gemini_doctor.api import diagnose

    try:
        response = client.models.generate_content(model=..., contents=..., config=config)
    except errors.APIError as exc:
        top = diagnose(exc, request=config)[0]
        log.error("%s %s: %s", top.code, top.slug, top.fix[0])

`diagnose` takes a google-genai `errors.APIError`, a google.api_core exception, an httpx or requests Response, a
generateContent response (google-genai's object or its dict), any other exception, or text. It runs the classifier
`gemini-doctor explain` runs, and each `Diagnosis.to_dict()` is the element `explain --format json` lists under
`diagnosis` for the same input. Public and stable under semver (see the README): the names in `__all__`, the
fields of `Diagnosis` and the keys of `to_dict()`. Importing this module imports no google-genai, google-cloud,
google.api_core, httpx or requests; the object handed in is read by duck typing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from gemini_doctor.guard import (
    AuthError,
    BillingError,
    GeminiImageError,
    ImageMismatchError,
    ModelError,
    NetworkError,
    NoImageError,
    ParameterError,
    QuotaError,
    TransientError,
    exception_class,
    guard,
)
from gemini_doctor.levels import Confidence, Severity
from gemini_doctor.objects import jsonable, model_dict, to_text
from gemini_doctor.retry import retry_wait, should_retry, tenacity_retry, tenacity_wait

__all__ = [  # the public names, stable under semver
    "AuthError",
    "BillingError",
    "Confidence",
    "Diagnosis",
    "GeminiImageError",
    "ImageMismatchError",
    "ModelError",
    "NetworkError",
    "NoImageError",
    "ParameterError",
    "QuotaError",
    "Severity",
    "TransientError",
    "diagnose",
    "exception_class",
    "guard",
    "retry_wait",
    "should_retry",
    "tenacity_retry",
    "tenacity_wait",
    "to_text",
]


@dataclass(frozen=True)
class Diagnosis:
    """One named cause of a failure: the catalog entry (`gemini-doctor errors`) and what led to it.

    `retryable` says whether waiting or retrying can help at all (never for daily, billing, key or parameter
    causes); `retry_after` is the wait in seconds Google asked for (RetryInfo), when retrying can help.
    """

    code: str
    slug: str
    title: str
    confidence: Confidence
    evidence: tuple[str, ...]
    fix: tuple[str, ...]
    retryable: bool
    retry_after: float | None
    severity: Severity = Severity.ERROR
    category: str = "hard-error"
    established: str = "official"
    retry_advice: str = ""
    docs: str = ""
    note: str | None = None
    occurrences: int = 1

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Diagnosis:
        """The inverse of `to_dict`: one element of a `gemini-doctor/v1` document's `diagnosis` list."""
        return cls(
            code=data["code"],
            slug=data["slug"],
            title=data["title"],
            confidence=Confidence(data["confidence"]),
            evidence=tuple(data.get("evidence", ())),
            fix=tuple(data.get("fix", ())),
            retryable=bool(data.get("retryable")),
            retry_after=data.get("retry_after"),
            severity=Severity(data.get("severity", "error")),
            category=data.get("category", "hard-error"),
            established=data.get("established", "official"),
            retry_advice=data.get("retry_advice", ""),
            docs=data.get("docs", ""),
            note=data.get("note"),
            occurrences=int(data.get("occurrences", 1)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The `gemini-doctor/v1` JSON of this diagnosis, as `explain --format json` writes it."""
        from gemini_doctor.diagnosis import v1_item

        values = {item.name: getattr(self, item.name) for item in fields(self)}
        return v1_item(values, severity=self.severity.value, confidence=self.confidence.value)


def diagnose(
    error_or_response: object,
    *,
    request: object = None,
    model: str | None = None,
    billing_enabled: bool | None = None,
) -> list[Diagnosis]:
    """The causes of a failed (or silently wrong) call, most likely first; `[]` when nothing is wrong.

    `request` is what the app sent: the REST body, google-genai's `GenerateContentConfig` (or its dict): a 200's
    image is checked against its imageConfig. `model` and `billing_enabled` sharpen the diagnosis as
    `explain --model/--billing` do (a 429 naming a free-tier limit of 0 on a billed project is ghost-429).
    Raises ValueError only for input with nothing to read (empty text, binary bytes).
    """
    from gemini_doctor.diagnosis import Context
    from gemini_doctor.explain import explain_document
    from gemini_doctor.input_error import InputError
    from gemini_doctor.redact import scrub_obj

    if isinstance(error_or_response, GeminiImageError):  # the guard diagnosed it already
        return list(error_or_response.diagnoses)
    context = Context(model=model, request=request_body(request), billing_enabled=billing_enabled)
    try:
        document = explain_document(to_text(error_or_response), "api", context)
    except InputError as exc:
        raise ValueError(str(exc)) from None
    found = scrub_obj(document["diagnosis"])  # what the JSON renderer does to every string
    return [Diagnosis.from_dict(entry) for entry in found]  # type: ignore[attr-defined]


def request_body(request: object) -> dict[str, Any] | None:
    """The request as the body the classifier reads: a REST body as is, a config (object or dict) wrapped."""
    if request is None:
        return None
    if hasattr(request, "model_dump"):
        request = model_dict(request)
    if not isinstance(request, Mapping):
        return None
    body = {k: v for k, v in jsonable(request).items() if k not in ("httpOptions", "http_options")}  # headers
    request_keys = ("contents", "generationConfig", "generation_config", "config", "model")
    return body if any(key in body for key in request_keys) else {"generationConfig": body}
