"""The engine: discovers checks through the `gemini_doctor.checks` entry-point group and runs them.

It names no check. Checks start together so their network probes overlap; a check may wait for the result of an
earlier one (`await ctx.result("billing")`) to sharpen its diagnosis. A check whose prerequisite failed or was
skipped is reported as skipped with the reason. Results are reported in the checks' declared order.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from gemini_doctor.diagnosis import Diagnosis, rank
from gemini_doctor.redact import clip
from gemini_doctor.settings import Settings

if TYPE_CHECKING:  # the probes package imports httpx: not for a run that sends nothing
    from gemini_doctor.probes.limits import Deadline

ENTRY_POINT_GROUP = "gemini_doctor.checks"


@dataclass
class CheckResult:
    status: str  # pass | warn | fail | skip
    summary: str
    evidence: list[str] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # what later checks may read (billing_enabled, …)
    duration_ms: int = 0

    @classmethod
    def from_diagnoses(
        cls,
        diagnoses: list[Diagnosis],
        passed: str,
        evidence: list[str] | None = None,
        facts: dict[str, Any] | None = None,
    ) -> CheckResult:
        """fail on an error diagnosis, warn on a warning, else pass with `passed` as the summary."""
        diagnoses = rank(diagnoses)
        status = "fail" if any(d.severity == "error" for d in diagnoses) else "warn" if diagnoses else "pass"
        if status == "pass":
            summary = passed
        else:  # what was found, not the catalog's title: a static finding was never "rejected"
            top = diagnoses[0]
            detail = top.evidence[0] if top.evidence and not top.evidence[0].startswith("HTTP ") else top.error.title
            summary = f"{top.error.code} {top.error.slug}: {clip(detail, 160)}"
        return cls(status, summary, evidence or [], diagnoses, facts or {})


@runtime_checkable
class Check(Protocol):
    """What a check plugin declares. `needs` may hold "api_key", "project", "gcp", "generate"."""

    id: ClassVar[str]
    title: ClassVar[str]
    order: ClassVar[int]
    needs: ClassVar[tuple[str, ...]]
    depends_on: ClassVar[tuple[str, ...]]

    async def run(self, ctx: CheckContext) -> CheckResult: ...


class CheckContext:
    """What a running check can use: the settings, shared probes, and earlier checks' results."""

    def __init__(self, settings: Settings, probes: dict[str, Any]):
        self.settings = settings
        self.probes = probes
        self._results: dict[str, asyncio.Future[CheckResult]] = {}
        self._cache: dict[str, asyncio.Task[Any]] = {}

    async def result(self, check_id: str) -> CheckResult | None:
        """The result of another check (waiting for it), or None when that check is not running."""
        future = self._results.get(check_id)
        return await asyncio.shield(future) if future is not None else None

    async def fact(self, check_id: str, name: str) -> Any:
        result = await self.result(check_id)
        return result.facts.get(name) if result is not None else None

    async def prerequisites(self, check_ids: tuple[str, ...]) -> str | None:
        """Wait for these checks; the reason not to go on (one failed or was skipped), or None when all passed.

        Checks call this before a probe with consequences (the one paid image), so nothing is sent on a
        prerequisite that failed; free, read-only probes start at once so that rounds overlap.
        """
        for check_id in check_ids:
            before = await self.result(check_id)
            if before is not None and before.status in ("fail", "skip"):
                return f"{check_id} {'failed' if before.status == 'fail' else 'was skipped'}"
        return None

    def once(self, key: str, make: Callable[[], Awaitable[Any]]) -> Awaitable[Any]:
        """Run a probe once per check run, however many checks ask for it (e.g. the model list)."""
        if key not in self._cache:
            self._cache[key] = asyncio.ensure_future(make())
        return asyncio.shield(self._cache[key])


class BrokenPlugin:
    """Stands in for a plugin that cannot be loaded: reported as a failed check named after its entry point."""

    order = 1000
    needs: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()

    def __init__(self, name: str, error: BaseException):
        self.id = name
        self.title = f"Plugin {name}"
        self.error = f"{type(error).__name__}: {error}"

    async def run(self, ctx: CheckContext) -> CheckResult:
        line = f"the check plugin {self.id!r} could not be loaded: {self.error}"
        return CheckResult(
            "fail",
            clip(line, 200),
            [line],
            [Diagnosis.of("unknown", "possible", [line], note="Fix or uninstall the package that registers it.")],
        )


def discover_checks() -> list[Check]:
    """Every check registered in the entry-point group, built-in or third-party, in their declared order."""
    checks: list[Check] = []
    seen: set[str] = set()
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
            check = loaded() if isinstance(loaded, type) else loaded
            for attribute in ("id", "title", "order", "needs", "depends_on", "run"):
                getattr(check, attribute)
        except Exception as exc:  # one broken plugin must not take the doctor down
            check = BrokenPlugin(entry.name, exc)
        if check.id in seen:
            continue
        seen.add(check.id)
        checks.append(check)
    return sorted(checks, key=lambda c: (c.order, c.id))


def missing_needs(check: Check, settings: Settings, gcp_problem: str | None) -> str | None:
    """Why a check cannot run with these settings, or None. `gcp_problem`: why GCP calls cannot be made."""
    reasons = {
        # Vertex AI requests carry ADC's token instead (the endpoint check names missing credentials)
        "api_key": (
            bool(settings.api_key) or settings.vertex,
            "needs an API key (--api-key, GEMINI_API_KEY or GOOGLE_API_KEY)",
        ),
        "project": (bool(settings.project), "needs a project (--project or GOOGLE_CLOUD_PROJECT)"),
        "gcp": (
            gcp_problem is None,
            "needs Google Cloud credentials: run `gcloud auth application-default login` "
            f"(roles: Viewer, or Service Usage Viewer + Cloud Quotas Viewer + Billing viewer) ({gcp_problem})",
        ),
        "generate": (settings.generate, "runs only with --generate"),
    }
    for need in check.needs:
        ok, why = reasons.get(need, (True, ""))
        if not ok:
            return why
    return None


GRACE_SECONDS = 2.0  # past the deadline, a check that has not ended (a plugin ignoring it) is given up on


async def run_checks(
    checks: list[Check],
    settings: Settings,
    probes: dict[str, Any],
    gcp_problem: str | Awaitable[str | None] | None,
    deadline: Deadline | None = None,
) -> list[tuple[Check, CheckResult]]:
    """Run the checks concurrently; results in order, prerequisites applied.

    `gcp_problem` (why GCP calls cannot be made, or None) may be an awaitable still being found out: a check that
    needs Google Cloud waits for it, the others start at once. With a `deadline` (the run's one timeout), a check
    still running GRACE_SECONDS after it is reported as not finished, so no plugin can keep the run going.
    """
    ctx = CheckContext(settings, probes)
    loop = asyncio.get_running_loop()
    for check in checks:
        ctx._results[check.id] = loop.create_future()
    orders = {c.id: c.order for c in checks}

    async def one(check: Check) -> CheckResult:
        start = time.perf_counter()
        problem = await gcp_problem if "gcp" in check.needs and inspect.isawaitable(gcp_problem) else gcp_problem
        reason = missing_needs(check, settings, problem if isinstance(problem, str) else None)
        if reason:
            result = CheckResult("skip", f"skipped: {reason}")
        else:
            result = await _run_one(check, ctx, deadline)
            earlier = tuple(d for d in check.depends_on if orders.get(d, check.order) < check.order)
            blocked = await ctx.prerequisites(earlier)  # only earlier checks: no cycle can hang the run
            if blocked:
                result = CheckResult("skip", f"skipped: {blocked}", facts=result.facts)
        result.duration_ms = int((time.perf_counter() - start) * 1000)
        ctx._results[check.id].set_result(result)
        return result

    results = await asyncio.gather(*(one(check) for check in checks))
    for task in ctx._cache.values():
        task.cancel()
    return list(zip(checks, results, strict=True))


async def _run_one(check: Check, ctx: CheckContext, deadline: Deadline | None) -> CheckResult:
    """One check's own result: a bug or an overrun becomes a failed check, never a traceback or a hang."""
    try:
        task = asyncio.ensure_future(check.run(ctx))
        if deadline is not None:
            await asyncio.wait({task}, timeout=deadline.remaining() + GRACE_SECONDS)
            if not task.done():
                task.cancel()
                line = f"the {check.id} check did not end within the {deadline.seconds:g} s timeout"
                return CheckResult("fail", line, [line], [Diagnosis.of("unknown", "possible", [line])])
        return await task
    except Exception as exc:  # a plugin's bug must not take the report down
        line = clip(f"the {check.id} check raised {type(exc).__name__}: {exc}", 300)
        return CheckResult(
            "fail",
            clip(f"the check itself failed: {type(exc).__name__}: {exc}", 200),
            [line],
            [Diagnosis.of("unknown", "possible", [line], note="A bug in the check: please report it.")],
        )
