"""The Vertex AI halves of the checks. Not a check of its own (it registers no entry point): billing, quota,
endpoint, model and parameters each hand over to their function here when the backend is Vertex AI, so the
checklist and its order are the same on both backends.

What differs on Vertex AI: the service is aiplatform.googleapis.com; its request quota is per base model and per
minute (newer Gemini models have none: Dynamic Shared Quota); the endpoint is a location's host, judged against
Google's list before any request; the model is a publisher model, served in some locations only; requests carry
Application Default Credentials' token. The names found are Vertex's own (knowledge/vertex.toml pairs a Developer-API
name the classifier gives with the Vertex cause it stands for).
"""

from __future__ import annotations

from typing import Any

from gemini_doctor import backend
from gemini_doctor.checks.endpoint import proxy_in_use
from gemini_doctor.diagnosis import Context, Diagnosis
from gemini_doctor.diagnosis.rules import diagnose
from gemini_doctor.engine import CheckContext, CheckResult
from gemini_doctor.findings import model_deprecated
from gemini_doctor.knowledge import find_error, find_model
from gemini_doctor.levels import Status
from gemini_doctor.probes.adc import ADC_FIX
from gemini_doctor.probes.gemini import Answer, NetworkFailure

SHAPE_PROBE = {"contents": [], "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]}}


def finding(slug: str, confidence: str, evidence: list[str], **extra: Any) -> Diagnosis:
    """A Vertex finding by slug; a catalog that lacks the slug yet gets `unknown` naming it, never a crash."""
    if find_error(slug) is not None:
        return Diagnosis.of(slug, confidence, evidence, **extra)
    note = f"{slug} (this catalog has no entry for it yet)"
    return Diagnosis.of("unknown", confidence, evidence, note=note, hints=extra.get("hints", ()))


def as_vertex(found: list[Diagnosis]) -> list[Diagnosis]:
    """Developer-API names the classifier gave to an answer from Vertex AI, as the Vertex causes they stand for."""
    result = []
    for item in found:
        other = backend.vertex_equivalent(item.error.slug)
        if other and find_error(other) is not None:
            item = Diagnosis.of(other, item.confidence, item.evidence, hints=item.hints, note=item.note)
        result.append(item)
    return result


def classify(observed: Any, settings: Any, request: dict | None = None, **facts: Any) -> list[Diagnosis]:
    """An answer or a network failure from Vertex AI, named as Vertex's (a refused token is said as such)."""
    evidence = observed.evidence()
    if isinstance(observed, Answer) and observed.status == 401 and not settings.vertex_express:
        line = f"HTTP 401 from {settings.base_url}: the credentials' token was refused"
        return [finding("vertex-credentials-missing", "likely", [line], hints=[f"Run `{ADC_FIX}`."])]
    if isinstance(observed, NetworkFailure) and evidence.network_error == "dns":
        return [host_not_found(settings, evidence.message)]
    # no API version: what the classifier knows of versions (v1 refusing image fields) is the Developer API's
    context = Context(model=settings.model, request=without_vertex_fields(request), **facts)
    return as_vertex(diagnose(evidence, context))


def without_vertex_fields(request: dict | None) -> dict | None:
    """The request as the classifier should judge it here: Vertex's own image fields are right on Vertex AI."""
    from gemini_doctor.diagnosis.request import VERTEX_ONLY_FIELDS

    config = (request or {}).get("generationConfig")
    image = config.get("imageConfig") if isinstance(config, dict) else None
    if not isinstance(image, dict):
        return request
    kept = {key: value for key, value in image.items() if key not in VERTEX_ONLY_FIELDS}
    return {**request, "generationConfig": {**config, "imageConfig": kept}}  # type: ignore[dict-item]


def host_not_found(settings: Any, message: str) -> Diagnosis:
    host = settings.base_url.split("://", 1)[-1].split("/", 1)[0]
    hints = [f"Check the location ({settings.location}): {backend.vertex_host(settings.location)} is its host."]
    return finding("vertex-host-not-found", "certain", [f"{host} could not be resolved: {message}"], hints=hints)


def credentials_missing(problem: str) -> CheckResult:
    line = f"no credentials for Vertex AI: {problem}"
    hints = [
        f"Run `{ADC_FIX}` (or point GOOGLE_APPLICATION_CREDENTIALS at a service-account key file).",
        "An API key works too, in express mode: GOOGLE_API_KEY with no project or location.",
    ]
    found = [finding("vertex-credentials-missing", "certain", [line], hints=hints)]
    return CheckResult.from_diagnoses(found, "", [line])


def shape_probe(ctx: CheckContext) -> Any:
    """One generateContent with empty contents and image fields, shared by endpoint and model: it reaches the
    location's host with the project's scope, and nothing can be generated from no contents."""
    probe = ctx.probes["vertex"]
    path = probe.model_path(ctx.settings.model or "", "generateContent")
    return ctx.once("vertex.shape", lambda: probe.post(path, SHAPE_PROBE))


def where(settings: Any) -> str:
    if settings.vertex_express:
        return f"{settings.base_url} (express mode: the API key, no project in the path)"
    return f"{settings.base_url}, project {settings.project or '(from ADC)'}, location {settings.location}"


async def endpoint(ctx: CheckContext) -> CheckResult:
    """The location (Google's list, before any request), the credentials, then the host and the request's shape."""
    settings = ctx.settings
    evidence = [f"Vertex AI at {where(settings)}, API version {settings.api_version}"]
    proxy = proxy_in_use(settings.base_url)
    if proxy:
        evidence.append(f"proxy in use (from the environment): {proxy}")
    problem = backend.location_problem(settings.location)
    if problem:
        hints = [f"Use one of Google's locations ({backend.locations_source().split(';')[0]}), e.g. global."]
        found = [finding("vertex-location-unsupported", "certain", [*evidence, problem], hints=hints)]
        return CheckResult.from_diagnoses(found, "", [*evidence, f"{problem}: nothing was sent"])
    auth = await ctx.probes["vertex"].authorise()
    evidence.append(f"credentials: {auth.source}")
    if auth.problem:
        return credentials_missing(auth.problem)
    shape = await shape_probe(ctx)
    if not isinstance(shape, Answer):
        failure = shape.evidence()
        evidence.append(f"shape probe (empty contents, image fields): no answer ({failure.message})")
        found = classify(shape, settings) or [Diagnosis.of("network-unreachable", "possible", evidence)]
        return CheckResult.from_diagnoses(found, "", evidence)
    evidence.append(f"shape probe (empty contents, image fields) answered HTTP {shape.status}")
    if shape.status == 400:
        return CheckResult(Status.PASS, f"{settings.base_url} answers and parses image fields", evidence)
    if shape.status == 404:  # the publisher model is not served here: the model check names it
        summary = f"{settings.base_url} answers (the model is judged by the model check)"
        return CheckResult(Status.PASS, summary, evidence)
    found = classify(shape, settings)
    return CheckResult.from_diagnoses(found, f"{settings.base_url} answers (HTTP {shape.status})", evidence)


async def model(ctx: CheckContext) -> CheckResult:
    """The publisher model (GET publishers/google/models/{m}); served at this location (the table, the scoped 404)."""
    settings, probe = ctx.settings, ctx.probes["vertex"]
    name = settings.model or ""
    if backend.location_problem(settings.location):  # said by the endpoint check; nothing is sent there
        return CheckResult.skipped(f"location {settings.location} is not one of Google's")
    answer = await probe.get(probe.model_path(name))
    evidence = [f"publisher model {name}: GET answered {answer.status if isinstance(answer, Answer) else 'nothing'}"]
    if not isinstance(answer, Answer) or answer.status != 200:
        found = classify(answer, settings)
        if isinstance(answer, Answer) and answer.status == 404:
            found = [Diagnosis.of("wrong-model-name", "likely", evidence)]
        return CheckResult.from_diagnoses(found, "", evidence)
    known = find_model(name)
    served = backend.model_served(name, settings.location, preview=bool(known and known.status == "preview"))
    shape = await shape_probe(ctx)
    if isinstance(shape, Answer) and shape.status == 404:
        line = f"generateContent at location {settings.location}: HTTP 404, the publisher model not found"
        return not_in_region([line, *evidence], "certain" if served.served is False else "likely")
    if served.served is False:
        line = f"served at {', '.join(served.locations)}, not {settings.location} (source: {served.source})"
        return not_in_region([line, *evidence], "likely")
    retired = model_deprecated(known, evidence, served=True) if known else None
    if retired is not None:
        return CheckResult.from_diagnoses([retired], "", list(retired.evidence))
    at = f"at {settings.location}" if settings.location else "(express mode: global)"
    if served.served:
        evidence.append(f"the locations table lists it at {settings.location} (source: {served.source})")
    return CheckResult(Status.PASS, f"publisher model {name} exists and is served {at}", evidence)


def not_in_region(evidence: list[str], confidence: str) -> CheckResult:
    found = [finding("vertex-model-not-in-region", confidence, evidence)]
    return CheckResult.from_diagnoses(found, "", evidence)


def billing_disabled(project: str, evidence: list[str], info: dict[str, Any]) -> CheckResult:
    """Vertex AI has no free tier: without billing every call is refused (403 BILLING_DISABLED)."""
    found = [finding("vertex-billing-disabled", "certain", evidence)]
    return CheckResult(Status.FAIL, f"billing is not enabled on {project}", evidence, found, facts=info)


def service_disabled(state: str, project: str, evidence: list[str]) -> CheckResult:
    found = [finding("vertex-api-disabled", "certain", evidence)]  # the catalog's fix names the command
    return CheckResult(Status.FAIL, f"the Vertex AI API is {state.lower()} in {project}", evidence, found, facts={})


def base_model_quotas(entries: list[dict[str, Any]], model: str, location: str | None) -> list[dict[str, Any]]:
    """The per-base-model request quotas that apply to this model at this location (the model's own entry, else
    the default one; a region's entry, else the one without a region)."""
    metric, dimension = backend.quota_metric()
    region = location or backend.DEFAULT_LOCATION
    chosen: dict[str, tuple[int, dict[str, Any]]] = {}
    for entry in entries:
        dims = entry["dimensions"]
        if entry["metric"] != metric or dims.get(dimension, model) != model or dims.get("region", region) != region:
            continue
        is_global = "global" in entry["quota_id"].lower()
        if is_global != (region == "global"):
            continue
        rank = (dimension in dims) + ("region" in dims)
        if entry["quota_id"] not in chosen or rank > chosen[entry["quota_id"]][0]:
            chosen[entry["quota_id"]] = (rank, entry)
    return [entry for _, entry in chosen.values()]


def quota_judgement(entries: list[dict[str, Any]], settings: Any, evidence: list[str]) -> CheckResult:
    """The per-base-model quota at this location: 0 is a refusal before any call; none is Dynamic Shared Quota."""
    name = settings.model or ""
    quotas = base_model_quotas(entries, name, settings.location)
    for quota in quotas:
        scope = ", ".join(f"{k}={v}" for k, v in sorted(quota["dimensions"].items())) or "all base models"
        evidence.append(f"Cloud Quotas: {quota['quota_id']} = {quota['value']} per {quota['refresh']} ({scope})")
    facts = {"paid_quota": max((q["value"] for q in quotas), default=None)}
    if quotas and all(q["value"] == 0 for q in quotas):
        found = [finding("vertex-base-model-quota", "certain", evidence)]
        return CheckResult.from_diagnoses(found, "", evidence, facts)
    if not quotas:
        summary = (
            f"{backend.service_name()} enabled; no per-base-model quota for {name}: Dynamic Shared Quota (capacity "
            "shared per model and region; its 429 is dynamic-shared-quota)"
        )
        return CheckResult(Status.PASS, summary, evidence, facts=facts)
    per_minute = f"{facts['paid_quota']} requests per minute for base model {name}"
    return CheckResult(Status.PASS, f"{backend.service_name()} enabled; {per_minute}", evidence, facts=facts)
