"""The terminal report, in flutter doctor's manner: a mark per result, then what to do."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding

from gemini_doctor.report import ENTRY_SECTIONS

MARKS = {"pass": "[green][✓][/]", "warn": "[yellow][!][/]", "fail": "[red][✗][/]", "skip": "[dim][-][/]"}
SEVERITY_MARK = {"error": "[red][✗][/]", "warning": "[yellow][!][/]"}


def render_rich(document: dict[str, Any], color: bool = False, width: int | None = None, verbose: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=color, no_color=not color, highlight=False, width=width or 100, soft_wrap=False
    )
    kind = document.get("command")
    if kind == "errors":
        _catalog(console, document)
    elif kind == "rule":
        _entry(console, document["entry"])
    else:
        if kind == "check":
            _checks(console, document, verbose)
            _notes(console, document, verbose)
        elif document.get("input"):
            _input(console, document["input"])
        _diagnoses(console, document.get("diagnosis", []), failed=bool(document.get("exit_code")))
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def _input(console: Console, summary: dict[str, Any]) -> None:
    """What explain read: the shape, the status, who produced the error, and what it could not read."""
    facts = " · ".join(str(summary[k]) for k in ("source", "kind", "status", "model") if summary.get(k))
    console.print(f"[bold]Input[/]: {escape(facts)}")
    if summary.get("produced_by"):
        _indented(console, f"produced by {escape(summary['produced_by'])}", 2)
    if summary.get("distinct_errors"):
        _indented(console, f"{summary['errors']} errors in the paste, {summary['distinct_errors']} distinct", 2)
    for note in summary.get("notes", []):
        _indented(console, f"[dim]read: {escape(note)}[/]", 2)


def _checks(console: Console, document: dict[str, Any], verbose: bool) -> None:
    target = document.get("target", {})
    shown = ", ".join(f"{k} {v}" for k, v in target.items() if v not in (None, ""))
    console.print(f"[bold]gemini-doctor check[/] ({escape(shown)})")
    for check in document.get("checks", []):
        console.print(f"{MARKS.get(check['status'], '[?]')} {escape(check['title'])}: {escape(check['summary'])}")
        for line in check.get("evidence", []) if verbose or check["status"] in ("fail", "warn") else []:
            _indented(console, f"• {escape(line)}", 4)


def _indented(console: Console, text: str, indent: int) -> None:
    console.print(Padding(text, (0, 0, 0, indent), expand=False))


def _notes(console: Console, document: dict[str, Any], verbose: bool) -> None:
    if verbose:
        for note in document.get("notes", []):
            _indented(console, f"[dim]note: {escape(note)}[/]", 0)
        if "requests_sent" in document:
            _indented(console, f"[dim]requests sent: {escape(str(document['requests_sent']))}[/]", 0)


def _diagnoses(console: Console, diagnoses: list[dict[str, Any]], failed: bool = False) -> None:
    if not diagnoses:
        console.print("\n[red]A check failed: see above.[/]" if failed else "\n[green]No failure found.[/]")
        return
    for number, item in enumerate(diagnoses, 1):
        console.print()
        mark = SEVERITY_MARK.get(item["severity"], "[?]")
        console.print(
            f"{mark} [bold]{number}. {item['code']} {item['slug']}[/]: {escape(item['title'])} "
            f"[dim]({item['confidence']}; cause {item['established']})[/]"
            + (f" [bold]×{item['occurrences']}[/]" if item.get("occurrences", 1) > 1 else "")
        )
        for line in item.get("evidence", []):
            _indented(console, f"• {escape(line)}", 4)
        if item.get("note"):
            _indented(console, f"[italic]{escape(item['note'])}[/]", 4)
        _indented(console, "[bold]Fix[/]:", 4)
        for step_number, step in enumerate(item.get("fix", []), 1):
            _indented(console, f"{step_number}. {escape(step)}", 6)
        retry = "yes" if item.get("retryable") else "no"
        if item.get("retryable") and item.get("retry_after") is not None:
            retry += f", after {item['retry_after']:g} s (RetryInfo)"
        _indented(console, f"[bold]Retry helps[/]: {retry}: {escape(item.get('retry_advice', ''))}", 4)
        _indented(console, f"[bold]Docs[/]: {escape(item.get('docs', ''))}", 4)


def _entry(console: Console, entry: dict[str, Any]) -> None:
    status = " ".join(str(entry[k]) for k in ("http_status", "grpc_status") if entry.get(k))
    console.print(f"[bold]{entry['code']} {entry['slug']}[/]: {escape(entry['title'])}")
    console.print(f"[dim]{entry['category']}{' · ' + status if status else ''} · cause {entry['established']}[/]")
    for key, label in ENTRY_SECTIONS:
        if entry.get(key):
            console.print(f"\n[bold]{label}[/]\n  {escape(entry[key])}")
    console.print("\n[bold]Fix[/]")
    for number, step in enumerate(entry["fix"], 1):
        console.print(f"  {number}. {escape(step)}")
    console.print(
        f"\n[bold]Retry[/]\n  {'Helps' if entry['retryable'] else 'Does not help'}: {escape(entry['retry_advice'])}"
    )
    console.print(f"\n[bold]Docs[/]  {escape(entry['docs'])}")
    console.print(f"[dim]Source: {escape(entry['source'])} (checked {entry['checked']})[/]")


def _catalog(console: Console, document: dict[str, Any]) -> None:
    from rich.table import Table  # only the catalog needs it

    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for column in ("code", "slug", "category", "HTTP", "title"):
        table.add_column(column, overflow="fold")
    for entry in document["errors"]:
        table.add_row(
            entry["code"], entry["slug"], entry["category"], str(entry.get("http_status", "–")), escape(entry["title"])
        )
    console.print(table)
