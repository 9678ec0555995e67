"""What `gemini-doctor lint` does between the flags and the text: validate --ignore, lint, build the document."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gemini_doctor.input_error import InputError
from gemini_doctor.knowledge import find_error
from gemini_doctor.lint import lint_paths


def ignore_codes(values: Iterable[str], flag: str = "--ignore") -> frozenset[str]:
    """--ignore / --select values (codes or slugs, repeatable or comma-separated) as catalog codes; unknown ones are
    an error."""
    codes = set()
    for value in values:
        for item in value.split(","):
            if not item.strip():
                continue
            entry = find_error(item.strip())
            if entry is None:
                raise InputError(f"{flag} {item.strip()!r} is not a code or slug; `gemini-doctor errors` lists them")
            codes.add(entry.code)
    return frozenset(codes)


def repository_root(cwd: Path) -> Path:
    """Where GitHub code scanning resolves SARIF URIs: GITHUB_WORKSPACE, else the nearest folder up with .git,
    else the current folder."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and (cwd == Path(workspace) or Path(workspace) in cwd.parents):
        return Path(workspace)
    for folder in (cwd, *cwd.parents):
        if (folder / ".git").exists():
            return folder
    return cwd


@dataclass(frozen=True)
class Options:
    """What `gemini-doctor lint` was asked, past the paths (each as ruff's flag of the same name)."""

    ignore: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    severity: str = "warning"  # report findings at or above this severity
    exit_zero: bool = False
    statistics: bool = False
    fix: bool = False
    diff: bool = False


def _kept(findings: list, select: frozenset[str], severity: str) -> list:
    from gemini_doctor.diagnosis import SEVERITIES

    threshold = SEVERITIES.index(severity)
    return [
        f for f in findings if (not select or f.code in select) and SEVERITIES.index(f.diagnosis.severity) <= threshold
    ]


def lint_document(paths: list[str], ignore: Iterable[str] = (), options: Options | None = None) -> dict[str, Any]:
    from gemini_doctor.report import SCHEMA, tool_info

    options = options or Options(ignore=tuple(ignore))
    codes = ignore_codes(options.ignore or ignore)
    select = ignore_codes(options.select, "--select")
    cwd = Path(os.path.abspath(os.getcwd()))
    result = lint_paths(paths, codes, cwd=cwd)
    kept = _kept(result.findings, select, options.severity)
    fixed = None
    if options.fix or options.diff:
        from gemini_doctor.lint.fix import fix_findings

        fixed = fix_findings(kept, cwd, write=options.fix and not options.diff)
        if options.fix and not options.diff:
            done = {id(f) for f in fixed.fixed}
            kept = [f for f in kept if id(f) not in done]
    findings = [finding.to_dict() for finding in kept]
    errors = sum(1 for item in findings if item["severity"] == "error")
    unreadable = set(result.unreadable)
    document = {
        "schema": SCHEMA,
        "command": "lint",
        "tool": tool_info(),
        "root": cwd.as_uri() + "/",
        "repository_root": repository_root(cwd).as_uri() + "/",
        "paths": list(paths),
        "ignore": sorted(codes),
        "select": sorted(select),
        "severity": options.severity,
        "files": result.files,
        "files_parsed": result.parsed,
        "backends": dict(sorted(result.backends.items())),
        "skipped": [
            {"path": path, "reason": reason, "unreadable": path in unreadable} for path, reason in result.skipped
        ],
        "unreadable": len(unreadable),
        "ignored": result.ignored,
        "findings": findings,
        "summary": {"errors": errors, "warnings": len(findings) - errors, "by_code": _by_code(findings)},
        "exit_code": 1 if (findings or unreadable) and not options.exit_zero else 0,  # unreadable: no green (E902)
    }
    if fixed is not None:
        _add_fixes(document, fixed, options)
    return document


def _by_code(findings: list[dict[str, Any]]) -> dict[str, int]:
    by_code: dict[str, int] = {}
    for item in findings:
        by_code[item["code"]] = by_code.get(item["code"], 0) + 1
    return dict(sorted(by_code.items()))


def _add_fixes(document: dict[str, Any], fixed: Any, options: Options) -> None:
    document["fixed"] = [
        {"path": f.path, "line": f.line, "column": f.column, "code": f.code, "old": f.edit.old, "new": f.edit.new}
        for f in fixed.fixed
    ]
    document["fix_failed"] = [{"path": path, "reason": reason} for path, reason in fixed.failed]
    document["diff"] = "".join(fixed.diffs)
    if options.diff:  # as ruff: --diff exits 1 when there is something to fix
        document["exit_code"] = 1 if fixed.fixed and not options.exit_zero else 0


def statistics(document: dict[str, Any], fmt: str) -> str:
    """Findings counted per code, as `ruff --statistics` prints them (JSON: a list of objects)."""
    rows: dict[str, dict[str, Any]] = {}
    for item in document["findings"]:
        row = rows.setdefault(item["code"], {"code": item["code"], "name": item["slug"], "count": 0, "fixable": False})
        row["count"] += 1
        row["fixable"] |= item.get("fixable", False)
    ordered = sorted(rows.values(), key=lambda row: (-row["count"], row["code"]))
    if fmt == "json":
        import json

        return json.dumps(ordered, indent=2) + "\n"
    if fmt != "rich":
        raise InputError("--statistics prints text (the default format) or json")
    width = max((len(str(row["count"])) for row in ordered), default=1)
    return "".join(
        f"{row['count']:>{width}}\t{row['code']}\t{'[*] ' if row['fixable'] else ''}{row['name']}\n" for row in ordered
    )


def run(paths: list[str], fmt: str, output: str | None, options: Options, screen: tuple[bool, int | None]) -> int:
    """The lint command from parsed flags to the exit code: lint, render (or count, or diff), write."""
    import sys

    from gemini_doctor.lint.render import render_lint
    from gemini_doctor.report.github import append_step_summary, in_actions

    document = lint_document(paths or ["."], options=options)
    if options.diff:
        from gemini_doctor.redact import redact

        text = redact(document["diff"])
    elif options.statistics:
        text = statistics(document, fmt)
    else:
        color, width = screen  # colour and width as the CLI decided them (NO_COLOR, FORCE_COLOR, a terminal)
        text = render_lint(document, fmt, color=color, width=width or 100)
    if output:
        from gemini_doctor.inputs import write_atomically

        write_atomically(output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if fmt == "github" and in_actions():
        append_step_summary(render_lint(document, "markdown"))
    return document["exit_code"]
