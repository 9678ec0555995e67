"""The judgements that need context: a signature with `judge = NAME` hands the evidence to NAME here.

Each weighs what a signature alone cannot: the quota details against billing and the paid quota (the four
causes of a 429), a 404 against the model table, an unknown field against the API version, modalities against
the model, a 200 answer's image against the request. They follow Google's documented behaviour; where the
evidence cannot tell two causes apart, both are returned with what would tell them apart. `score` on what they
return is added to the score of the signature that called them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from gemini_doctor.backend import known_locations, locations_source
from gemini_doctor.diagnosis import Context, Diagnosis
from gemini_doctor.diagnosis.facts import Evidence
from gemini_doctor.diagnosis.layers import answering_google
from gemini_doctor.diagnosis.request import (
    IMAGEN_FIELDS,
    VERTEX_ONLY_FIELDS,
    RequestSettings,
    canonical_size,
    read_request,
)
from gemini_doctor.diagnosis.shapes import is_google_error_page
from gemini_doctor.images import aspect_matches, size_bucket
from gemini_doctor.knowledge import Model, closest_models, find_model, find_retired

TELL_APART = "Run `gemini-doctor check --project PROJECT` to read billing and quotas and tell these apart."
STRUCTURED = 6  # a QuotaFailure or field violation read from the body is as specific as Google's own words


def basics(evidence: Evidence) -> list[str]:
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


def quota(evidence: Evidence, context: Context) -> list[Diagnosis]:
    """The 429 family: which quota, what limit, and what billing says."""
    lines = basics(evidence) + [f"QuotaFailure: {v.describe()}" for v in evidence.violations]
    if evidence.retry_delay:
        lines.append(f"RetryInfo.retryDelay {evidence.retry_delay}")
    zero = [v for v in evidence.violations if v.value == 0]
    zero_free = [v for v in zero if v.free_tier]
    if zero_free:
        return _free_tier_zero(lines, context)
    if zero:
        return [
            Diagnosis.of(
                "billing-limit-zero",
                "possible",
                ["the 429 names a paid (not free-tier) quota whose value is 0", *lines],
                note="Not the free tier: the project has no quota for this model at its tier or in this region "
                "(reported for preview models). Ask for an increase in Cloud Quotas or use another model. "
                + TELL_APART,
                score=STRUCTURED,
            )
        ]
    if any(v.per_day for v in evidence.violations):
        return [Diagnosis.of("daily-quota-exhausted", "certain", lines, score=STRUCTURED)]
    if evidence.violations:
        return [Diagnosis.of("ipm-exceeded", "certain", lines, score=STRUCTURED)]
    return _quota_without_details(evidence, context, lines)


def _free_tier_zero(lines: list[str], context: Context) -> list[Diagnosis]:
    lines = ["the 429 names a free-tier quota whose value is 0", *lines]
    if context.billing_enabled is True:
        paid = f", paid quota {context.paid_quota}" if context.paid_quota else ", paid quota unknown"
        return [
            Diagnosis.of(
                "ghost-429",
                "likely" if context.paid_quota else "possible",
                [*lines, f"context: billing is enabled{paid}"],
                note="Could also be a key from another, unbilled project; tell apart by the key's project in "
                "AI Studio. " + ("" if context.paid_quota else TELL_APART),
                score=STRUCTURED,
            )
        ]
    if context.billing_enabled is False:
        return [Diagnosis.of("billing-limit-zero", "certain", [*lines, "context: billing is not enabled"], score=7)]
    return [
        Diagnosis.of(
            "billing-limit-zero",
            "likely",
            lines,
            note="Could also be ghost-429 if billing is already on for the key's project. " + TELL_APART,
            score=STRUCTURED,
        )
    ]


def _quota_without_details(evidence: Evidence, context: Context, lines: list[str]) -> list[Diagnosis]:
    lines = [*lines, "the 429 carries no QuotaFailure detail"]
    if context.billing_enabled is False:
        return [Diagnosis.of("billing-limit-zero", "likely", [*lines, "context: billing is not enabled"])]
    if answering_google(evidence) == "Vertex AI":
        return [
            Diagnosis.of(
                "dynamic-shared-quota",
                "possible",
                [*lines, "Vertex AI answered: its 429 without details is shared capacity (DSQ) or a per-minute quota"],
                note="Could also be ipm-exceeded (the project's per-minute quota); tell apart in the Vertex AI "
                "quotas page of the console.",
            )
        ]
    if context.billing_enabled is True:
        return [
            Diagnosis.of(
                "dynamic-shared-quota",
                "possible",
                [*lines, "context: billing is enabled; the Developer API's own per-minute 429 names its quota"],
                note="Could also be ipm-exceeded if a client dropped the QuotaFailure detail. " + TELL_APART,
            )
        ]
    return [
        Diagnosis.of(
            "billing-limit-zero",
            "possible",
            [*lines, "an image model's most frequent 429 is the free tier's limit of 0 (no billing linked)"],
            note="Could also be ipm-exceeded (per-minute quota) or dynamic-shared-quota (shared capacity); the "
            "details the client dropped would say which. " + TELL_APART,
        )
    ]


def not_found(evidence: Evidence, context: Context) -> list[Diagnosis]:
    """A 404: a model retired, renamed, misspelled, or served on another route."""
    model_name = context.model or evidence.model
    bare = (model_name or "").removeprefix("models/")
    model = find_model(model_name) if model_name else None
    lines = basics(evidence)
    text = evidence.haystack.lower()
    if model_name and "not supported for predict" in text and bare.startswith("gemini"):
        return [_gemini_on_predict(model_name, model, lines)]
    if model and model.is_shut_down:
        hints = [f"Move to {model.replacement}."] if model.replacement else []
        lines += [f"model table: {model.id} is shut down since {model.shutdown}"] if model.shutdown else []
        return [Diagnosis.of("model-deprecated", "certain", lines, hints=hints, score=STRUCTURED)]
    if "/openai/" in (evidence.url or "").lower() and "images" in (evidence.url or "").lower():
        hint = f"Call POST /v1beta/models/{model_name or 'MODEL'}:generateContent instead of the OpenAI images route."
        return [Diagnosis.of("wrong-endpoint", "likely", lines, hints=[hint], score=STRUCTURED)]
    if model is not None and model_name and model.id != bare:
        lines.append(f"{model_name} is a name Google uses internally for {model.id}")
        return [Diagnosis.of("wrong-model-name", "certain", lines, hints=[f"Call {model.id}."], score=STRUCTURED)]
    if model is not None:
        note = f"{model.id} is a known model: the API version or base URL may not serve it."
        return [
            Diagnosis.of("wrong-endpoint", "possible", lines, note=note + " Could also be wrong-model-name."),
        ]
    retired = find_retired(model_name) if model_name and model is None else None
    if retired is not None and retired.only_on == "vertex":
        lines.append(f"{model_name} was only ever served on Vertex AI, where it is retired too")
        hint = f"Call a Gemini image model ({retired.replacement}) on generateContent."
        return [Diagnosis.of("wrong-model-name", "certain", lines, hints=[hint], score=4)]
    if model_name and retired is not None:
        lines.append(f"{model_name} is retired: {retired.note}")
        if bare.startswith("imagen") and "for generatecontent" in text:
            hint = f"generateContent never served Imagen, and {model_name} is retired too: call {retired.replacement}."
            note = "Could also be model-deprecated: the model is retired whichever route is used."
            return [Diagnosis.of("wrong-endpoint", "certain", lines, hints=[hint], note=note, score=4)]
        return [Diagnosis.of("model-deprecated", "certain", lines, hints=[f"Move to {retired.replacement}."], score=4)]
    if re.search(r"for api version v1\b(?!beta)", text):
        note = "Could also be wrong-model-name; v1 serves fewer models than v1beta (previews and image models)."
        hint = "Call the model on /v1beta/ (google-genai: HttpOptions(api_version='v1beta'))."
        return [Diagnosis.of("wrong-endpoint", "likely", lines, hints=[hint], note=note, score=1)]
    if model_name and re.search(r"-(?:preview|exp)(?:-\d{2}-\d{2}|-\d{4})$", model_name):
        note = "A dated preview name that is not found is most often a retired preview; could also be a typo."
        close = closest_models(model_name)
        hints = [f"Closest current names: {', '.join(close)}."] if close else []
        return [Diagnosis.of("model-deprecated", "likely", lines, hints=hints, note=note, score=1)]
    if model_name:
        close = closest_models(model_name)
        hints = [f"Closest valid names: {', '.join(close)}."] if close else []
        lines.append(f"{model_name!r} is not a model the table knows")
        confidence = "certain" if "models/" in text else "likely"
        return [Diagnosis.of("wrong-model-name", confidence, lines, hints=hints)]
    if any(layer.startswith("relay: ") for layer in evidence.layers):
        note = "Through a relay, a 404 naming no model is most often a route (channel) of the relay that does not "
        note += "serve this model. Could also be wrong-model-name."
        hint = "Ask the relay which of its channels serves the model, or call Google directly with your own key."
        return [Diagnosis.of("gateway-error", "likely", lines, hints=[hint], note=note, score=1)]
    note = "A 404 without a model name usually means a wrong path or base URL."
    return [Diagnosis.of("wrong-endpoint", "possible", lines, note=note, score=1)]


def _gemini_on_predict(model_name: str, model: Model | None, lines: list[str]) -> Diagnosis:
    """A Gemini model sent to :predict (Imagen's method): the route is wrong whether or not the model is still live."""
    hint = f"Call POST /v1beta/models/{model_name.removeprefix('models/')}:generateContent: Gemini models make images "
    hint += "there, :predict serves only Imagen."
    note = "Could also be model-deprecated: the model table marks it shut down." if model and model.is_shut_down else ""
    return Diagnosis.of("wrong-endpoint", "certain", lines, hints=[hint], note=note or None, score=STRUCTURED)


def _retirement(model: str | None) -> tuple[str | None, str] | None:
    """(its replacement, why) when the tables say `model` is retired or shut down, else None."""
    retired = find_retired(model) if model else None
    if retired is not None:
        return retired.replacement, retired.note
    known = find_model(model) if model else None
    if known is not None and known.is_shut_down:
        return known.replacement, f"shut down since {known.shutdown}"
    return None


def publisher_model(evidence: Evidence, context: Context) -> list[Diagnosis]:
    """Vertex AI's "Publisher Model … not found": the location does not serve it, the id is retired, or not one."""
    location, model = publisher_path(evidence.haystack)
    lines = [*basics(evidence), f"Vertex AI location {location or '(not read)'}, model {model or '(not read)'}"]
    retirement = _retirement(model)
    if retirement is not None:
        replacement, why = retirement
        lines.append(f"{model} is retired: {why}")
        note = "If the paste predates the shutdown, the location may have been the cause (vertex-model-not-in-region)."
        found = [
            Diagnosis.of("model-deprecated", "likely", lines, hints=[f"Move to {replacement}."], note=note, score=4)
        ]
        if location and location != "global":
            found.append(Diagnosis.of("vertex-model-not-in-region", "possible", lines, score=1))
        return found
    if location == "global":
        return [
            Diagnosis.of(
                "wrong-model-name",
                "likely",
                lines,
                hints=[
                    "The global location serves every model it has: use a model id Vertex AI lists (often a "
                    "versioned one such as gemini-2.0-flash-001) or check the project's access to it."
                ],
                note="Could also be a model the project may not use yet (preview access).",
            )
        ]
    if location and location not in known_locations():
        lines.append(f"{location} is not a location Generative AI on Vertex AI serves ({locations_source()})")
        hint = "Call the model on location global (host aiplatform.googleapis.com) or a region on that list."
        note = "Could also be vertex-model-not-in-region if the list has grown since it was checked."
        return [Diagnosis.of("vertex-location-unsupported", "likely", lines, hints=[hint], note=note, score=2)]
    where = f"Location {location}" if location else "This location"
    return [
        Diagnosis.of(
            "vertex-model-not-in-region",
            "likely",
            lines,
            hints=[
                f"{where} does not serve {model or 'this model'}: call it on location global (host "
                "aiplatform.googleapis.com) or a region that lists it in Vertex AI's locations page."
            ],
            note="Could also be wrong-model-name if the id is misspelled, or a project without access to a preview.",
            score=2,
        )
    ]


def publisher_path(text: str) -> tuple[str | None, str | None]:
    """The location and model of a Publisher Model path, read across the line breaks a terminal put in it."""
    found = re.search(r"publisher model\s*`?([^`]{0,400}?)`?\s*(?:was\s+)?not\s+found", text, re.I)
    path = re.sub(r"\s+", "", found.group(1)) if found else text
    parts = re.search(r"locations/([^/\s`'\"]+)/(?:publishers/google/)?models/([\w.@\-]+)", path)
    if not parts:
        return None, None
    location = parts.group(1) if re.fullmatch(r"[a-z0-9-]+", parts.group(1)) else None  # not a [PLACEHOLDER]
    return location, parts.group(2)


def not_an_api_route(evidence: Evidence, context: Context) -> list[Diagnosis]:
    """Google's front end answered an HTML 404 (or gRPC saw an HTTP 404): the URL is no API route. Most often a
    Vertex AI client built a host its location does not have (global-aiplatform…); a Developer API base URL
    with a wrong path gets the same page."""
    lines = [*basics(evidence), "Google's front end answered a page, not an API's JSON: the host or path is no API"]
    google = answering_google(evidence)
    text = evidence.haystack.lower()
    if google == "Gemini Developer API" or "generativelanguage.googleapis.com" in text:
        hint = "Check the base URL: https://generativelanguage.googleapis.com/v1beta/models/MODEL:generateContent."
        return [Diagnosis.of("wrong-endpoint", "likely", lines, hints=[hint], score=3)]
    vertex = google == "Vertex AI" or "aiplatform" in text
    return [
        Diagnosis.of(
            "vertex-host-not-found",
            "likely" if vertex else "possible",
            lines + ([] if vertex else ["nothing in the paste names the API: read from how these pages arise"]),
            hints=[
                "Location global is served on https://aiplatform.googleapis.com (not global-aiplatform…), us and eu "
                "on aiplatform.us.rep.googleapis.com / aiplatform.eu.rep.googleapis.com."
            ],
            note=None if vertex else "Could also be wrong-endpoint: a Gemini API base URL whose path is not an API.",
            score=3 if vertex else 1,
        )
    ]


DEVELOPER_API_CLIENTS = ("google.generativeai", "google/generativeai", "langchain_google_genai", "generativelanguage")


def credentials(evidence: Evidence, context: Context) -> list[Diagnosis]:
    """No Application Default Credentials: Vertex AI's (it takes OAuth), or a Developer API client that got no
    key and fell back to them."""
    text = evidence.haystack.lower()
    lines = basics(evidence)
    if any(marker in text for marker in DEVELOPER_API_CLIENTS) or "chatgooglegenerativeai" in text:
        lines.append("a Gemini Developer API client looked for Google Cloud credentials: it got no API key")
        hint = "Pass the API key to the client explicitly (api_key= / google_api_key=), or set GEMINI_API_KEY."
        return [Diagnosis.of("api-key-missing", "likely", lines, hints=[hint], score=2)]
    vertex = answering_google(evidence) == "Vertex AI" or "vertex" in text
    if vertex:
        lines.append("the Vertex AI route looked for Application Default Credentials and found none")
    return [
        Diagnosis.of(
            "vertex-credentials-missing",
            "certain" if vertex else "likely",
            lines,
            note=None
            if vertex
            else "Nothing names the API: if the app uses a Gemini API key, the key did not "
            "reach the client and it fell back to Google Cloud credentials (api-key-missing).",
            score=2 if vertex else 1,
        )
    ]


def invalid_argument(evidence: Evidence, context: Context) -> list[Diagnosis]:
    """A 400: which field, and whether the API version explains it."""
    text = evidence.haystack.lower()
    unknown = re.findall(r'unknown name \\?"([\w.]+)\\?"', text)  # the field path says where, not what
    names = {n.lower() for n in unknown or [f.split(".")[-1] for f, _ in evidence.field_violations]}
    lines = basics(evidence)
    if names & {"responsemodalities", "response_modalities", "imageconfig", "image_config"}:
        return [_image_fields_on_wrong_version(evidence, context, lines)]
    vertex_only = {f.lower() for f in VERTEX_ONLY_FIELDS}
    if names & vertex_only:
        found = ", ".join(sorted(names & vertex_only))
        return [Diagnosis.of("vertex-only-parameter", "certain", [*lines, f"unknown field {found}"], score=8)]
    hints = [
        f"{name} is an Imagen field, not a Gemini one: remove it." for name in sorted(names & _lower(IMAGEN_FIELDS))
    ]
    if "image_size" in text or "image size" in text:
        settings = read_request(context.request)
        size = settings.image_size or _quoted_after(evidence.haystack, ("image_size", "image size"))
        canonical = canonical_size(size) if size else None
        if size and canonical and canonical != size:
            return [
                Diagnosis.of(
                    "image-size-case",
                    "certain",
                    [*lines, f"imageSize sent as {size!r}"],
                    hints=[f'Send "imageSize": "{canonical}".'],
                    score=STRUCTURED + 2,
                )
            ]
        hints.append("Use an imageSize the model supports (see `gemini-doctor explain invalid-argument`).")
    if "multiple candidates is not enabled" in text:
        hints.append("Image models make one candidate per call: drop candidateCount and send N requests.")
    if "json mode is not enabled" in text:
        hints.append("Image models do not take responseMimeType / responseSchema: remove them.")
    if "aspect_ratio" in text or "aspect ratio" in text:
        hints.append("Use an aspectRatio the model lists; the error message names the valid ones.")
    if "response_modalities" in text and "invalid value" in text:
        hints.append('responseModalities takes "TEXT" and "IMAGE".')
    return [Diagnosis.of("invalid-argument", "certain" if hints else "likely", lines, hints=hints)]


def _image_fields_on_wrong_version(evidence: Evidence, context: Context, lines: list[str]) -> Diagnosis:
    version = context.api_version or evidence.api_version
    return Diagnosis.of(
        "wrong-endpoint",
        "likely" if version in ("v1", None) else "possible",
        lines + ([f"the request went to API version {version}"] if version else []),
        hints=[
            "Send image requests to /v1beta/models/{model}:generateContent (google-genai: "
            "HttpOptions(api_version='v1beta') or GOOGLE_GENAI_API_VERSION=beta)."
        ],
        score=STRUCTURED + 2,
    )


def modalities(evidence: Evidence, context: Context) -> list[Diagnosis]:
    """ "Model does not support the requested response modalities": the model, or the modalities asked."""
    text = evidence.haystack.lower()
    model_name = context.model or evidence.model
    model = find_model(model_name) if model_name else None
    lines = basics(evidence)
    asked = re.search(r"response modalities:?\s*\(?([a-z, ]+)\)?", text)
    asked_set = set(re.findall(r"\b(text|image|audio)\b", asked.group(1))) if asked else set()
    if asked_set == {"image"} and (model is None or model.requires_text_modality):
        return [
            Diagnosis.of(
                "missing-text-modality",
                "likely",
                [*lines, "only IMAGE was asked for, and this model needs TEXT with it"],
                hints=['Send ["TEXT", "IMAGE"], or move to a current image model, which takes ["IMAGE"] alone.'],
                note="Could also be wrong-response-modalities: a model that makes no images at all refuses IMAGE "
                "the same way; `gemini-doctor explain` with --model tells them apart.",
                score=1,
            )
        ]
    hint = (
        'Add "IMAGE" to responseModalities.'
        if "image" not in asked_set
        else "This model makes no images: call an image model (e.g. gemini-3.1-flash-image)."
    )
    return [Diagnosis.of("wrong-response-modalities", "certain", lines, hints=[hint])]


def network(evidence: Evidence, context: Context) -> list[Diagnosis]:
    if evidence.html_title is not None:
        status = f"HTTP {evidence.http_status} " if evidence.http_status else ""
        google_page = is_google_error_page(evidence.html_title)
        return [
            Diagnosis.of(
                "network-unreachable",
                "possible" if google_page else "likely",
                [f"{status}answer is an HTML page (title {evidence.html_title!r}), not a Gemini JSON body"],
                hints=[
                    "Google's own front end answered: the address reached Google but is no API (host or path)."
                    if google_page
                    else "A proxy, gateway or captive portal answered instead of Google: check HTTPS_PROXY and the "
                    "base URL."
                ],
                score=5,
            )
        ]
    what, hint = NETWORK_HINTS[evidence.network_error or "reset"]
    return [
        Diagnosis.of(
            "network-unreachable",
            "certain",
            [f"no answer from the API: {what}", f"text: {evidence.excerpt(200)!r}"],
            hints=[hint],
            score=7,
        )
    ]


NETWORK_HINTS = {
    "dns": (
        "the host name did not resolve (DNS)",
        "Check the base URL's spelling and your DNS; `nslookup generativelanguage.googleapis.com`.",
    ),
    "connect": (
        "no connection could be made to the host",
        "Check the network path and firewall; `curl -sS https://generativelanguage.googleapis.com/v1beta/models`.",
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


def response(evidence: Evidence, context: Context) -> list[Diagnosis]:
    """A 200 answer: no image (and why), or an image that is not what the request asked for."""
    settings = read_request(context.request)
    model_name = context.model or evidence.model
    model = find_model(model_name) if model_name else None
    lines = ["HTTP 200 generateContent answer", f"finishReason {', '.join(evidence.finish_reasons) or 'none'}"]
    if evidence.finish_message:
        lines.append(f"finishMessage {evidence.finish_message[:200]!r}")
    images = evidence.final_images
    if not images:
        return _no_image(evidence, settings, model, lines)
    if images[-1].info.format == "unknown":
        mime = images[-1].declared_mime
        return [Diagnosis.of("no-image-returned", "likely", [*lines, f"the image part ({mime}) is not a valid image"])]
    return _image_against_request(evidence, context, settings, model, images[-1].info.size)


def _no_image(evidence: Evidence, settings: RequestSettings, model: Model | None, lines: list[str]) -> list[Diagnosis]:
    lines.append("no image part in the answer" + (f"; text: {evidence.texts[0][:160]!r}" if evidence.texts else ""))
    upper = [m.upper() for m in settings.modalities or ()]
    if settings.modalities is not None and "IMAGE" not in upper:  # the request asked for no image
        slug, confidence = "wrong-response-modalities", "certain"
        hint = 'Add "IMAGE" to generationConfig.responseModalities.'
        said = f"the request's responseModalities is {list(settings.modalities)}"
    elif upper == ["IMAGE"] and model is not None and model.requires_text_modality:
        slug, confidence = "missing-text-modality", "likely"
        hint = 'Send ["TEXT", "IMAGE"], or move to a current image model.'
        said = f'responseModalities ["IMAGE"] on {model.id}, which required TEXT too'
    else:
        return [Diagnosis.of("no-image-returned", "likely", lines, score=3)]
    return [Diagnosis.of(slug, confidence, [*lines, said], hints=[hint], score=9)]


def _image_against_request(
    evidence: Evidence,
    context: Context,
    settings: RequestSettings,
    model: Model | None,
    size: tuple[int, int] | None,
) -> list[Diagnosis]:
    if size is None:
        return []
    width, height = size
    got = f"got {width}x{height} ({size_bucket(width, height)}, {evidence.final_images[-1].info.format.upper()})"
    found: list[Diagnosis] = []
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
    ratio = settings.aspect_ratio
    if ratio and (model is None or ratio in model.aspect_ratios) and not aspect_matches(width, height, ratio):
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


def _lower(names: Iterable[str]) -> set[str]:
    return {name.lower() for name in names}


def _quoted_after(text: str, words: tuple[str, ...]) -> str | None:
    for word in words:
        found = re.search(re.escape(word) + r"\s*'([^']+)'", text, re.I) or re.search(
            re.escape(word) + r'\s*\\?"([^"\\]+)', text, re.I
        )
        if found:
            return found.group(1)
    return None


JUDGES: dict[str, Callable[[Evidence, Context], list[Diagnosis]]] = {
    "quota": quota,
    "not_found": not_found,
    "invalid_argument": invalid_argument,
    "modalities": modalities,
    "publisher_model": publisher_model,
    "not_an_api_route": not_an_api_route,
    "credentials": credentials,
}
