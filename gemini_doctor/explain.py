"""`explain`: read a pasted error, name the failure. Also the catalog pages (`explain CODE`, `errors`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemini_doctor.input_error import InputError
from gemini_doctor.inputs import read_text
from gemini_doctor.knowledge import did_you_mean, error_types, find_error
from gemini_doctor.report import SCHEMA, entry_dict, tool_info

if TYPE_CHECKING:
    from gemini_doctor.diagnosis import Context, Diagnosis
    from gemini_doctor.diagnosis.evidence import Reading

CODE_PATTERN = re.compile(r"^(?:GD\d{3}|[a-z0-9]+(?:-[a-z0-9]+)+)$", re.I)


def exit_code_for(diagnoses: list[Diagnosis]) -> int:
    """0 when nothing failed (warnings allowed), 1 when a failure was named."""
    return 1 if any(d.severity == "error" for d in diagnoses) else 0


def looks_like_code(target: str) -> bool:
    return bool(CODE_PATTERN.match(target.strip()))


def near_code(target: str) -> str:
    """The suffix " (did you mean ghost-429?)" for a target that is no file but reads like a mistyped code or slug."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{3,60}", target.strip()):
        return ""
    return did_you_mean(target, [k for e in error_types() for k in (e.code, e.slug)])


def examples() -> list[str]:
    """The example inputs shipped with the package (`explain --example NAME`)."""
    from importlib import resources

    files = resources.files("gemini_doctor.examples").iterdir()
    return sorted(f.name.rsplit(".", 1)[0] for f in files if f.name.endswith((".json", ".txt")))


def example_text(name: str) -> tuple[str, str]:
    """An example input's text and label; an unknown name is an InputError naming the closest and the list."""
    from importlib import resources

    for suffix in (".json", ".txt"):
        item = resources.files("gemini_doctor.examples").joinpath(name + suffix)
        if item.is_file():
            return item.read_text(encoding="utf-8"), f"example {name}"
    known = examples()
    raise InputError(f"no example named {name!r}{did_you_mean(name, known)}; examples: {', '.join(known)}")


def rule_document(code_or_slug: str) -> dict[str, Any]:
    entry = find_error(code_or_slug)
    if entry is None:
        hint = did_you_mean(code_or_slug, [k for e in error_types() for k in (e.code, e.slug)])
        raise InputError(f"unknown error code {code_or_slug!r}{hint}; `gemini-doctor errors` lists them all")
    return {"schema": SCHEMA, "command": "rule", "tool": tool_info(), "entry": entry_dict(entry), "exit_code": 0}


PASTE_PROMPT = "Paste the error, then press Ctrl-D on a line of its own (Ctrl-Z, Enter on Windows):"


def explain_command(
    target: str | None,
    example: str | None,
    context: Context,
    interactive: bool,
    prompt: Callable[[str], None],
) -> dict[str, Any]:
    """The document `explain` prints: a catalog page for a code or slug, else the diagnosis of what was pasted.

    `interactive`: stdin is a terminal, so reading it needs a prompt (and nothing at all is a usage error).
    """
    if example:
        return explain_document(*example_text(example), context)
    if target is None and interactive:
        raise InputError("nothing to explain: pass a file, '-' to read stdin, or a code such as GD001")
    source = target or "-"
    if source != "-" and not Path(source).exists():
        if looks_like_code(source):
            return rule_document(source)
        if any(c in source for c in " {\n"):
            return explain_document(source, "argument", context)
        try:
            read_text(source)
        except InputError as exc:
            raise InputError(f"{exc}{near_code(source)}") from None
    if source == "-" and interactive:
        prompt(PASTE_PROMPT)
    return explain_document(*read_text(source), context)


def catalog_document() -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "command": "errors",
        "tool": tool_info(),
        "errors": [entry_dict(entry) for entry in error_types()],
        "exit_code": 0,
    }


def explain_document(text: str, source: str, context: Context) -> dict[str, Any]:
    """Read, diagnose, and shape the answer as a `gemini-doctor/v1` document.

    A paste holding several distinct errors gets each diagnosed; a cause they share is listed once with how
    often it occurs, the most severe and most specific first.
    """
    from gemini_doctor.diagnosis import rank
    from gemini_doctor.diagnosis.evidence import read_all
    from gemini_doctor.diagnosis.rules import diagnose

    readings = read_all(text)
    found: list[Diagnosis] = []
    for reading in readings:
        for diagnosis in diagnose(reading.evidence, context):
            found.append(replace(diagnosis, occurrences=reading.count))
    diagnoses = _merged(found) if len(readings) > 1 else rank(found)
    code = exit_code_for(diagnoses)
    return {
        "schema": SCHEMA,
        "command": "explain",
        "tool": tool_info(),
        "input": _input_summary(readings, source),
        "context": {
            k: v for k, v in (("model", context.model), ("billing_enabled", context.billing_enabled)) if v is not None
        },
        "diagnosis": [d.to_dict() for d in diagnoses],
        "exit_code": code,
    }


def _merged(found: list[Diagnosis]) -> list[Diagnosis]:
    """One entry per cause across the errors of a paste, its occurrences summed."""
    from gemini_doctor.diagnosis import rank

    counts: dict[str, int] = {}
    for diagnosis in found:
        counts[diagnosis.error.slug] = counts.get(diagnosis.error.slug, 0) + diagnosis.occurrences
    return [replace(d, occurrences=counts[d.error.slug]) for d in rank(found)]


def _input_summary(readings: list[Reading], source: str) -> dict[str, Any]:
    """What was read: the shape, the status, which layer produced the error, and what could not be read."""
    from gemini_doctor.diagnosis.layers import produced_by

    first = readings[0].evidence
    status = " ".join(str(x) for x in (first.http_status, first.status) if x)
    notes: list[str] = []
    layers: list[str] = []
    for reading in readings:
        notes += [n for n in reading.evidence.notes if n not in notes]
        layers += [layer for layer in reading.evidence.layers if layer not in layers]
    summary: dict[str, Any] = {
        "source": source,
        "kind": first.kind,
        "status": status or None,
        "model": first.model,
        "produced_by": produced_by(layers, first),
        "layers": layers,
        "notes": notes,
    }
    if len(readings) > 1:
        summary["errors"] = sum(r.count for r in readings)
        summary["distinct_errors"] = len(readings)
    return summary
