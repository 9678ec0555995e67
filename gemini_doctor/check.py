"""`check`: resolve settings, run the discovered checks, shape the `gemini-doctor/v1` report."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from gemini_doctor.diagnosis import Diagnosis, rank
from gemini_doctor.engine import Check, CheckResult, Need, discover_checks, run_checks
from gemini_doctor.input_error import InputError
from gemini_doctor.knowledge import did_you_mean, find_model, is_loopback, recommended_model
from gemini_doctor.probes.limits import DaemonExecutor, Deadline, Lull
from gemini_doctor.report import SCHEMA, tool_info
from gemini_doctor.settings import Settings

SCENARIO_FLAGS = {
    "--model": "model",
    "--image-size": "image_size",
    "--aspect-ratio": "aspect_ratio",
    "--modalities": "modalities",
    "--api-version": "api_version",
}


def apply_scenario_args(settings: Settings, args: tuple[str, ...], given: set[str]) -> Settings:
    """A scenario's reproducing flags, for whatever the user did not set explicitly."""
    values: dict[str, Any] = {}
    items = list(args)
    while items:
        flag = items.pop(0)
        if flag == "--generate":
            values.setdefault("generate", True)
        elif flag in SCENARIO_FLAGS and items:
            name, value = SCENARIO_FLAGS[flag], items.pop(0)
            if name not in given:
                values[name] = tuple(value.split(",")) if name == "modalities" else value
    if "generate" in given:
        values.pop("generate", None)
    return replace(settings, **values)


def select(checks: list[Check], settings: Settings) -> list[Check]:
    ids = {c.id for c in checks}
    for name in (*settings.only, *settings.skip):
        if name not in ids:
            hint = did_you_mean(name, sorted(ids))
            raise InputError(f"no check named {name!r}{hint}; checks: {', '.join(c.id for c in checks)}")
    if settings.only:
        checks = [c for c in checks if c.id in settings.only]
    chosen = [c for c in checks if c.id not in settings.skip]
    if not chosen:  # a run that checks nothing must not pass green
        raise InputError(f"--skip leaves no check to run; checks: {', '.join(c.id for c in checks)}")
    return chosen


def cost_notice(settings: Settings) -> str | None:
    """What --generate will cost, said before it is spent."""
    if not settings.generate:
        return None
    if is_loopback(settings.base_url):
        return (
            f"--generate sends exactly one generateContent to {settings.model} at {settings.base_url}: a local "
            "server, so nothing is billed."
        )
    model = find_model(settings.model or "")
    size = (settings.image_size or (model.default_size if model else "1K")).upper()
    price = model.price_usd.get(size) if model else None
    if price is None or model is None:
        cost = "an amount the model table does not know (no price recorded for this model and size)"
    else:
        third_party = " [third-party figure, not Google's page]" if "[third-party" in (model.price_source or "") else ""
        cost = f"about ${price:.3f} (an estimate from the model table{third_party})"
    if settings.vertex:
        cost += " at the Developer API's price; Vertex AI bills at its own"
    return (
        f"--generate sends exactly one generateContent to {settings.model}: one {size} image, {cost}; input tokens "
        "extra. Nothing else the doctor sends is billed."
    )


def run(settings: Settings, notify: Any = None) -> dict[str, Any]:
    """Run the checks and return the report document; `notify` hears the cost notice before anything is sent."""
    if not settings.model:
        settings = replace(settings, model=recommended_model().id)
    checks = select(discover_checks(), settings)  # a bad selection is said before the cost notice
    notice = cost_notice(settings)
    if notice and notify is not None:
        notify(notice)
    wants_gcp = bool(settings.project) and any("gcp" in c.needs for c in checks)
    results, sent, secrets = asyncio.run(_run(checks, settings, wants_gcp))
    from gemini_doctor.redact import redact_obj

    return redact_obj(document(settings, results, sent), secrets)  # type: ignore[return-value]


async def _run(
    checks: list[Check], settings: Settings, wants_gcp: bool
) -> tuple[list[tuple[Check, CheckResult]], dict[str, int], tuple[str, ...]]:
    """One deadline for the whole run (`--timeout`), shared by every probe, the credentials search and the engine.

    Blocking calls run in daemon threads (the default executor too, which resolves host names): at the deadline
    the run stops waiting for them, and nothing left behind keeps the process alive.
    """
    from gemini_doctor.probes.gcp import GcpProbe

    asyncio.get_running_loop().set_default_executor(DaemonExecutor())
    gcp = GcpProbe(settings)
    probe = _model_api_probe(settings, gcp)
    deadline = probe.deadline = gcp.deadline = Deadline(settings.timeout)
    if _writes_first(checks, settings):
        gcp.lull = probe.lull  # Google's libraries are imported once the first Gemini requests are out
    else:
        probe.lull.reached()
    gcp_problem = gcp.credentials_problem() if wants_gcp or settings.needs_adc else None
    probes = {"gemini": probe, "gcp": gcp, **({"vertex": probe} if settings.vertex else {})}
    ahead = asyncio.ensure_future(_prepare(probe.lull, settings.format))
    try:
        results = await run_checks(checks, settings, probes, gcp_problem, deadline)
    finally:
        ahead.cancel()
        await probe.close()
    sent = {"vertex" if settings.vertex else "gemini": probe.sent, "gcp": gcp.sent}
    return results, sent, probe.secrets


def _writes_first(checks: list[Check], settings: Settings) -> bool:
    """Whether the run begins with Gemini requests that Google Cloud's work can wait for: checks that need the key
    and nothing before them, and a key (Vertex AI's requests themselves wait for Google Cloud's credentials)."""
    first = [c for c in checks if not c.depends_on and Need.API_KEY in map(Need, c.needs)]
    return bool(first and settings.api_key and not settings.vertex)


async def _prepare(lull: Lull, fmt: str) -> None:
    """What diagnosing the answers and rendering the report will need, made while the answers are awaited: the
    same work, done in the lull rather than after the last answer (see probes.limits.Lull)."""
    from gemini_doctor.diagnosis import signatures
    from gemini_doctor.report import prepare

    await lull.wait()
    for step in (signatures.prepare, lambda: prepare(fmt)):
        step()
        await asyncio.sleep(0)


def _model_api_probe(settings: Settings, gcp: Any) -> Any:
    """The probe of the model API: the Gemini Developer API, or Vertex AI (its requests authorised by ADC)."""
    if settings.vertex:
        from gemini_doctor.probes.vertex import VertexProbe

        return VertexProbe(settings, gcp)
    from gemini_doctor.probes.gemini import GeminiProbe

    return GeminiProbe(settings)


def document(settings: Settings, results: list[tuple[Check, CheckResult]], sent: dict[str, int]) -> dict[str, Any]:
    found = [d for _, r in results for d in r.diagnoses if r.status != "skip"]
    skipped = [c.id for c, r in results if r.status == "skip" and "api_key" in c.needs]
    keyless = [] if settings.api_key or settings.vertex else skipped
    if keyless:  # a CI job whose secret is missing must not pass green
        found.append(
            Diagnosis.of(
                "api-key-missing",
                "certain",
                [
                    "no API key: --api-key, GOOGLE_API_KEY and GEMINI_API_KEY are all unset",
                    f"checks that could not run: {', '.join(keyless)}",
                ],
            )
        )
    diagnoses, alternatives = one_cause_each(rank(found))
    failed = any(r.status == "fail" for _, r in results) or any(d.severity == "error" for d in diagnoses)
    warned = any(r.status == "warn" for _, r in results) or bool(diagnoses)
    code = 1 if failed or (settings.strict and warned) else 0
    target = {
        "backend": settings.backend.value,
        "model": settings.model,
        "base_url": settings.base_url,
        "api_version": settings.api_version,
        "project": settings.project,
        **({"location": settings.location} if settings.vertex else {}),
        "gcp_endpoint": settings.gcp_endpoint,
        "api_key": f"set ({settings.api_key_source})" if settings.api_key else "not set",
    }
    return {
        "schema": SCHEMA,
        "command": "check",
        "tool": tool_info(),
        "target": target,
        "checks": [
            {
                "id": c.id,
                "title": c.title,
                "status": r.status,
                "summary": r.summary,
                "duration_ms": r.duration_ms,
                "evidence": r.evidence,
            }
            for c, r in results
        ],
        "diagnosis": [_with_alternatives(d.to_dict(), alternatives.get(id(d), [])) for d in diagnoses],
        "requests_sent": sent,
        "notes": list(settings.notes),
        "exit_code": code,
    }


def one_cause_each(ranked: list[Diagnosis]) -> tuple[list[Diagnosis], dict[int, list[str]]]:
    """One finding per cause: a weaker diagnosis read from the same evidence as a stronger one (an evidence line
    in common) is not a second finding but an alternative of the first, said as "could also be X; tell apart by
    …"; `unknown` is no alternative worth saying. Returns the findings and, by id, their alternatives."""
    kept: list[Diagnosis] = []
    alternatives: dict[int, list[str]] = {}
    for diagnosis in ranked:
        rival = next((k for k in kept if set(k.evidence) & set(diagnosis.evidence)), None)
        if rival is None:
            kept.append(diagnosis)
        elif diagnosis.error.slug != "unknown":
            entry = diagnosis.error
            line = f"could also be {entry.code} {entry.slug} ({entry.title}, {diagnosis.confidence})"
            alternatives.setdefault(id(rival), []).append(line + (f"; {diagnosis.note}" if diagnosis.note else ""))
    return kept, alternatives


def _with_alternatives(item: dict[str, Any], alternatives: list[str]) -> dict[str, Any]:
    if alternatives:
        item["alternatives"] = alternatives
    return item


def annotation_lines(doc: dict[str, Any]) -> list[str]:
    """One GitHub annotation line per diagnosis."""
    from gemini_doctor.report.github import Level, annotation

    lines = []
    for item in doc.get("diagnosis", []):
        level = Level.ERROR if item["severity"] == "error" else Level.WARNING
        message = item["evidence"][0] if item["evidence"] else item["title"]
        lines.append(annotation(level, f"{item['title']}: {message}", title=f"{item['code']} {item['slug']}"))
    return lines


def ci_outputs(document: dict[str, Any], settings: Settings) -> list[str]:
    """Under GitHub Actions: the Markdown report into the step summary; the annotation lines to print."""
    from gemini_doctor.redact import redact_obj
    from gemini_doctor.report import render
    from gemini_doctor.report.github import append_step_summary, in_actions

    if not in_actions():
        return []
    append_step_summary(render(document, "markdown", secrets=settings.secrets))
    return annotation_lines(redact_obj(document, settings.secrets))  # type: ignore[arg-type]


def run_command(flags: dict[str, Any], notify: Any = None) -> tuple[dict[str, Any], Settings]:
    """`check` from its flags (keys of settings.SETTINGS, None when not given): the report and the settings.

    With `emulator`, the embedded emulator serves the scenario for the run and the flags point at it.
    """
    from gemini_doctor.settings import resolve

    server = None
    try:
        if flags.get("emulator"):
            server, flags = _start_emulator(flags["emulator"], flags)
        settings = resolve(flags)
        if server is not None:
            given = {k for k, v in flags.items() if v not in (None, ())}
            settings = apply_scenario_args(settings, server.scenario.check_args, given)
        settings = _read_check_files(settings)
        _check_output_folder(settings.output)
        notice = notify if flags.get("generate") else None  # a scenario's own --generate is free
        document = run(settings, notice)
        if server is not None:
            document["target"]["emulator"] = server.scenario.slug
    finally:
        if server is not None:
            server.stop()
    return document, settings


def _start_emulator(slug: str, flags: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from gemini_doctor.emulate import EMULATED_KEY, EMULATED_PROJECT, scenario_named
    from gemini_doctor.emulator.server import EmulatorServer

    scenario = scenario_named(slug)
    server = EmulatorServer(scenario).start()
    pointed = {"base_url": server.url, "gcp_endpoint": server.url, "project": EMULATED_PROJECT}
    flags = {**flags, **_vertex_call(scenario, flags)}
    if _uses_vertex(flags):  # the emulator's Vertex routes take the (placeholder) token a loopback run sends
        return server, {**flags, **pointed}
    return server, {**flags, **pointed, "api_key": EMULATED_KEY}


def _vertex_call(scenario: Any, flags: dict[str, Any]) -> dict[str, Any]:
    """A Vertex scenario's reproducing call (backend, model, location) for whatever the user did not give."""
    if scenario.backend != "vertex":
        return {}
    call = {"backend": "vertex", "model": scenario.call.get("model"), "location": scenario.call.get("location")}
    return {key: value for key, value in call.items() if value and not flags.get(key)}


def _uses_vertex(flags: dict[str, Any]) -> bool:
    import os

    from gemini_doctor.backend import Backend, choose_backend

    return choose_backend(flags.get("backend"), dict(os.environ)).backend is Backend.VERTEX


def _read_check_files(settings: Settings) -> Settings:
    from gemini_doctor.inputs import read_json_object, read_text, refuse_credentials

    if settings.request_file:
        body = read_json_object(settings.request_file, "request")
        refuse_credentials(body, settings.request_file, "request")
        settings = replace(settings, request_body=body)
    if settings.error_file:
        settings = replace(settings, error_text=read_text(settings.error_file, "error")[0])
    return settings


def _check_output_folder(output: str | None) -> None:
    """Said before any request, not after the paid one."""
    if output:
        from pathlib import Path

        folder = Path(output).parent
        if not folder.is_dir():
            raise InputError(f"cannot write {output!r}: the folder {str(folder)!r} does not exist")
