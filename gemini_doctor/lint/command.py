"""What `gemini-doctor lint` does between the flags and the text: validate --ignore, lint, build the document."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gemini_doctor.input_error import InputError
from gemini_doctor.knowledge import find_error
from gemini_doctor.lint import lint_paths


def ignore_codes(values: Iterable[str]) -> frozenset[str]:
    """--ignore values (codes or slugs, repeatable or comma-separated) as catalog codes; unknown ones are an error."""
    codes = set()
    for value in values:
        for item in value.split(","):
            if not item.strip():
                continue
            entry = find_error(item.strip())
            if entry is None:
                raise InputError(f"--ignore {item.strip()!r} is not a code or slug; `gemini-doctor errors` lists them")
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


def lint_document(paths: list[str], ignore: Iterable[str] = ()) -> dict[str, Any]:
    from gemini_doctor.report import SCHEMA, tool_info

    codes = ignore_codes(ignore)
    cwd = Path(os.path.abspath(os.getcwd()))
    result = lint_paths(paths, codes, cwd=cwd)
    findings = [finding.to_dict() for finding in result.findings]
    by_code: dict[str, int] = {}
    for item in findings:
        by_code[item["code"]] = by_code.get(item["code"], 0) + 1
    errors = sum(1 for item in findings if item["severity"] == "error")
    unreadable = set(result.unreadable)
    return {
        "schema": SCHEMA,
        "command": "lint",
        "tool": tool_info(),
        "root": cwd.as_uri() + "/",
        "repository_root": repository_root(cwd).as_uri() + "/",
        "paths": list(paths),
        "ignore": sorted(codes),
        "files": result.files,
        "files_parsed": result.parsed,
        "skipped": [
            {"path": path, "reason": reason, "unreadable": path in unreadable} for path, reason in result.skipped
        ],
        "unreadable": len(unreadable),
        "ignored": result.ignored,
        "findings": findings,
        "summary": {"errors": errors, "warnings": len(findings) - errors, "by_code": dict(sorted(by_code.items()))},
        "exit_code": 1 if findings or unreadable else 0,  # a file that could not be read is no green (ruff: E902)
    }


def write_step_summary(markdown_text: str) -> None:
    """Under GitHub Actions: append the report to the job summary."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return
    try:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(markdown_text + "\n")
    except OSError:
        pass
