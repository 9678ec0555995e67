"""The rules: Evidence + Context → ranked Diagnosis list.

They follow ../shared/research/seed-claims.md (section 1, last column): a 429 naming a free-tier quota with
value 0 is billing-limit-zero, or ghost-429 when billing is known to be on; a 429 with no QuotaFailure and no
prepay text is shared capacity (possible at best); `["IMAGE"]` alone is never an error on current models.
Where the evidence cannot tell two causes apart, both are returned with what would tell them apart.
"""

from __future__ import annotations

import re

from gemini_doctor.diagnosis import Context, Diagnosis, rank
from gemini_doctor.diagnosis.evidence import Evidence
from gemini_doctor.diagnosis.request import (
    IMAGE_CONFIG_FIELDS,
    IMAGEN_FIELDS,
    VERTEX_ONLY_FIELDS,
    RequestSettings,
    canonical_size,
    read_request,
    request_findings,
)
from gemini_doctor.images import aspect_matches, size_bucket
from gemini_doctor.knowledge import Model, closest_models, find_model

SAFETY_FINISH = {
    "SAFETY",
    "IMAGE_SAFETY",
    "PROHIBITED_CONTENT",
    "IMAGE_PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
    "RECITATION",
    "IMAGE_RECITATION",
}
TELL_APART = "Run `gemini-doctor check --project PROJECT` to read billing and quotas and tell these apart."
NETWORK_HINTS = {
    "dns": (
        "the host name did not resolve (DNS)",
        "Check the base URL's spelling and your DNS; `nslookup generativelanguage.googleapis.com`.",
    ),
    "refused": (
        "the connection was refused",
        "Nothing listens at that host and port: check the base URL, or a local proxy that is not running.",
    ),
    "tls": (
        "the TLS handshake failed (certificate)",
        "A corporate proxy that intercepts TLS needs its CA trusted: set SSL_CERT_FILE / REQUESTS_CA_BUNDLE "
        "to a bundle that holds it, or use the system store via the truststore package.",
    ),
    "proxy": (
        "the proxy refused or failed the request",
        "Check HTTPS_PROXY / NO_PROXY and the proxy's credentials (407 means it wants authentication).",
    ),
    "timeout": (
        "the request timed out",
        "Check the network path; raise the client timeout only if a slow answer is expected.",
    ),
    "reset": (
        "the connection was closed before a full answer",
        "A proxy or firewall may cut long requests; retry once and test the path with `gemini-doctor check`.",
    ),
}


def diagnose(evidence: Evidence, context: Context | None = None) -> list[Diagnosis]:
    """The ranked diagnoses for one piece of evidence; an empty list means nothing is wrong."""
    context = context or Context()
    model_name = context.model or evidence.model
    model = find_model(model_name) if model_name else None
    settings = read_request(context.request)
    found: list[Diagnosis] = []
    if evidence.network_error or evidence.html_title is not None:
        found += _network(evidence)
    elif evidence.is_response and not evidence.is_error:
        found += _response(evidence, context, settings, model)
    elif evidence.is_error:
        found += _http_error(evidence, context, model_name, model, settings)
    if context.request is not None:
        found += request_findings(settings, model)
    if evidence.is_error and not any(d.severity == "error" for d in found):
        found.append(
            Diagnosis.of(
                "unknown",
                "possible",
                _basics(evidence),
                note="The error is real but matches no known type; the fix steps say what to collect next.",
            )
        )
    elif not evidence.is_error and not evidence.is_response and not found:
        found.append(
            Diagnosis.of(
                "unknown",
                "possible",
                [
                    f"input read as {evidence.kind}: no HTTP error status, error body or generateContent answer found",
                    *([f"text: {evidence.excerpt(200)!r}"] if evidence.message else []),
                ],
                note="Paste the whole error: the JSON body with its details, the SDK exception, or `curl -i` output.",
            )
        )
    return rank(found)


def _basics(evidence: Evidence) -> list[str]:
    lines = []
    status = " ".join(str(x) for x in (evidence.http_status, evidence.status) if x)
    if status:
        lines.append(f"HTTP {status}" if evidence.http_status else status)
    if evidence.message:
        lines.append(f"message: {evidence.excerpt(240)!r}")
    if evidence.reasons:
        lines.append(f"ErrorInfo.reason {', '.join(evidence.reasons)}")
    for header in ("retry-after", "proxy-authenticate", "via"):
        if header in evidence.headers:
            lines.append(f"header {header}: {evidence.headers[header][:120]}")
    return lines or [f"input read as {evidence.kind}"]


def _text(evidence: Evidence) -> str:
    return f"{evidence.message}\n{evidence.raw}".lower()


def _network(evidence: Evidence) -> list[Diagnosis]:
    if evidence.html_title is not None:
        status = f"HTTP {evidence.http_status} " if evidence.http_status else ""
        return [
            Diagnosis.of(
                "network-unreachable",
                "likely",
                [f"{status}answer is an HTML page (title {evidence.html_title!r}), not a Gemini JSON body"],
                hints=[
                    "A proxy, gateway or captive portal answered instead of Google: check HTTPS_PROXY and the base URL."
                ],
            )
        ]
    what, hint = NETWORK_HINTS[evidence.network_error or "reset"]
    return [
        Diagnosis.of(
            "network-unreachable",
            "certain",
            [f"no answer from the API: {what}", f"text: {evidence.excerpt(200)!r}"],
            hints=[hint],
        )
    ]


def _http_error(
    evidence: Evidence, context: Context, model_name: str | None, model: Model | None, settings: RequestSettings
) -> list[Diagnosis]:
    text = _text(evidence)
    http = evidence.http_status
    status = evidence.status or ""
    reasons = {r.upper() for r in evidence.reasons}
    basics = _basics(evidence)

    if http == 402 or "prepay" in text or "prepayment" in text:
        return [Diagnosis.of("prepay-depleted", "certain", basics)]
    if reasons & {"API_KEY_INVALID", "API_KEY_EXPIRED", "ACCESS_TOKEN_TYPE_UNSUPPORTED"} or any(
        w in text for w in ("api key not valid", "api key expired", "reported as leaked")
    ):
        hints = ["The key was reported as leaked: delete it and create a new one."] if "leaked" in text else []
        return [Diagnosis.of("api-key-invalid", "certain", basics, hints=hints)]
    if any(
        w in text
        for w in (
            "unregistered callers",
            "no api key was provided",
            "missing key inputs",
            "api key must be set",
            "api_key_missing",
        )
    ):
        return [Diagnosis.of("api-key-missing", "certain", basics)]
    if "SERVICE_DISABLED" in reasons or "has not been used in project" in text:
        url = evidence.error_metadata.get("activationUrl")
        return [Diagnosis.of("service-disabled", "certain", basics, hints=[f"Enable it at {url}"] if url else [])]
    if status == "RESOURCE_EXHAUSTED" or http == 429:
        return _quota(evidence, context, basics)
    if status == "FAILED_PRECONDITION" or "location is not supported" in text or "free tier is not available" in text:
        if "billing" in text or "free tier is not available" in text:
            return [Diagnosis.of("billing-not-enabled", "certain", basics)]
        if "location is not supported" in text:
            return [Diagnosis.of("location-unsupported", "certain", basics)]
        return [
            Diagnosis.of(
                "unknown",
                "possible",
                basics,
                note="FAILED_PRECONDITION without billing or location wording: not billing-not-enabled (GD008) "
                "nor location-unsupported (GD105) for sure; its causes vary (forum thread 190739).",
            )
        ]
    if status == "PERMISSION_DENIED" or http == 403:
        hints = [f"ErrorInfo.reason {r}: " + hint for r, hint in _PERMISSION_HINTS.items() if r in reasons]
        return [Diagnosis.of("permission-denied", "certain", basics, hints=hints)]
    if status == "UNAUTHENTICATED" or http == 401:
        return [Diagnosis.of("api-key-invalid", "likely", basics)]
    if status == "NOT_FOUND" or http == 404:
        return _not_found(evidence, model_name, model, basics, text)
    if status in ("INVALID_ARGUMENT", "OUT_OF_RANGE") or http == 400:
        return _invalid_argument(evidence, context, settings, basics, text)
    if http == 503 or status == "UNAVAILABLE":
        return [Diagnosis.of("model-overloaded", "certain", basics)]
    if http == 504 or status == "DEADLINE_EXCEEDED":
        return [Diagnosis.of("deadline-exceeded", "certain", basics)]
    if http == 500 or status in ("INTERNAL", "UNKNOWN"):
        return [Diagnosis.of("server-error", "certain", basics)]
    if http in (502, 407):
        return [
            Diagnosis.of(
                "network-unreachable",
                "possible",
                basics,
                hints=["Google's API does not answer 502/407 itself: a proxy or gateway did."],
            )
        ]
    return []


_PERMISSION_HINTS = {
    "API_KEY_SERVICE_BLOCKED": "the key's API restrictions do not include the Generative Language API; "
    "add it in Credentials → API restrictions.",
    "API_KEY_HTTP_REFERRER_BLOCKED": "the key is restricted to HTTP referrers; server calls send none.",
    "API_KEY_IP_ADDRESS_BLOCKED": "the key is restricted to other IP addresses.",
    "CONSUMER_SUSPENDED": "the project or key is suspended; contact Google Cloud support.",
    "IAM_PERMISSION_DENIED": "the caller lacks the IAM permission named in the message.",
}


def _quota(evidence: Evidence, context: Context, basics: list[str]) -> list[Diagnosis]:
    lines = basics + [f"QuotaFailure: {v.describe()}" for v in evidence.violations]
    if evidence.retry_delay:
        lines.append(f"RetryInfo.retryDelay {evidence.retry_delay}")
    zero = [v for v in evidence.violations if v.value == 0]
    zero_free = [v for v in zero if v.free_tier]
    per_day = [v for v in evidence.violations if v.per_day and v.value]
    if zero and not zero_free:
        return [
            Diagnosis.of(
                "billing-limit-zero",
                "possible",
                ["the 429 names a paid (not free-tier) quota whose value is 0", *lines],
                note="Not the free tier: the project has no quota for this model at its tier (reported for preview "
                "models). Ask for an increase in Cloud Quotas or use another model. " + TELL_APART,
            )
        ]
    if zero_free:
        lines.insert(0, "the 429 names a free-tier quota whose value is 0")
        if context.billing_enabled is True:
            paid = f", paid quota {context.paid_quota}" if context.paid_quota else ", paid quota unknown"
            lines.append(f"context: billing is enabled{paid}")
            return [
                Diagnosis.of(
                    "ghost-429",
                    "likely" if context.paid_quota else "possible",
                    lines,
                    note=None if context.paid_quota else "A non-zero paid quota would confirm it: " + TELL_APART,
                ),
                Diagnosis.of(
                    "billing-limit-zero",
                    "possible",
                    lines,
                    note="Billing is on, so a zero free-tier limit should not apply to this project.",
                ),
            ]
        if context.billing_enabled is False:
            lines.append("context: billing is not enabled")
            return [Diagnosis.of("billing-limit-zero", "certain", lines)]
        return [
            Diagnosis.of("billing-limit-zero", "likely", lines, note=TELL_APART),
            Diagnosis.of(
                "ghost-429",
                "possible",
                lines,
                note="Only if billing is already enabled on the key's project. " + TELL_APART,
            ),
        ]
    if per_day:
        return [Diagnosis.of("daily-quota-exhausted", "certain", lines)]
    if evidence.violations:
        return [Diagnosis.of("ipm-exceeded", "certain", lines)]
    if context.billing_enabled is False:
        return [Diagnosis.of("billing-limit-zero", "likely", [*lines, "context: billing is not enabled"])]
    lines.append("the 429 carries no QuotaFailure detail")
    return [
        Diagnosis.of(
            "dynamic-shared-quota",
            "possible",
            lines,
            note="Shared capacity or a quota whose details a client dropped. " + TELL_APART,
        ),
        Diagnosis.of("ipm-exceeded", "possible", lines, note=TELL_APART),
    ]


def _not_found(
    evidence: Evidence, model_name: str | None, model: Model | None, basics: list[str], text: str
) -> list[Diagnosis]:
    if "no longer available" in text or "has been shut down" in text or (model and model.is_shut_down):
        hint = [f"Move to {model.replacement}."] if model and model.replacement else []
        lines = basics + (
            [f"model table: {model.id} is shut down since {model.shutdown}"] if model and model.shutdown else []
        )
        return [Diagnosis.of("model-deprecated", "certain", lines, hints=hint)]
    url = (evidence.url or "").lower()
    if "not supported for predict" in text or "/openai/" in url:
        return [
            Diagnosis.of(
                "wrong-endpoint",
                "likely",
                basics,
                hints=[
                    f"Call POST /v1beta/models/{model_name or 'MODEL'}:generateContent instead of the "
                    "OpenAI-compatible images route."
                ],
            )
        ]
    if model is not None and model_name and model.id != model_name.removeprefix("models/"):
        return [
            Diagnosis.of(
                "wrong-model-name",
                "certain",
                [*basics, f"{model_name} is a name Google uses internally for {model.id}"],
                hints=[f"Call {model.id}."],
            )
        ]
    if model is not None:
        return [
            Diagnosis.of(
                "wrong-endpoint",
                "possible",
                basics,
                note=f"{model.id} is a known model: the API version or base URL may not serve it.",
            ),
            Diagnosis.of("wrong-model-name", "possible", basics),
        ]
    if model_name:
        close = closest_models(model_name)
        hints = [f"Closest valid names: {', '.join(close)}."] if close else []
        return [
            Diagnosis.of(
                "wrong-model-name",
                "certain" if "models/" in text else "likely",
                [*basics, f"{model_name!r} is not a known image model"],
                hints=hints,
            )
        ]
    return [
        Diagnosis.of(
            "wrong-endpoint",
            "possible",
            basics,
            note="A 404 without a model name usually means a wrong path or base URL.",
        )
    ]


def _invalid_argument(
    evidence: Evidence, context: Context, settings: RequestSettings, basics: list[str], text: str
) -> list[Diagnosis]:
    unknown = re.findall(r'unknown name \\?"([\w.]+)\\?"', text)
    fields = [f.split(".")[-1] for f, _ in evidence.field_violations]
    names = {n.lower() for n in unknown + fields}
    image_fields = {"responsemodalities", "response_modalities", "imageconfig", "image_config"}
    if names & image_fields:
        version = context.api_version or evidence.api_version
        on_v1 = version == "v1"
        return [
            Diagnosis.of(
                "wrong-endpoint",
                "likely" if on_v1 or version is None else "possible",
                basics + ([f"the request went to API version {version}"] if version else []),
                hints=[
                    "Send image requests to /v1beta/models/{model}:generateContent (google-genai: "
                    "HttpOptions(api_version='v1beta') or GOOGLE_GENAI_API_VERSION=beta)."
                ],
            )
        ]
    hints: list[str] = []
    known_bad = {f.lower() for f in (*VERTEX_ONLY_FIELDS, *IMAGEN_FIELDS)}
    for name in sorted(names & known_bad):
        hints.append(f"{name} is not a Gemini Developer API field: remove it.")
    for name in sorted(names & {f.lower() for f in (*IMAGE_CONFIG_FIELDS, *IMAGE_CONFIG_FIELDS.values())}):
        hints.append(f"{name} must sit inside generationConfig.imageConfig.")
    if "multiple candidates is not enabled" in text:
        hints.append("Image models make one candidate per call: drop candidateCount and send N requests.")
    if "image_size" in text or "image size" in text:
        size = settings.image_size or _quoted_after(text, ("image_size", "image size"))
        if size and canonical_size(size) and canonical_size(size) != size:
            return [
                Diagnosis.of(
                    "image-size-case",
                    "certain",
                    [*basics, f"imageSize sent as {size!r}"],
                    hints=[f'Send "imageSize": "{canonical_size(size)}".'],
                )
            ]
        hints.append("Use an imageSize the model supports (see `gemini-doctor explain invalid-argument`).")
    if "aspect_ratio" in text or "aspect ratio" in text:
        hints.append("Use an aspectRatio the model lists; the error message names the valid ones.")
    if "json mode is not enabled" in text:
        hints.append("Image models do not take responseMimeType / responseSchema: remove them.")
    if "thinking" in text and "not supported" in text:
        hints.append("This image model does not take a thinking config: remove it.")
    if "response_modalities" in text and "invalid value" in text:
        hints.append('responseModalities takes "TEXT" and "IMAGE".')
    confidence = "certain" if hints else "likely"
    return [Diagnosis.of("invalid-argument", confidence, basics, hints=hints)]


def _quoted_after(text: str, words: tuple[str, ...]) -> str | None:
    for word in words:
        found = re.search(re.escape(word) + r"\s*'([^']+)'", text, re.I) or re.search(
            re.escape(word) + r'\s*\\?"([^"\\]+)', text, re.I
        )
        if found:
            return found.group(1)
    return None


def _response(evidence: Evidence, context: Context, settings: RequestSettings, model: Model | None) -> list[Diagnosis]:
    finish = ", ".join(evidence.finish_reasons) or "none"
    lines = ["HTTP 200 generateContent answer", f"finishReason {finish}"]
    if evidence.finish_message:
        lines.append(f"finishMessage {evidence.finish_message[:200]!r}")
    if evidence.block_reason:
        return [
            Diagnosis.of("safety-blocked", "certain", [*lines, f"promptFeedback.blockReason {evidence.block_reason}"])
        ]
    images = evidence.final_images
    if not images:
        lines.append("no image part in the answer" + (f"; text: {evidence.texts[0][:160]!r}" if evidence.texts else ""))
        if set(evidence.finish_reasons) & SAFETY_FINISH:
            return [Diagnosis.of("safety-blocked", "certain", lines)]
        upper = [m.upper() for m in settings.modalities or ()]
        if settings.modalities is not None and "IMAGE" not in upper:
            return [
                Diagnosis.of(
                    "wrong-response-modalities",
                    "certain",
                    [*lines, f"the request's responseModalities is {list(settings.modalities)}"],
                    hints=['Add "IMAGE" to generationConfig.responseModalities.'],
                )
            ]
        if upper == ["IMAGE"] and model is not None and model.requires_text_modality:
            return [
                Diagnosis.of(
                    "missing-text-modality",
                    "likely",
                    [*lines, f'responseModalities ["IMAGE"] on {model.id}, which required TEXT too'],
                    hints=['Send ["TEXT", "IMAGE"], or move to a current image model.'],
                )
            ]
        return [Diagnosis.of("no-image-returned", "likely", lines)]
    found: list[Diagnosis] = []
    image = images[-1]  # the last image is the final render
    info = image.info
    if info.format == "unknown":
        return [
            Diagnosis.of(
                "no-image-returned",
                "likely",
                [*lines, f"the image part (declared {image.declared_mime}) is not a valid image"],
            )
        ]
    if info.size is None:
        return found
    width, height = info.size
    got = f"got {width}x{height} ({size_bucket(width, height)}, {info.format.upper()})"
    mismatches: list[str] = []
    if settings.image_size:
        canonical = canonical_size(settings.image_size)
        bucket = size_bucket(width, height)
        if canonical and canonical != settings.image_size and bucket != canonical:
            found.append(
                Diagnosis.of(
                    "image-size-case",
                    "certain",
                    [f"asked imageSize {settings.image_size!r}, {got}: the lowercase value fell back to the default"],
                    hints=[f'Send "imageSize": "{canonical}".'],
                )
            )
        elif canonical and (model is None or canonical in model.image_sizes) and bucket != canonical:
            mismatches.append(f"asked imageSize {canonical}, {got}")
    ratio_known = settings.aspect_ratio and (model is None or settings.aspect_ratio in model.aspect_ratios)
    if ratio_known and not aspect_matches(width, height, settings.aspect_ratio):
        mismatches.append(f"asked aspectRatio {settings.aspect_ratio}, {got}")
    if mismatches and evidence.image_tokens:
        mismatches.append(f"usageMetadata counts {evidence.image_tokens} image tokens, the price of the size made")
    if mismatches:
        proxied = bool(context.base_url) and "googleapis.com" not in (context.base_url or "")
        via = f"; base URL {context.base_url}" if proxied else ""
        found.append(
            Diagnosis.of(
                "image-config-stripped",
                "likely" if proxied else "possible",
                [*mismatches, f"imageConfig was in the request{via}"],
                note="Compare with a direct call: `gemini-doctor check --generate` against Google itself.",
            )
        )
    return found
