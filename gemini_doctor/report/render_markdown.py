"""Markdown for support tickets and GitHub step summaries: everything a helper needs, the key never.

Every interpolated string is escaped for where it lands: `<`, `>` and `&` as entities (a server's `</details>` or
`<!--` cannot close or hide the rest of a step summary), `|` in table cells, backticks out of code spans, line
breaks folded; control characters were made visible at the report's door already.
"""

from __future__ import annotations

import html
from typing import Any

from gemini_doctor.report import ENTRY_SECTIONS

MARK = {"pass": "✅", "warn": "⚠️", "fail": "❌", "skip": "⏭️"}


def render_markdown(document: dict[str, Any]) -> str:
    kind = document.get("command")
    if kind == "errors":
        return _catalog(document)
    if kind == "rule":
        return _entry(document["entry"], level="##")
    lines = [f"## gemini-doctor {kind}", ""]
    tool = document.get("tool", {})
    if kind == "check":
        lines += [*_target(document), "", *_checks(document), ""]
    elif document.get("input"):
        summary = document["input"]
        facts = " · ".join(str(summary[k]) for k in ("source", "kind", "status", "model") if summary.get(k))
        lines += [f"**Input:** {_inline(facts)}", ""]
        if summary.get("produced_by"):
            lines += [f"Produced by {_inline(summary['produced_by'])}.", ""]
        notes = summary.get("notes", [])
        lines += [f"- read: {_inline(note)}" for note in notes] + ([""] if notes else [])
    lines += _diagnoses(document.get("diagnosis", []), failed=bool(document.get("exit_code")))
    versions = (
        f"{tool.get('name', 'gemini-doctor')} {tool.get('version', '')}, Python {tool.get('python', '?')}, "
        f"{tool.get('platform', '?')}"
    )
    lines += [
        "",
        f"<sub>{versions} · schema {document.get('schema', '')} · exit code {document.get('exit_code')}</sub>",
        "",
    ]
    return "\n".join(lines)


def _target(document: dict[str, Any]) -> list[str]:
    rows = ["| setting | value |", "|---|---|"]
    for key, value in document.get("target", {}).items():
        rows.append(f"| {_cell(key)} | {_code(value)} |" if value not in (None, "") else f"| {_cell(key)} | – |")
    return rows


def _checks(document: dict[str, Any]) -> list[str]:
    rows = ["| | check | result |", "|---|---|---|"]
    for check in document.get("checks", []):
        mark, title, summary = MARK.get(check["status"], ""), _cell(check["title"]), _cell(check.get("summary", ""))
        rows.append(f"| {mark} | {title} | {summary} |")
    return rows


def _retry(item: dict[str, Any]) -> str:
    if not item.get("retryable"):
        return "no"
    after = item.get("retry_after")
    return "yes" if after is None else f"yes, after {after:g} s (RetryInfo)"


def _diagnoses(diagnoses: list[dict[str, Any]], failed: bool = False) -> list[str]:
    if not diagnoses:
        return ["**A check failed: see above.**" if failed else "**No failure found.**"]
    lines = ["### Diagnosis", ""]
    for number, item in enumerate(diagnoses, 1):
        lines.append(f"#### {number}. {_code(item['code'])} {_inline(item['slug'])}: {_inline(item['title'])}")
        times = f", {item['occurrences']} times" if item.get("occurrences", 1) > 1 else ""
        lines.append(f"*{item['severity']}, {item['confidence']}; cause {item['established']}{times}*")
        lines.append("")
        if item.get("evidence"):
            lines += ["Evidence:"] + [f"- {_inline(e)}" for e in item["evidence"]] + [""]
        if item.get("note"):
            lines += [f"> {_inline(item['note'])}", ""]
        lines += ["Fix:"] + [f"{i}. {_inline(step)}" for i, step in enumerate(item.get("fix", []), 1)] + [""]
        lines += [
            f"Retry: {_retry(item)}: {_inline(item.get('retry_advice', ''))}  ",
            f"Docs: {_inline(item.get('docs', ''))}",
            "",
        ]
    return lines


def _entry(entry: dict[str, Any], level: str) -> str:
    status = " ".join(str(entry[k]) for k in ("http_status", "grpc_status") if entry.get(k))
    lines = [
        f"{level} {entry['code']} {entry['slug']}: {_inline(entry['title'])}",
        "",
        f"*{entry['category']}{' · ' + status if status else ''} · cause {entry['established']}*",
        "",
    ]
    for key, label in ENTRY_SECTIONS:
        if entry.get(key):
            lines += [f"**{label}.** {_inline(entry[key])}", ""]
    lines += ["**Fix.**"] + [f"{i}. {_inline(step)}" for i, step in enumerate(entry["fix"], 1)] + [""]
    lines += [
        f"**Retry.** {'Helps' if entry['retryable'] else 'Does not help'}: {_inline(entry['retry_advice'])}",
        "",
        f"**Docs.** {_inline(entry['docs'])}",
        "",
        f"*Source: {_inline(entry['source'])} (checked {entry['checked']}).*",
        "",
    ]
    return "\n".join(lines)


def _catalog(document: dict[str, Any]) -> str:
    lines = ["## gemini-doctor error catalog", "", "| code | slug | category | HTTP | title |", "|---|---|---|---|---|"]
    for entry in document["errors"]:
        lines.append(
            f"| {entry['code']} | {entry['slug']} | {entry['category']} | "
            f"{entry.get('http_status', '–')} | {_cell(entry['title'])} |"
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
