"""billing: is billing enabled on the key's project (Cloud Billing getBillingInfo)?"""

from __future__ import annotations

from gemini_doctor.diagnosis import Diagnosis
from gemini_doctor.engine import CheckContext, CheckResult
from gemini_doctor.levels import Status


class BillingCheck:
    id = "billing"
    title = "Billing"
    order = 10
    needs = ("project", "gcp")
    depends_on = ()
    names = ("billing-not-enabled", "prepay-depleted", "spend-cap-exceeded", "vertex-billing-disabled")

    async def run(self, ctx: CheckContext) -> CheckResult:
        from gemini_doctor.probes import gcp

        project = ctx.settings.project
        try:
            info = await ctx.probes["gcp"].billing_info()  # bounded by the run's deadline
        except Exception as exc:  # GoogleAPICallError, transport errors, timeouts: said, not raised
            return CheckResult(Status.SKIP, f"could not read billing of {project}: {gcp.describe_gcp_error(exc)}")
        evidence = [f"Cloud Billing: projects/{project} billingEnabled={str(info['billing_enabled']).lower()}"]
        if info["billing_enabled"]:
            return CheckResult(
                Status.PASS, f"billing is enabled on {project} ({info['billing_account']})", evidence, facts=info
            )
        if ctx.settings.vertex:
            from gemini_doctor.checks import vertex_steps

            return vertex_steps.billing_disabled(project or "", evidence, info)
        diagnosis = Diagnosis.of(
            "billing-limit-zero",
            "likely",
            evidence,
            note="Without billing, image models have a free-tier quota of 0 in most countries (a 429); in countries "
            "without a free tier the API answers 400 FAILED_PRECONDITION instead (billing-not-enabled).",
        )
        return CheckResult(Status.FAIL, f"billing is not enabled on {project}", evidence, [diagnosis], facts=info)
