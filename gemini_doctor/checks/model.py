"""model: does the model exist, take generateContent, make images, and is it current? The live API wins over
the built-in table; a wrong name gets the closest valid ones suggested.

It runs after the endpoint check (its prerequisite) and reads the model from the model list that check fetched;
only a model the list does not hold costs a models.get, whose error is what is diagnosed.
"""

from __future__ import annotations

from typing import Any

from gemini_doctor.checks.endpoint import list_models
from gemini_doctor.diagnosis import Context, Diagnosis
from gemini_doctor.diagnosis.rules import diagnose
from gemini_doctor.engine import CheckContext, CheckResult
from gemini_doctor.findings import model_deprecated
from gemini_doctor.knowledge import closest_models, find_model, is_image_model, model_id
from gemini_doctor.levels import Status
from gemini_doctor.probes.gemini import Answer


def listed_models(listing: Any) -> dict[str, dict[str, Any]]:
    """The live model list by id (without `models/`); empty when there is no readable list."""
    if not isinstance(listing, Answer) or not isinstance(listing.json(), dict):
        return {}
    entries = listing.json().get("models") or []
    return {model_id(str(m.get("name", ""))): m for m in entries if isinstance(m, dict)}


def live_image_models(listing: Any) -> list[str]:
    """Names in the live list that make images: known to the table, or named like an image model."""
    names = set(listed_models(listing))
    return [n for n in listed_models(listing) if is_image_model(n, names)]


class ModelCheck:
    id = "model"
    title = "Model"
    order = 40
    needs = ("api_key",)
    depends_on = ("endpoint",)
    names = ("wrong-model-name", "model-deprecated", "vertex-model-not-in-region")

    async def run(self, ctx: CheckContext) -> CheckResult:
        if ctx.settings.vertex:
            from gemini_doctor.checks import vertex_steps

            return await vertex_steps.model(ctx)
        name = ctx.settings.model or ""
        listing = await list_models(ctx)
        resource = listed_models(listing).get(model_id(name))
        evidence = [f"model {name}"]
        if resource is not None:
            evidence.append(f"models.list holds {name}")
        else:
            probe = ctx.probes["gemini"]
            answer = await probe.get(probe.model_path(name))
            if not isinstance(answer, Answer) or answer.status != 200:
                return self._missing(ctx, name, answer, listing, evidence)
            resource = answer.json() if isinstance(answer.json(), dict) else {}
            evidence.append("models.get: 200")
        return self._judge(name, resource, listing, evidence)

    @staticmethod
    def _missing(ctx: CheckContext, name: str, answer: Any, listing: Any, evidence: list[str]) -> CheckResult:
        """models.get did not answer 200: the error diagnosed, the closest image models suggested."""
        found = diagnose(answer.evidence(), Context(model=name, api_version=ctx.settings.api_version))
        live = live_image_models(listing)
        close = closest_models(name, live) if live else closest_models(name)
        if close and found and found[0].error.slug == "wrong-model-name":
            hint = f"Closest image models the API lists: {', '.join(close)}."
            found[0] = Diagnosis.of("wrong-model-name", found[0].confidence, found[0].evidence, hints=[hint])
        status = answer.status if isinstance(answer, Answer) else "no answer"
        return CheckResult.from_diagnoses(found, "", [*evidence, f"models.get answered {status}"])

    @staticmethod
    def _judge(name: str, resource: dict[str, Any], listing: Any, evidence: list[str]) -> CheckResult:
        """The model exists: does it take generateContent, make images, and is it current?"""
        methods = [str(m) for m in resource.get("supportedGenerationMethods") or []]
        evidence.append(f"methods {', '.join(methods) or 'none listed'}")
        if methods and "generateContent" not in methods:
            hint = f"{name} does not take generateContent (methods: {', '.join(methods)}); Imagen uses :predict."
            found = Diagnosis.of("wrong-endpoint", "likely", evidence, hints=[hint])
            return CheckResult.from_diagnoses([found], "", evidence)
        known = find_model(name)
        if known is None:
            evidence.append("not in the built-in model table: its sizes and ratios cannot be checked")
            if is_image_model(name):
                return CheckResult(Status.PASS, f"{name} exists (not in the built-in table)", evidence)
            hint = f"Image models: {', '.join(live_image_models(listing)) or 'see models.list'}."
            lines = [*evidence, "its name does not say it makes images"]
            found = Diagnosis.of("wrong-model-name", "possible", lines, severity="warning", hints=[hint])
            return CheckResult.from_diagnoses([found], "", evidence)
        retired = model_deprecated(known, evidence, served=True)
        if retired is not None:
            return CheckResult.from_diagnoses([retired], "", list(retired.evidence))
        status = "preview" if known.status == "preview" else "GA"
        made = f"({status}, {known.output_format.upper()})"
        return CheckResult(Status.PASS, f"{name} exists, takes generateContent and makes images {made}", evidence)
