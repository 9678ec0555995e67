"""Markdown for support tickets and GitHub step summaries: everything a helper needs, the key never."""

from __future__ import annotations

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
        lines += [f"**Input:** {facts}", ""]
        if summary.get("produced_by"):
            lines += [f"Produced by {summary['produced_by']}.", ""]
        lines += [f"- read: {note}" for note in summary.get("notes", [])] + ([""] if summary.get("notes") else [])
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
        rows.append(f"| {key} | `{value}` |" if value not in (None, "") else f"| {key} | – |")
    return rows


def _checks(document: dict[str, Any]) -> list[str]:
    rows = ["| | check | result |", "|---|---|---|"]
    for check in document.get("checks", []):
        rows.append(f"| {MARK.get(check['status'], '')} | {check['title']} | {_cell(check.get('summary', ''))} |")
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
        lines.append(f"#### {number}. `{item['code']}` {item['slug']}: {item['title']}")
        times = f", {item['occurrences']} times" if item.get("occurrences", 1) > 1 else ""
        lines.append(f"*{item['severity']}, {item['confidence']}; cause {item['established']}{times}*")
        lines.append("")
        if item.get("evidence"):
            lines += ["Evidence:"] + [f"- {_inline(e)}" for e in item["evidence"]] + [""]
        if item.get("note"):
            lines += [f"> {item['note']}", ""]
        lines += ["Fix:"] + [f"{i}. {step}" for i, step in enumerate(item.get("fix", []), 1)] + [""]
        lines += [
            f"Retry: {_retry(item)}: {item.get('retry_advice', '')}  ",
            f"Docs: {item.get('docs', '')}",
            "",
        ]
    return lines


def _entry(entry: dict[str, Any], level: str) -> str:
    status = " ".join(str(entry[k]) for k in ("http_status", "grpc_status") if entry.get(k))
    lines = [
        f"{level} {entry['code']} {entry['slug']}: {entry['title']}",
        "",
        f"*{entry['category']}{' · ' + status if status else ''} · cause {entry['established']}*",
        "",
    ]
    for key, label in ENTRY_SECTIONS:
        if entry.get(key):
            lines += [f"**{label}.** {entry[key]}", ""]
    lines += ["**Fix.**"] + [f"{i}. {step}" for i, step in enumerate(entry["fix"], 1)] + [""]
    lines += [
        f"**Retry.** {'Helps' if entry['retryable'] else 'Does not help'}: {entry['retry_advice']}",
        "",
        f"**Docs.** {entry['docs']}",
        "",
        f"*Source: {entry['source']} (checked {entry['checked']}).*",
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


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _inline(text: str) -> str:
    return str(text).replace("\n", " ")
