"""quota: is the Generative Language API enabled (Service Usage), and what quotas apply to the model (Cloud Quotas)?

Google publishes no tier-to-quota table; the values read here are the project's own, and any tier is an inference.
"""

from __future__ import annotations

import asyncio
from typing import Any

from gemini_doctor.diagnosis import Diagnosis
from gemini_doctor.diagnosis.evidence import QuotaViolation
from gemini_doctor.engine import CheckContext, CheckResult
from gemini_doctor.knowledge import find_model
from gemini_doctor.levels import Status


def for_model(quotas: list[dict[str, Any]], model_ids: set[str]) -> list[dict[str, Any]]:
    """Per quotaId, the entry for this model, else the default one (no model dimension): Cloud Quotas orders
    dimensions from specific to general, and a default "applies to all values except those with their own entry"."""
    chosen: dict[str, dict[str, Any]] = {}
    for quota in quotas:
        model = quota["dimensions"].get("model")
        if model in model_ids or (model is None and quota["quota_id"] not in chosen):
            chosen[quota["quota_id"]] = quota
    return list(chosen.values())


def is_free_tier(quota: dict[str, Any]) -> bool:
    return QuotaViolation(metric=quota["metric"], quota_id=quota["quota_id"]).free_tier


class QuotaCheck:
    id = "quota"
    title = "Quota (API enabled, per-minute and per-day limits)"
    order = 20
    needs = ("project", "gcp")
    depends_on = ()
    names = (
        "service-disabled",
        "billing-limit-zero",
        "ghost-429",
        "ipm-exceeded",
        "daily-quota-exhausted",
        "dynamic-shared-quota",
        "vertex-api-disabled",
        "vertex-base-model-quota",
        "vertex-provisioned-throughput",
    )

    async def run(self, ctx: CheckContext) -> CheckResult:
        from gemini_doctor.probes import gcp

        settings = ctx.settings
        probe = ctx.probes["gcp"]  # both calls bounded by the run's deadline
        state: str | BaseException
        listing: gcp.QuotaListing | BaseException
        state, listing = await asyncio.gather(probe.service_state(), probe.quota_infos(), return_exceptions=True)
        if isinstance(state, BaseException):
            return CheckResult(Status.SKIP, f"could not read Service Usage: {gcp.describe_gcp_error(state)}")
        evidence = [f"Service Usage: {probe.service} is {state}"]
        if state != "ENABLED" and settings.vertex:
            from gemini_doctor.checks import vertex_steps

            return vertex_steps.service_disabled(state, settings.project or "", evidence)
        if state != "ENABLED":
            return CheckResult(
                Status.FAIL,
                f"the Generative Language API is {state.lower()} in {settings.project}",
                evidence,
                [Diagnosis.of("service-disabled", "certain", evidence)],
                facts={},
            )
        if isinstance(listing, BaseException):
            return CheckResult(
                Status.WARN,
                f"API enabled; could not read Cloud Quotas: {gcp.describe_gcp_error(listing)}",
                evidence,
                facts={},
            )
        if not listing.complete:
            evidence.append(
                f"Cloud Quotas has more pages: only the first was read (at most {gcp.MAX_REQUESTS} requests to "
                "Google Cloud per run); a quota on a later page is not seen"
            )
        if settings.vertex:
            from gemini_doctor.checks import vertex_steps

            result = vertex_steps.quota_judgement(listing.entries, settings, evidence)
        else:
            billing = await ctx.fact("billing", "billing_enabled")
            result = judge(listing.entries, settings.model or "", billing, evidence)
        if result.status is Status.PASS and not listing.complete:
            result.summary += " (first page of Cloud Quotas only)"
        return result


def judge(quotas: list[dict[str, Any]], name: str, billing: bool | None, evidence: list[str]) -> CheckResult:
    """What the quotas that apply to the model say, with billing's answer (None when unknown)."""
    model = find_model(name)
    model_ids = {name} | ({model.id, *model.aliases} if model else set())
    relevant = for_model(quotas, model_ids)
    paid = [q for q in relevant if not is_free_tier(q)]
    free = [q for q in relevant if is_free_tier(q)]
    for quota in relevant:
        scope = quota["dimensions"].get("model", "all models")
        evidence.append(f"Cloud Quotas: {quota['quota_id']} = {quota['value']} per {quota['refresh']} ({scope})")
    per_minute = [q["value"] for q in paid if q["refresh"] == "minute"]
    facts = {"paid_quota": max(per_minute) if per_minute else None}
    applicable = free if billing is False else (paid or free)
    if applicable and all(q["value"] == 0 for q in applicable):
        slug = "ghost-429" if billing else "billing-limit-zero"
        confidence = "possible" if billing else ("certain" if billing is False else "likely")
        return CheckResult.from_diagnoses([Diagnosis.of(slug, confidence, evidence)], "", evidence, facts)
    if not relevant:
        return CheckResult(Status.PASS, f"API enabled; no quota in Cloud Quotas names {name}", evidence, facts=facts)
    tier = (
        "a paid tier (an inference from non-zero paid quotas; AI Studio shows the tier)"
        if paid and any(q["value"] for q in paid)
        else "the free tier (an inference)"
    )
    minute = f"{facts['paid_quota']} per minute" if facts["paid_quota"] is not None else "no per-minute quota"
    return CheckResult(Status.PASS, f"API enabled; {minute} for {name}; suggests {tier}", evidence, facts=facts)
