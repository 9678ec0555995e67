"""model: does the model exist, take generateContent, make images, and is it current? The live API wins over
the built-in table; a wrong name gets the closest valid ones suggested."""

from __future__ import annotations

import asyncio
import datetime as dt

from gemini_doctor.checks.endpoint import list_models
from gemini_doctor.diagnosis import Context, Diagnosis
from gemini_doctor.diagnosis.rules import diagnose
from gemini_doctor.engine import CheckContext, CheckResult
from gemini_doctor.knowledge import closest_models, find_model, models
from gemini_doctor.probes.gemini import Answer


def live_image_models(listing) -> list[str]:
    """Names in the live list that make images: known to the table, or named like an image model."""
    if not isinstance(listing, Answer) or not isinstance(listing.json(), dict):
        return []
    names = [
        str(m.get("name", "")).removeprefix("models/")
        for m in listing.json().get("models") or []
        if isinstance(m, dict)
    ]
    table = {m.id for m in models()}
    return [n for n in names if n in table or "image" in n]


class ModelCheck:
    id = "model"
    title = "Model"
    order = 40
    needs = ("api_key",)
    depends_on = ("endpoint",)

    async def run(self, ctx: CheckContext) -> CheckResult:
        settings = ctx.settings
        if settings.vertex:
            from gemini_doctor.checks import vertex_steps

            return await vertex_steps.model(ctx)
        name = settings.model or ""
        answer, listing = await asyncio.gather(
            ctx.probes["gemini"].get(ctx.probes["gemini"].model_path(name)), list_models(ctx)
        )
        known = find_model(name)
        evidence = [f"model {name}"]
        if not isinstance(answer, Answer) or answer.status != 200:
            failure = answer.evidence()
            found = diagnose(failure, Context(model=name, api_version=settings.api_version))
            live = live_image_models(listing)
            close = closest_models(name, live) if live else closest_models(name)
            if close and found and found[0].error.slug == "wrong-model-name":
                found[0] = Diagnosis.of(
                    "wrong-model-name",
                    found[0].confidence,
                    found[0].evidence,
                    hints=[f"Closest image models the API lists: {', '.join(close)}."],
                )
            return CheckResult.from_diagnoses(
                found,
                "",
                [*evidence, f"models.get answered {answer.status if isinstance(answer, Answer) else 'no answer'}"],
            )
        resource = answer.json() if isinstance(answer.json(), dict) else {}
        methods = resource.get("supportedGenerationMethods") or []
        evidence.append(f"models.get: 200, methods {', '.join(map(str, methods)) or 'none listed'}")
        if methods and "generateContent" not in methods:
            return CheckResult.from_diagnoses(
                [
                    Diagnosis.of(
                        "wrong-endpoint",
                        "likely",
                        evidence,
                        hints=[
                            f"{name} does not take generateContent (methods: {', '.join(methods)}); an Imagen model "
                            "uses :predict."
                        ],
                    )
                ],
                "",
                evidence,
            )
        if known is None:
            evidence.append("not in the built-in model table: its sizes and ratios cannot be checked")
            if "image" not in name:
                return CheckResult.from_diagnoses(
                    [
                        Diagnosis.of(
                            "wrong-model-name",
                            "possible",
                            [*evidence, "its name does not say it makes images"],
                            severity="warning",
                            hints=[f"Image models: {', '.join(live_image_models(listing)) or 'see models.list'}."],
                        )
                    ],
                    "",
                    evidence,
                )
            return CheckResult("pass", f"{name} exists (not in the built-in table)", evidence)
        today = dt.date.today()
        if known.status in ("deprecated", "shut-down") or (known.shutdown and known.shutdown <= today):
            when = f"; shutdown {known.shutdown}" if known.shutdown else ""
            evidence.append(
                f"model table: {known.status}{when} (source: {known.source[:120]}); the live API still serves it"
            )
            return CheckResult.from_diagnoses(
                [
                    Diagnosis.of(
                        "model-deprecated",
                        "likely",
                        evidence,
                        severity="warning",
                        hints=[f"Plan the move to {known.replacement}."] if known.replacement else [],
                    )
                ],
                "",
                evidence,
            )
        status = "preview" if known.status == "preview" else "GA"
        return CheckResult(
            "pass",
            f"{name} exists, takes generateContent and makes images ({status}, {known.output_format.upper()})",
            evidence,
        )
