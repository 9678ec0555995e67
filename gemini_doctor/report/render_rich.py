"""The terminal report, in flutter doctor's manner: a mark per result, then what to do, then one summary line.

At a terminal, text wraps to its width with continuation lines under their bullet's text, and URLs and slugs are
never split; piped (width None), nothing is hard-wrapped, so each finding's line can be grepped.
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from gemini_doctor.levels import Severity, Status
from gemini_doctor.report.document import Entry, Finding, Report
from gemini_doctor.report.render_catalog import HEADERS, catalog_rows

MARKS = {
    Status.PASS: "[green][✓][/]",
    Status.WARN: "[yellow][!][/]",
    Status.FAIL: "[red][✗][/]",
    Status.SKIP: "[dim][-][/]",
    Status.ERROR: "[red][E][/]",
}
SEVERITY_MARK = {Severity.ERROR: "[red][✗][/]", Severity.WARNING: "[yellow][!][/]"}
UNWRAPPED = 100_000  # piped output: no line is wrapped


def render_rich(report: Report, color: bool = False, width: int | None = None, verbose: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        width=width or UNWRAPPED,
        soft_wrap=False,
    )
    if report.command == "errors":
        _catalog(console, report.catalog)
    elif report.entry is not None:
        _entry(console, report.entry)
    else:
        if report.command == "check":
            _checks(console, report, verbose)
            _notes(console, report, verbose)
        elif report.input:
            _input(console, report.input)
        _findings(console, report.findings)
        tone = "red" if report.failed else "yellow" if report.findings else "green"
        console.print(f"\n[{tone}]{escape(report.summary_line())}[/]")
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


def _checks(console: Console, report: Report, verbose: bool) -> None:
    shown = ", ".join(f"{k} {v}" for k, v in report.target.items() if v not in (None, ""))
    console.print(f"[bold]gemini-doctor check[/] ({escape(shown)})")
    said_below = {line for finding in report.findings for line in finding.evidence}  # each line printed once
    for check in report.checks:
        _bullet(console, MARKS[check.status], f"{escape(check.title)}: {escape(check.summary)}", 0)
        if verbose or check.status in (Status.FAIL, Status.WARN, Status.ERROR):
            for line in check.evidence:
                if line not in said_below:
                    _bullet(console, "•", escape(line), 4)


def _bullet(console: Console, mark: str, text: str, indent: int) -> None:
    """`mark text`, continuation lines under the text (a hanging indent), words never split mid-way."""
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(mark, text)
    console.print(Padding(grid, (0, 0, 0, indent), expand=False))


def _indented(console: Console, text: str, indent: int) -> None:
    console.print(Padding(text, (0, 0, 0, indent), expand=False))


def _notes(console: Console, report: Report, verbose: bool) -> None:
    if verbose:
        for note in report.notes:
            _indented(console, f"[dim]note: {escape(note)}[/]", 0)
        if report.requests_sent is not None:
            _indented(console, f"[dim]requests sent: {escape(str(report.requests_sent))}[/]", 0)


def _findings(console: Console, findings: tuple[Finding, ...]) -> None:
    for number, item in enumerate(findings, 1):
        console.print()
        times = f" [bold]×{item.occurrences}[/]" if item.occurrences > 1 else ""
        head = (
            f"[bold]{number}. {item.code} {item.slug}[/]: {escape(item.title)} "
            f"[dim]({item.confidence}; cause {item.established})[/]{times}"
        )
        _bullet(console, SEVERITY_MARK[item.severity], head, 0)
        for line in item.evidence:
            _bullet(console, "•", escape(line), 4)
        if item.note:
            _bullet(console, " ", f"[italic]{escape(item.note)}[/]", 2)
        for alternative in item.alternatives:
            _bullet(console, "?", escape(alternative), 4)
        _indented(console, "[bold]Fix[/]:", 4)
        for step_number, step in enumerate(item.fix, 1):
            _bullet(console, f"{step_number}.", escape(step), 6)
        _bullet(console, "[bold]Retry helps[/]:", f"{item.retry}: {escape(item.retry_advice)}", 4)
        _link(console, "Docs", item.docs, 4)


def _link(console: Console, label: str, url: str, indent: int) -> None:
    """A URL on its line, never broken: it runs past the width rather than being split."""
    console.print(" " * indent + f"[bold]{label}[/]: {escape(url)}", soft_wrap=True)


def _entry(console: Console, entry: Entry) -> None:
    console.print(f"[bold]{entry.code} {entry.slug}[/]: {escape(entry.title)}")
    console.print(f"[dim]{escape(entry.status_line)}[/]")
    for label, text in entry.sections:
        console.print(f"\n[bold]{label}[/]")
        _indented(console, escape(text), 2)
    console.print("\n[bold]Fix[/]")
    for number, step in enumerate(entry.fix, 1):
        _bullet(console, f"{number}.", escape(step), 2)
    console.print("\n[bold]Retry[/]")
    _indented(console, f"{'Helps' if entry.retryable else 'Does not help'}: {escape(entry.retry_advice)}", 2)
    console.print()
    _link(console, "Docs", entry.docs, 0)
    console.print(f"[dim]Source: {escape(entry.source)} (checked {entry.checked})[/]", soft_wrap=True)


def _catalog(console: Console, catalog: tuple[Entry, ...]) -> None:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for column in HEADERS[:-1]:
        table.add_column(column, no_wrap=True)  # a code or slug is copied whole, never split
    table.add_column(HEADERS[-1], overflow="fold", ratio=1)
    for *fixed, title in catalog_rows(catalog):
        table.add_row(*fixed, escape(title))
    console.print(table)
