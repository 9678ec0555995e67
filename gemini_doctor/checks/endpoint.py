"""endpoint: does the base URL answer, and does its API version take image requests?

Two requests: the model list (shared with the model check), and a shape probe: a generateContent with empty
`contents` and image fields. An unknown field is rejected as the JSON is parsed (the 400 names it "at
'generation_config'", the shape js-genai#1322 reported for /v1/), so that 400 means this API version does not take
image fields, and any other 400 that it does. With no contents nothing can be generated. That it is never counted
or billed is an inference from the error's shape, not a documented guarantee.
"""

from __future__ import annotations

import asyncio
import os

from gemini_doctor.diagnosis import Context, Diagnosis
from gemini_doctor.diagnosis.rules import diagnose
from gemini_doctor.engine import CheckContext, CheckResult
from gemini_doctor.knowledge import is_openai_route
from gemini_doctor.levels import Status
from gemini_doctor.probes.gemini import Answer
from gemini_doctor.probes.limits import MAX_BODY_BYTES
from gemini_doctor.redact import redact

SHAPE_PROBE = {"contents": [], "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]}}


def proxy_in_use(base_url: str) -> str | None:
    """The proxy httpx will use for this URL (HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, minus NO_PROXY)."""
    import urllib.request

    proxies = urllib.request.getproxies()
    scheme = base_url.split("://", 1)[0]
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy:
        return None
    host = base_url.split("://", 1)[-1].split("/", 1)[0].split(":")[0]
    if urllib.request.proxy_bypass(host) if os.environ.get("NO_PROXY") or os.environ.get("no_proxy") else False:
        return None
    return redact(
        proxy.replace(proxy.split("://", 1)[-1].split("@", 1)[0] + "@", "[credentials]@") if "@" in proxy else proxy
    )


async def list_models(ctx: CheckContext):
    """The live model list, fetched once per run for every check that wants it."""
    return await ctx.once("models.list", lambda: ctx.probes["gemini"].get("models", {"pageSize": 1000}))


class EndpointCheck:
    id = "endpoint"
    title = "Endpoint (base URL, API version)"
    order = 30
    needs = ("api_key",)
    depends_on = ()
    names = (
        "network-unreachable",
        "wrong-endpoint",
        "vertex-location-unsupported",
        "vertex-host-not-found",
        "vertex-credentials-missing",
        "vertex-permission-denied",
        "vertex-predict-api",
    )

    async def run(self, ctx: CheckContext) -> CheckResult:
        if ctx.settings.vertex:
            from gemini_doctor.checks import vertex_steps

            return await vertex_steps.endpoint(ctx)
        settings, probe = ctx.settings, ctx.probes["gemini"]
        context = Context(model=settings.model, api_version=settings.api_version, base_url=settings.base_url)
        evidence = [f"base URL {settings.base_url}, API version {settings.api_version}"]
        proxy = proxy_in_use(settings.base_url)
        if proxy:
            evidence.append(f"proxy in use (from the environment): {proxy}")
        if is_openai_route(settings.base_url) or settings.api_version.startswith("openai"):
            return CheckResult(
                Status.FAIL,
                "the OpenAI-compatible path is not the image endpoint",
                evidence,
                [
                    Diagnosis.of(
                        "wrong-endpoint",
                        "certain",
                        evidence,
                        hints=[f"Use {settings.base_url.split('/v1')[0]}/v1beta/models/{{model}}:generateContent."],
                    )
                ],
            )
        listing, shape = await asyncio.gather(
            list_models(ctx), probe.post(probe.model_path(settings.model, "generateContent"), SHAPE_PROBE)
        )
        if not isinstance(listing, Answer):
            found = diagnose(listing.evidence(), context)
            return CheckResult.from_diagnoses(found, "", [*evidence, *(found[0].evidence[:1] if found else ())])
        if listing.status != 200 or not isinstance(listing.json(), dict):
            found = diagnose(listing.evidence(), context)
            evidence.append(f"GET models answered HTTP {listing.status}")
            if listing.truncated:
                evidence.append(f"GET models: the answer was larger than {MAX_BODY_BYTES >> 20} MiB decoded; cut off")
            return CheckResult.from_diagnoses(found or [Diagnosis.of("unknown", "possible", evidence)], "", evidence)
        count = len(listing.json().get("models") or [])
        evidence.append(f"GET {settings.api_version}/models answered 200 with {count} models")
        if not isinstance(shape, Answer):  # a timeout or a broken connection is reported, never taken for a pass
            failure = shape.evidence()
            evidence.append(f"shape probe (empty contents, image fields): no answer ({failure.message})")
            found = diagnose(failure, context) or [Diagnosis.of("network-unreachable", "possible", evidence)]
            return CheckResult.from_diagnoses(found, "", evidence)
        text = shape.body.lower()
        if shape.status == 400 and "unknown name" in text and "responsemodalities" in text:
            evidence.append('a generateContent with image fields answered 400 Unknown name "responseModalities"')
            found = diagnose(shape.evidence(), context)
            return CheckResult.from_diagnoses(found, "", evidence)
        where = f"{settings.base_url}/{settings.api_version}"
        if shape.status != 400:
            evidence.append(f"shape probe answered HTTP {shape.status}")
            unknown = f"the shape probe's HTTP {shape.status} does not say if it takes image fields"
            return CheckResult(Status.PASS, f"{where} answers ({unknown})", evidence)
        evidence.append("shape probe (empty contents, image fields) answered HTTP 400: the version parses image fields")
        return CheckResult(Status.PASS, f"{where} answers and takes image fields", evidence)
