"""Markdown for support tickets and GitHub step summaries: everything a helper needs, the key never.

Every interpolated string is escaped for where it lands: `<`, `>` and `&` as entities (a server's `</details>` or
`<!--` cannot close or hide the rest of a step summary), `|` in table cells, backticks out of code spans, line
breaks folded; control characters were made visible at the report's door already.
"""

from __future__ import annotations

import html

from gemini_doctor.levels import Status
from gemini_doctor.report.document import Entry, Finding, Report

MARK = {Status.PASS: "✅", Status.WARN: "⚠️", Status.FAIL: "❌", Status.SKIP: "⏭️", Status.ERROR: "💥"}


def render_markdown(report: Report) -> str:
    if report.command == "errors":
        return _catalog(report.catalog)
    if report.entry is not None:
        return _entry(report.entry, level="##")
    lines = [f"## gemini-doctor {report.command}", ""]
    if report.command == "check":
        lines += [*_target(report), "", *_checks(report), ""]
    elif report.input:
        summary = report.input
        facts = " · ".join(str(summary[k]) for k in ("source", "kind", "status", "model") if summary.get(k))
        lines += [f"**Input:** {_inline(facts)}", ""]
        if summary.get("produced_by"):
            lines += [f"Produced by {_inline(summary['produced_by'])}.", ""]
        notes = summary.get("notes", [])
        lines += [f"- read: {_inline(note)}" for note in notes] + ([""] if notes else [])
    lines += _findings(report.findings)
    tool = report.tool
    versions = (
        f"{tool.get('name', 'gemini-doctor')} {tool.get('version', '')}, Python {tool.get('python', '?')}, "
        f"{tool.get('platform', '?')}"
    )
    schema = report.document.get("schema", "")
    lines += [
        f"**{_inline(report.summary_line())}**",
        "",
        f"<sub>{versions} · schema {schema} · exit code {report.exit_code}</sub>",
        "",
    ]
    return "\n".join(lines)


def _target(report: Report) -> list[str]:
    rows = ["| setting | value |", "|---|---|"]
    for key, value in report.target.items():
        rows.append(f"| {_cell(key)} | {_code(value)} |" if value not in (None, "") else f"| {_cell(key)} | – |")
    return rows


def _checks(report: Report) -> list[str]:
    rows = ["| | check | result |", "|---|---|---|"]
    for check in report.checks:
        rows.append(f"| {MARK[check.status]} | {_cell(check.title)} | {_cell(check.summary)} |")
    return rows


def _findings(findings: tuple[Finding, ...]) -> list[str]:
    if not findings:
        return []
    lines = ["### Diagnosis", ""]
    for number, item in enumerate(findings, 1):
        lines.append(f"#### {number}. {_code(item.code)} {_inline(item.slug)}: {_inline(item.title)}")
        times = f", {item.occurrences} times" if item.occurrences > 1 else ""
        lines.append(f"*{item.severity}, {item.confidence}; cause {item.established}{times}*")
        lines.append("")
        if item.evidence:
            lines += ["Evidence:"] + [f"- {_inline(e)}" for e in item.evidence] + [""]
        if item.note:
            lines += [f"> {_inline(item.note)}", ""]
        if item.alternatives:
            lines += [f"- {_inline(a)}" for a in item.alternatives] + [""]
        lines += ["Fix:"] + [f"{i}. {_inline(step)}" for i, step in enumerate(item.fix, 1)] + [""]
        lines += [f"Retry: {item.retry}: {_inline(item.retry_advice)}  ", f"Docs: {_inline(item.docs)}", ""]
    return lines


def _entry(entry: Entry, level: str) -> str:
    lines = [f"{level} {entry.code} {entry.slug}: {_inline(entry.title)}", "", f"*{entry.status_line}*", ""]
    for label, text in entry.sections:
        lines += [f"**{label}.** {_inline(text)}", ""]
    lines += ["**Fix.**"] + [f"{i}. {_inline(step)}" for i, step in enumerate(entry.fix, 1)] + [""]
    lines += [
        f"**Retry.** {'Helps' if entry.retryable else 'Does not help'}: {_inline(entry.retry_advice)}",
        "",
        f"**Docs.** {_inline(entry.docs)}",
        "",
        f"*Source: {_inline(entry.source)} (checked {entry.checked}).*",
        "",
    ]
    return "\n".join(lines)


def _catalog(catalog: tuple[Entry, ...]) -> str:
    lines = ["## gemini-doctor error catalog", "", "| code | slug | category | HTTP | title |", "|---|---|---|---|---|"]
    for entry in catalog:
        lines.append(
            f"| {entry.code} | {entry.slug} | {entry.category} | {entry.http_status or '–'} | {_cell(entry.title)} |"
        )
    return "\n".join(lines) + "\n"


def _inline(text: object) -> str:
    """Text on one line, with no HTML in it."""
    return " ".join(html.escape(str(text), quote=False).splitlines())


def _cell(text: object) -> str:
    return _inline(text).replace("|", "\\|")


def _code(value: object) -> str:
    """A code span: HTML is inert there, but a backtick would end it and a `|` a table cell."""
    return "`" + " ".join(str(value).replace("`", "'").replace("|", "\\|").splitlines()) + "`"
