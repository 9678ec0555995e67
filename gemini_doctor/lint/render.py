"""The lint document as text: rich (terminal), json, sarif (2.1.0, as GitHub code scanning reads it), github
(workflow-command annotations) and markdown (the job summary). Every format passes the redacting door."""

from __future__ import annotations

import io
import json
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from gemini_doctor.knowledge import find_error
from gemini_doctor.redact import redact, redact_obj

FORMATS = ("rich", "json", "sarif", "github", "markdown")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# The catalog entries lint can report, in the order of SARIF's rules array.
LINT_RULES = (
    "wrong-response-modalities",
    "wrong-endpoint",
    "wrong-model-name",
    "image-size-case",
    "missing-text-modality",
    "invalid-argument",
    "model-deprecated",
)


def render_lint(document: dict[str, Any], fmt: str, color: bool = False, width: int | None = None) -> str:
    if fmt == "json":
        from gemini_doctor.report import render

        return render(document, "json")
    document = redact_obj(document)  # type: ignore[assignment]
    if fmt == "sarif":
        return json.dumps(sarif(document), indent=2, ensure_ascii=False) + "\n"  # redacted value by value
    if fmt == "github":
        text = github(document)
    elif fmt == "markdown":
        text = markdown(document)
    else:
        text = rich(document, color=color, width=width)
    return redact(text)


def _first_fix(item: dict[str, Any]) -> str:
    return item["fix"][0] if item.get("fix") else ""


def _summary(document: dict[str, Any]) -> str:
    summary, files = document["summary"], document["files"]
    scanned = f"{files} file{'s' if files != 1 else ''}"
    ignored = f" ({document['ignored']} ignored)" if document.get("ignored") else ""
    total = summary["errors"] + summary["warnings"]
    unreadable = document.get("unreadable", 0)
    failed = f" {unreadable} path{'s' if unreadable != 1 else ''} could not be read." if unreadable else ""
    fixed = len(document.get("fixed", ()))
    if fixed:
        failed += f" Fixed {fixed} finding{'s' if fixed != 1 else ''}."
    if not total:
        return f"No finding in {scanned}{ignored}.{failed}"
    return (
        f"Found {total} finding{'s' if total != 1 else ''} ({summary['errors']} error"
        f"{'s' if summary['errors'] != 1 else ''}, {summary['warnings']} warning"
        f"{'s' if summary['warnings'] != 1 else ''}) in {scanned}{ignored}.{failed}"
    )


# rich ---------------------------------------------------------------------------------------------------------
def rich(document: dict[str, Any], color: bool = False, width: int | None = None) -> str:
    from rich.console import Console
    from rich.markup import escape

    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=color, no_color=not color, highlight=False, width=width or 100, soft_wrap=True
    )
    for item in document["findings"]:
        tone = "red" if item["severity"] == "error" else "yellow"
        console.print(
            f"[bold]{escape(item['path'])}[/]:{item['line']}:{item['column']}: [{tone}]{item['code']}[/] "
            f"[dim]\\[{item['slug']}][/] {'[*] ' if item.get('fixable') else ''}{escape(item['message'])}"
        )
        if item.get("fix"):
            console.print(f"    [bold]fix[/]: {escape(_first_fix(item))}")
    for done in document.get("fixed", []):
        console.print(
            f"[green]fixed[/] {escape(done['path'])}:{done['line']}:{done['column']}: {done['code']} "
            f"{escape(repr(done['old']))} -> {escape(repr(done['new']))}"
        )
    for skipped in document.get("fix_failed", []) + document.get("skipped", []):
        console.print(f"[dim]skipped {escape(skipped['path'])}: {escape(skipped['reason'])}[/]")
    if document["findings"]:
        console.print()
    failed = document["summary"]["errors"] or document.get("unreadable")
    tone = "red" if failed else "yellow" if document["findings"] else "green"
    console.print(f"[{tone}]{escape(_summary(document))}[/]")
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


# github -------------------------------------------------------------------------------------------------------
def github(document: dict[str, Any]) -> str:
    """One `::error file=…,line=…::` or `::warning …` line per finding (report/github.py writes and escapes it)."""
    from gemini_doctor.report.github import annotation

    lines = []
    for item in document["findings"]:
        fix = _first_fix(item)
        lines.append(
            annotation(
                "error" if item["severity"] == "error" else "warning",
                item["message"] + (" Fix: " + fix if fix else ""),
                file=item["path"],
                line=item["line"],
                col=item["column"],
                endLine=item["end_line"],
                endColumn=item["end_column"],
                title=item["code"] + " " + item["slug"],
            )
        )
    for skipped in document.get("skipped", []):  # a file that was never checked must not pass unseen
        level = "error" if skipped.get("unreadable") else "warning"
        lines.append(annotation(level, skipped["reason"], file=skipped["path"], title="gemini-doctor lint skipped it"))
    return "".join(line + "\n" for line in lines)


# markdown -----------------------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(document: dict[str, Any]) -> str:
    lines = ["## gemini-doctor lint", ""]
    if document["findings"]:
        lines += ["| where | code | severity | finding | fix |", "|---|---|---|---|---|"]
        for item in document["findings"]:
            lines.append(
                f"| `{_cell(item['path'])}:{item['line']}:{item['column']}` | `{item['code']}` {item['slug']} | "
                f"{item['severity']} | {_cell(item['message'])} | {_cell(_first_fix(item))} |"
            )
        lines.append("")
    if document.get("skipped"):
        lines += ["| skipped | why |", "|---|---|"]
        lines += [f"| `{_cell(item['path'])}` | {_cell(item['reason'])} |" for item in document["skipped"]]
        lines.append("")
    lines.append(f"**{_summary(document)}**")
    tool = document.get("tool", {})
    lines += ["", f"<sub>{tool.get('name', 'gemini-doctor')} {tool.get('version', '')}</sub>", ""]
    return "\n".join(lines)


# sarif --------------------------------------------------------------------------------------------------------
def sarif_rule(slug: str) -> dict[str, Any]:
    entry = find_error(slug)
    assert entry is not None, slug
    steps = [f"{number}. {step}" for number, step in enumerate(entry.fix, 1)]
    return {
        "id": entry.code,
        "name": entry.slug,
        "shortDescription": {"text": entry.title},
        "fullDescription": {"text": entry.cause},
        "help": {"text": "\n".join(steps), "markdown": "\n".join(steps) + f"\n\n[Docs]({entry.docs})"},
        "helpUri": entry.docs,
        "defaultConfiguration": {"level": "error" if entry.category == "hard-error" else "warning"},
        "properties": {"tags": ["gemini", entry.category], "established": entry.established},
    }


def _artifact(path: str, cwd: PurePosixPath | None = None, top: PurePosixPath | None = None) -> dict[str, str]:
    """A path as SARIF wants it: relative to the repository's top (%SRCROOT%) where it lies inside it."""
    posix = PurePosixPath(path)
    full = posix if posix.is_absolute() or cwd is None else cwd / posix
    if top is not None and full.is_absolute():
        try:
            return {"uri": quote(full.relative_to(top).as_posix()), "uriBaseId": "%SRCROOT%"}
        except ValueError:
            pass
    if full.is_absolute():
        return {"uri": "file://" + quote(full.as_posix())}
    return {"uri": quote(path), "uriBaseId": "%SRCROOT%"}


def _folder(uri: str | None) -> PurePosixPath | None:
    from urllib.parse import unquote, urlsplit

    return PurePosixPath(unquote(urlsplit(uri).path)) if uri else None


def sarif(document: dict[str, Any]) -> dict[str, Any]:
    cwd, top = _folder(document.get("root")), _folder(document.get("repository_root") or document.get("root"))

    def artifact(path: str) -> dict[str, str]:
        return _artifact(path, cwd, top)

    rules = [sarif_rule(slug) for slug in LINT_RULES]
    index = {rule["id"]: number for number, rule in enumerate(rules)}
    results = []
    for item in document["findings"]:
        fix = _first_fix(item)
        results.append(
            {
                "ruleId": item["code"],
                "ruleIndex": index[item["code"]],
                "level": "error" if item["severity"] == "error" else "warning",
                "message": {"text": item["message"] + (f" Fix: {fix}" if fix else "")},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": artifact(item["path"]),
                            "region": {
                                "startLine": item["line"],
                                "startColumn": item["column"],
                                "endLine": item["end_line"],
                                "endColumn": item["end_column"],
                            },
                        }
                    }
                ],
                "properties": {"slug": item["slug"], "confidence": item["confidence"]},
            }
        )
    tool = document.get("tool", {})
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": tool.get("name", "gemini-doctor"),
                "version": tool.get("version", ""),
                "rules": rules,
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if top is not None:
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": document.get("repository_root") or document["root"]}}
    notes = [
        {
            "level": "error" if s.get("unreadable") else "warning",
            "message": {"text": f"skipped: {s['reason']}"},
            "locations": [{"physicalLocation": {"artifactLocation": artifact(s["path"])}}],
        }
        for s in document.get("skipped", [])
    ]
    read_all = not document.get("unreadable")
    run["invocations"] = [{"executionSuccessful": read_all, "toolExecutionNotifications": notes}]
    return {"version": "2.1.0", "$schema": SARIF_SCHEMA, "runs": [run]}
