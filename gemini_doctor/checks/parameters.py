"""parameters: what the app sends (static), and with --generate one live image whose bytes are checked.

Static: responseModalities, where imageConfig sits and how it is spelled, Vertex-only and Imagen fields,
candidateCount, size casing, sizes and ratios the model supports. Live (--generate, the only thing that costs
money): exactly one generateContent; the image's real format and pixel size against what was asked.
"""

from __future__ import annotations

from dataclasses import replace

from gemini_doctor.diagnosis import Context, Diagnosis
from gemini_doctor.diagnosis.evidence import read_evidence
from gemini_doctor.diagnosis.request import RequestSettings, read_request, request_findings
from gemini_doctor.diagnosis.rules import diagnose
from gemini_doctor.engine import CheckContext, CheckResult
from gemini_doctor.input_error import InputError
from gemini_doctor.knowledge import find_model
from gemini_doctor.levels import Status
from gemini_doctor.probes.gemini import Answer

PROMPT = "A single ripe banana on a plain white background."


def settings_under_test(ctx: CheckContext) -> RequestSettings:
    settings = ctx.settings
    return read_request(settings.request_body).with_overrides(
        image_size=settings.image_size, aspect_ratio=settings.aspect_ratio, modalities=settings.modalities
    )


def request_body(asked: RequestSettings, app_body: dict | None) -> dict:
    """The app's own body when given (its prompt replaced), else a minimal one with the settings under test."""
    body = dict(app_body or {})
    body["contents"] = [{"role": "user", "parts": [{"text": PROMPT}]}]
    config = dict(body.get("generationConfig") or body.pop("generation_config", None) or {})
    config.update(asked.generation_config())
    if config:
        body["generationConfig"] = config
    return body


def too_late_for_an_image(deadline) -> str | None:
    """Why the paid call is not sent this late in the run, or None. The run has one deadline (`--timeout`); an
    image sent with little of it left would be paid for and then abandoned before it arrives."""
    left = deadline.remaining()
    if left >= deadline.seconds / 2:
        return None
    return (
        f"only {left:.1f} s of the {deadline.seconds:g} s timeout were left after the free checks, too little for "
        "an image that is paid for even when the answer is abandoned (raise --timeout)"
    )


class ParametersCheck:
    id = "parameters"
    title = "Parameters (modalities, imageConfig, sizes, ratios)"
    order = 50
    needs = ()
    depends_on = ()  # the static part needs nothing; a live model to check against comes from endpoint and model
    live_prerequisites = ("endpoint", "model")

    async def run(self, ctx: CheckContext) -> CheckResult:
        settings = ctx.settings
        asked = settings_under_test(ctx)
        judged = replace(asked, vertex_only=()) if settings.vertex else asked  # Vertex's own fields are right there
        found: list[Diagnosis] = list(request_findings(judged, find_model(settings.model or "")))
        evidence = [f"settings under test: {asked.generation_config() or 'none (model defaults)'}"]
        blocked = await ctx.prerequisites(self.live_prerequisites)  # free checks: they end before any image
        late = None if blocked or not settings.generate else too_late_for_an_image(ctx.probes["gemini"].deadline)
        generated = False
        if settings.generate and (blocked or late):
            evidence.append(f"no image requested: {blocked or late}, so the paid call was not sent")
        elif settings.generate and (settings.api_key or settings.vertex):
            found += await self._generate(ctx, asked, evidence)
            generated = True
        if settings.error_text:
            found += await self._pasted(ctx, evidence)
        result = CheckResult.from_diagnoses(found, "", evidence)
        if result.status is not Status.PASS:
            return result
        if generated:
            return CheckResult(Status.PASS, "one image generated as asked", evidence)
        if late:
            return CheckResult(Status.WARN, f"no image requested: {late}", evidence)
        if blocked or not (asked.generation_config() or settings.request_body):
            why = blocked or "no settings to check (model defaults); --request, --image-size or --generate give some"
            return CheckResult.skipped(why, evidence=evidence)
        return CheckResult(Status.PASS, "the settings are valid for this model", evidence)

    async def _generate(self, ctx: CheckContext, asked: RequestSettings, evidence: list[str]) -> list[Diagnosis]:
        """The one paid call: what came back, diagnosed with what billing and quota found."""
        settings, probe = ctx.settings, ctx.probes["gemini"]
        body = request_body(asked, settings.request_body)
        answer = await probe.post(probe.model_path(settings.model, "generateContent"), body)
        observed = answer.evidence()
        evidence.append(self._describe(answer, observed))
        if settings.vertex:  # Vertex AI's answers as Vertex's causes, its own image fields not held against it
            from gemini_doctor.checks import vertex_steps

            context = await self._context(ctx, body, api=False)
            facts = {"billing_enabled": context.billing_enabled, "paid_quota": context.paid_quota}
            return vertex_steps.classify(answer, settings, body, **facts)
        return diagnose(observed, await self._context(ctx, body, api=True))

    async def _pasted(self, ctx: CheckContext, evidence: list[str]) -> list[Diagnosis]:
        """--error: the app's own error, diagnosed with the live context."""
        settings = ctx.settings
        try:
            pasted = read_evidence(settings.error_text or "")
        except InputError as exc:
            evidence.append(f"--error {settings.error_file}: {exc}")
            return []
        evidence.append(f"--error {settings.error_file}: {pasted.kind}")
        found = diagnose(pasted, await self._context(ctx, settings.request_body, api=False))
        if settings.vertex:
            from gemini_doctor.checks import vertex_steps

            found = vertex_steps.as_vertex(found)
        return found

    @staticmethod
    async def _context(ctx: CheckContext, body: dict | None, api: bool) -> Context:
        settings = ctx.settings
        billing, paid = await ctx.fact("billing", "billing_enabled"), await ctx.fact("quota", "paid_quota")
        where = {"api_version": settings.api_version, "base_url": settings.base_url} if api else {}
        return Context(model=settings.model, billing_enabled=billing, paid_quota=paid, request=body, **where)

    @staticmethod
    def _describe(answer, observed) -> str:
        if not isinstance(answer, Answer):
            return f"generateContent: no answer ({observed.network_error})"
        if answer.truncated:
            return f"generateContent: HTTP {answer.status}, an answer larger than 32 MiB, cut off there"
        images = observed.final_images
        if answer.status == 200 and images:
            image = images[-1]
            declared = image.declared_mime or "no mimeType"
            size = f"{image.info.width}x{image.info.height}" if image.info.size else "unreadable size"
            lie = "" if declared.endswith(image.info.format) else f" (declared {declared}: the bytes disagree)"
            return f"generateContent: 200, {image.info.format.upper()} {size}{lie}"
        finish = ", ".join(observed.finish_reasons) or "none"
        return f"generateContent: HTTP {answer.status}" + (
            f", finishReason {finish}, no image" if answer.status == 200 else ""
        )
