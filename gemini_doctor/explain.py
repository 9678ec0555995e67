"""`explain`: read a pasted error, name the failure. Also the catalog pages (`explain CODE`, `errors`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from gemini_doctor.input_error import InputError
from gemini_doctor.knowledge import error_types, find_error
from gemini_doctor.report import SCHEMA, entry_dict, tool_info

if TYPE_CHECKING:
    from gemini_doctor.diagnosis import Context, Diagnosis
    from gemini_doctor.diagnosis.evidence import Evidence

CODE_PATTERN = re.compile(r"^(?:GD\d{3}|[a-z0-9]+(?:-[a-z0-9]+)+)$", re.I)


def exit_code_for(diagnoses: list[Diagnosis]) -> int:
    """0 when nothing failed (warnings allowed), 1 when a failure was named."""
    return 1 if any(d.severity == "error" for d in diagnoses) else 0


def looks_like_code(target: str) -> bool:
    return bool(CODE_PATTERN.match(target.strip()))


def rule_document(code_or_slug: str) -> dict[str, Any]:
    entry = find_error(code_or_slug)
    if entry is None:
        raise InputError(f"unknown error code {code_or_slug!r}; `gemini-doctor errors` lists them all")
    return {"schema": SCHEMA, "command": "rule", "tool": tool_info(), "entry": entry_dict(entry), "exit_code": 0}


def catalog_document() -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "command": "errors",
        "tool": tool_info(),
        "errors": [entry_dict(entry) for entry in error_types()],
        "exit_code": 0,
    }


def explain_document(text: str, source: str, context: Context) -> dict[str, Any]:
    """Read, diagnose, and shape the answer as a `gemini-doctor/v1` document."""
    from gemini_doctor.diagnosis.evidence import read_evidence
    from gemini_doctor.diagnosis.rules import diagnose

    evidence = read_evidence(text)
    diagnoses = diagnose(evidence, context)
    code = exit_code_for(diagnoses)
    return {
        "schema": SCHEMA,
        "command": "explain",
        "tool": tool_info(),
        "input": _input_summary(evidence, source),
        "context": {
            k: v for k, v in (("model", context.model), ("billing_enabled", context.billing_enabled)) if v is not None
        },
        "diagnosis": [d.to_dict() for d in diagnoses],
        "exit_code": code,
    }


def _input_summary(evidence: Evidence, source: str) -> dict[str, Any]:
    status = " ".join(str(x) for x in (evidence.http_status, evidence.status) if x)
    return {"source": source, "kind": evidence.kind, "status": status or None, "model": evidence.model}
