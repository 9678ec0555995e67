"""The engine: discovers checks through the `gemini_doctor.checks` entry-point group and runs them.

It names no check. Checks start together so their network probes overlap, except that a check waits for the
checks it `depends_on` before it runs: one whose prerequisite failed, broke or was skipped is skipped with the
reason and sends nothing. The dependency graph is checked at discovery (an unknown check or a cycle makes the
check an error, never a hang). A check may also read an earlier one's result (`await ctx.result("billing")`) to
sharpen its diagnosis. A plugin that raises or overruns is an `error`, not a `fail`. Results come in declared order.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast, runtime_checkable

from gemini_doctor.diagnosis import Diagnosis, rank
from gemini_doctor.levels import Need, Severity, Status
from gemini_doctor.plugins import entry_points
from gemini_doctor.redact import clip
from gemini_doctor.settings import Settings

if TYPE_CHECKING:  # the probes package imports httpx: not for a run that sends nothing
    from gemini_doctor.probes.limits import Deadline

ENTRY_POINT_GROUP = "gemini_doctor.checks"


@dataclass
class CheckResult:
    status: Status
    summary: str
    evidence: list[str] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # what later checks may read (billing_enabled, …)
    duration_ms: int = 0

    def __post_init__(self) -> None:
        self.status = Status(self.status)

    @classmethod
    def skipped(
        cls, reason: str, facts: dict[str, Any] | None = None, evidence: list[str] | None = None
    ) -> CheckResult:
        return cls(Status.SKIP, f"skipped: {reason}", evidence or [], facts=facts or {})

    @classmethod
    def broken(cls, summary: str, line: str, note: str | None = None) -> CheckResult:
        """The check itself could not do its work (a bug, an overrun, a plugin that cannot load)."""
        diagnosis = Diagnosis.of("unknown", "possible", [line], note=note)
        return cls(Status.ERROR, clip(summary, 200), [line], [diagnosis])

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
        if not diagnoses:
            return cls(Status.PASS, passed, evidence or [], [], facts or {})
        status = Status.FAIL if any(d.severity is Severity.ERROR for d in diagnoses) else Status.WARN
        top = diagnoses[0]  # what was found, not the catalog's title: a static finding was never "rejected"
        detail = top.evidence[0] if top.evidence and not top.evidence[0].startswith("HTTP ") else top.error.title
        summary = f"{top.error.code} {top.error.slug}: {clip(detail, 160)}"
        return cls(status, summary, evidence or [], diagnoses, facts or {})


@runtime_checkable
class Check(Protocol):
    """What a check plugin declares. `needs`: values of levels.Need ("api_key", "project", "gcp", "generate")."""

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
        """Wait for these checks; the reason not to go on (one did not pass or warn), or None.

        The engine calls this before a check runs (its `depends_on`); a check calls it before a probe with
        consequences (the one paid image) that waits on more than the check itself does.
        """
        for check_id in check_ids:
            before = await self.result(check_id)
            if before is not None and not (before.status is Status.PASS or before.status is Status.WARN):
                verb = {Status.FAIL: "failed", Status.SKIP: "was skipped", Status.ERROR: "could not run"}
                return f"{check_id} {verb[before.status]}"
        return None

    def once(self, key: str, make: Callable[[], Awaitable[Any]]) -> Awaitable[Any]:
        """Run a probe once per check run, however many checks ask for it (e.g. the model list)."""
        if key not in self._cache:
            self._cache[key] = asyncio.ensure_future(make())
        return asyncio.shield(self._cache[key])


class BrokenPlugin:
    """Stands in for a check that cannot run: it cannot be loaded, or its dependencies are unknown or circular."""

    order = 1000
    needs: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()

    def __init__(self, name: str, error: BaseException | str, title: str | None = None, order: int = 1000):
        self.id = name
        self.title = title or f"Plugin {name}"
        self.order = order
        said = error if isinstance(error, str) else f"could not be loaded: {type(error).__name__}: {error}"
        self.error = f"the check plugin {name!r} {said}" if not isinstance(error, str) else f"the {name} check: {said}"

    async def run(self, ctx: CheckContext) -> CheckResult:
        line = self.error
        return CheckResult.broken(line, line, note="Fix or uninstall the package that registers it.")


def discover_checks() -> list[Check]:
    """Every check registered in the entry-point group, built-in or third-party, in their declared order."""
    checks: list[Check] = []
    seen: set[str] = set()
    for entry in entry_points(ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
            check = loaded() if isinstance(loaded, type) else loaded
            for attribute in ("id", "title", "order", "needs", "depends_on", "run"):
                getattr(check, attribute)
            _ = [Need(need) for need in check.needs]
        except Exception as exc:  # one broken plugin must not take the doctor down
            check = cast(Check, BrokenPlugin(entry.name, exc))
        if check.id in seen:
            continue
        seen.add(check.id)
        checks.append(check)
    return sorted(validate_graph(checks), key=lambda c: (c.order, c.id))


def validate_graph(checks: list[Check]) -> list[Check]:
    """Each check whose `depends_on` names no discovered check, or leads back to itself, becomes a BrokenPlugin."""
    by_id = {c.id: c for c in checks}

    def problem(check: Check) -> str | None:
        unknown = [d for d in check.depends_on if d not in by_id]
        if unknown:
            return f"it depends on {', '.join(unknown)}, which no installed check provides"
        path, todo = [check.id], list(check.depends_on)
        while todo:  # depth-first over the dependencies: reaching the check again is a cycle
            current = todo.pop()
            if current == check.id:
                return f"its dependencies lead back to it ({' -> '.join([*path, check.id])})"
            if current in by_id and current not in path:
                path.append(current)
                todo.extend(by_id[current].depends_on)
        return None

    result: list[Check] = []
    for check in checks:
        why = problem(check)
        result.append(check if why is None else cast(Check, BrokenPlugin(check.id, why, check.title, check.order)))
    return result


NEED_REASONS = {
    Need.API_KEY: "needs an API key (--api-key, GEMINI_API_KEY or GOOGLE_API_KEY)",
    Need.PROJECT: "needs a project (--project or GOOGLE_CLOUD_PROJECT)",
    Need.GCP: "needs Google Cloud credentials: run `gcloud auth application-default login` "
    "(roles: Viewer, or Service Usage Viewer + Cloud Quotas Viewer + Billing viewer) ({problem})",
    Need.GENERATE: "runs only with --generate",
}


def missing_needs(check: Check, settings: Settings, gcp_problem: str | None) -> str | None:
    """Why a check cannot run with these settings, or None. `gcp_problem`: why GCP calls cannot be made."""
    met = {
        Need.API_KEY: bool(settings.api_key) or settings.vertex,  # Vertex AI: ADC's token (endpoint names none)
        Need.PROJECT: bool(settings.project),
        Need.GCP: gcp_problem is None,
        Need.GENERATE: settings.generate,
    }
    for need in map(Need, check.needs):
        if not met[need]:
            return NEED_REASONS[need].format(problem=gcp_problem)
    return None


GRACE_SECONDS = 2.0  # past the deadline, a check that has not ended (a plugin ignoring it) is given up on


async def run_checks(
    checks: list[Check],
    settings: Settings,
    probes: dict[str, Any],
    gcp_problem: str | Awaitable[str | None] | None,
    deadline: Deadline | None = None,
) -> list[tuple[Check, CheckResult]]:
    """Run the checks concurrently, each once its dependencies are done; results in order.

    `gcp_problem` (why GCP calls cannot be made, or None) may be an awaitable still being found out: a check that
    needs Google Cloud waits for it, the others start at once. With a `deadline` (the run's one timeout), a check
    still running GRACE_SECONDS after it is reported as not finished, so no plugin can keep the run going.
    """
    ctx = CheckContext(settings, probes)
    loop = asyncio.get_running_loop()
    for check in checks:
        ctx._results[check.id] = loop.create_future()

    async def one(check: Check) -> CheckResult:
        start = time.perf_counter()
        result = await _gate(check, ctx, gcp_problem) or await _run_one(check, ctx, deadline)
        result.duration_ms = int((time.perf_counter() - start) * 1000)
        ctx._results[check.id].set_result(result)
        return result

    results = await asyncio.gather(*(one(check) for check in checks))
    for task in ctx._cache.values():
        task.cancel()
    return attribute(list(zip(checks, results, strict=True)))


def attribute(results: list[tuple[Check, CheckResult]]) -> list[tuple[Check, CheckResult]]:
    """A finding one check made that another check `names` is reported under that one when it ran: a 429 the
    paid image met is a quota finding, not a parameter one. The check that lost its only finding is skipped."""
    owner: dict[str, str] = {}
    for check, result in results:
        for slug in getattr(check, "names", ()) if result.status.ran else ():
            owner.setdefault(slug, check.id)
    moved: dict[str, list[tuple[str, Diagnosis]]] = {}
    for check, result in results:
        for diagnosis in result.diagnoses if result.status.ran else ():
            home = owner.get(diagnosis.error.slug, check.id)
            if home != check.id:
                moved.setdefault(home, []).append((check.id, diagnosis))
    if not moved:
        return results
    gone = {id(d) for pairs in moved.values() for _, d in pairs}
    return [(check, _reattributed(check, result, moved.get(check.id, []), gone)) for check, result in results]


def _reattributed(
    check: Check, result: CheckResult, arriving: list[tuple[str, Diagnosis]], gone: set[int]
) -> CheckResult:
    staying = [d for d in result.diagnoses if id(d) not in gone]
    if not arriving and len(staying) == len(result.diagnoses):
        return result
    evidence = [*result.evidence, *(f"met by the {origin} check's request: {d.error.slug}" for origin, d in arriving)]
    diagnoses = [*staying, *(d for _, d in arriving)]
    if diagnoses:
        new = CheckResult.from_diagnoses(diagnoses, result.summary, evidence, result.facts)
    else:
        lost = ", ".join(sorted({d.error.slug for d in result.diagnoses if id(d) in gone}))
        new = CheckResult.skipped(
            f"its request met {lost}, reported under the check that names it", result.facts, evidence
        )
    new.duration_ms = result.duration_ms
    return new


async def _gate(check: Check, ctx: CheckContext, gcp_problem: Any) -> CheckResult | None:
    """A skipped result when the check cannot or must not run (a missing need, a prerequisite that did not
    pass), else None; waits for the checks it depends on (validated acyclic at discovery)."""
    problem = await gcp_problem if Need.GCP in check.needs and inspect.isawaitable(gcp_problem) else gcp_problem
    reason = missing_needs(check, ctx.settings, problem if isinstance(problem, str) else None)
    if not reason and not isinstance(check, BrokenPlugin):
        reason = await ctx.prerequisites(tuple(check.depends_on))
    return CheckResult.skipped(reason) if reason else None


async def _run_one(check: Check, ctx: CheckContext, deadline: Deadline | None) -> CheckResult:
    """One check's own result: a bug or an overrun becomes an `error` result, never a traceback or a hang."""
    try:
        task = asyncio.ensure_future(check.run(ctx))
        if deadline is not None:
            while not task.done() and deadline.past() < GRACE_SECONDS:  # the deadline may move on (start-up)
                await asyncio.wait({task}, timeout=GRACE_SECONDS - deadline.past())
            if not task.done():
                task.cancel()
                line = f"the {check.id} check did not end within the {deadline.seconds:g} s timeout"
                return CheckResult.broken(line, line)
        return await task
    except Exception as exc:  # a plugin's bug must not take the report down
        line = clip(f"the {check.id} check raised {type(exc).__name__}: {exc}", 300)
        summary = f"the check itself failed: {type(exc).__name__}: {exc}"
        return CheckResult.broken(summary, line, note="A bug in the check: please report it.")
