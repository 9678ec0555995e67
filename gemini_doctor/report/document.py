"""The typed Report every renderer takes: built once from a `gemini-doctor/v1` document, already scrubbed.

The document (a plain dict) stays the JSON contract; the Report is what the rich, Markdown and GitHub renderers
read, with enums for status, severity and confidence, so no renderer spells them as strings of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from gemini_doctor.levels import Confidence, Severity, Status


@dataclass(frozen=True)
class Finding:
    """One diagnosis as reported: one cause, its evidence once each, the alternatives as "could also be"."""

    code: str
    slug: str
    title: str
    severity: Severity
    confidence: Confidence
    established: str = ""
    evidence: tuple[str, ...] = ()
    fix: tuple[str, ...] = ()
    retryable: bool = False
    retry_after: float | None = None
    retry_advice: str = ""
    docs: str = ""
    note: str | None = None
    occurrences: int = 1
    alternatives: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, item: dict[str, Any]) -> Finding:
        return cls(
            code=str(item.get("code", "")),
            slug=str(item.get("slug", "")),
            title=str(item.get("title", "")),
            severity=Severity(item.get("severity", "error")),
            confidence=Confidence(item.get("confidence", "possible")),
            established=str(item.get("established", "")),
            evidence=tuple(dict.fromkeys(map(str, item.get("evidence", ())))),  # each line once
            fix=tuple(map(str, item.get("fix", ()))),
            retryable=bool(item.get("retryable")),
            retry_after=item.get("retry_after"),
            retry_advice=str(item.get("retry_advice", "")),
            docs=str(item.get("docs", "")),
            note=item.get("note"),
            occurrences=int(item.get("occurrences", 1)),
            alternatives=tuple(map(str, item.get("alternatives", ()))),
        )

    @property
    def retry(self) -> str:
        """ "no", "yes" or "yes, after N s (RetryInfo)"."""
        if not self.retryable:
            return "no"
        return "yes" if self.retry_after is None else f"yes, after {self.retry_after:g} s (RetryInfo)"


@dataclass(frozen=True)
class CheckLine:
    id: str
    title: str
    status: Status
    summary: str
    evidence: tuple[str, ...] = ()
    duration_ms: int = 0


@dataclass(frozen=True)
class Entry:
    """A catalog page (`explain CODE`) or a row of the catalog (`errors`)."""

    code: str
    slug: str
    title: str
    category: str = ""
    established: str = ""
    http_status: int | None = None
    grpc_status: str | None = None
    sections: tuple[tuple[str, str], ...] = ()  # (label, text) in the order every renderer shows them
    fix: tuple[str, ...] = ()
    retryable: bool = False
    retry_advice: str = ""
    docs: str = ""
    source: str = ""
    checked: str = ""

    @classmethod
    def from_dict(cls, entry: dict[str, Any]) -> Entry:
        """From `entry_dict`'s dict: its keys of the same names (code, slug and title are required), the prose
        sections in the order every renderer shows them."""
        from gemini_doctor.report import ENTRY_SECTIONS

        values = {item.name: entry[item.name] for item in fields(cls) if item.name in entry}
        values["sections"] = tuple((label, entry[key]) for key, label in ENTRY_SECTIONS if entry.get(key))
        values["fix"], values["retryable"] = tuple(values.get("fix", ())), bool(values.get("retryable"))
        return cls(**values)

    @property
    def status_line(self) -> str:
        status = " ".join(str(s) for s in (self.http_status, self.grpc_status) if s)
        return f"{self.category}{' · ' + status if status else ''} · cause {self.established}"


@dataclass(frozen=True)
class Report:
    """What every renderer takes. `document` is the JSON as it is (the json renderer prints it unchanged)."""

    command: str
    exit_code: int
    document: dict[str, Any]
    tool: dict[str, Any] = field(default_factory=dict)
    target: dict[str, Any] = field(default_factory=dict)
    checks: tuple[CheckLine, ...] = ()
    findings: tuple[Finding, ...] = ()
    input: dict[str, Any] | None = None
    notes: tuple[str, ...] = ()
    requests_sent: dict[str, int] | None = None
    entry: Entry | None = None
    catalog: tuple[Entry, ...] = ()

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Report:
        checks = tuple(
            CheckLine(c["id"], c["title"], Status(c["status"]), c.get("summary", ""), tuple(c.get("evidence", ())))
            for c in document.get("checks", ())
        )
        return cls(
            command=str(document.get("command", "")),
            exit_code=int(document.get("exit_code") or 0),
            document=document,
            tool=document.get("tool", {}),
            target=document.get("target", {}),
            checks=checks,
            findings=tuple(Finding.from_dict(item) for item in document.get("diagnosis", ())),
            input=document.get("input"),
            notes=tuple(document.get("notes", ())),
            requests_sent=document.get("requests_sent"),
            entry=Entry.from_dict(document["entry"]) if document.get("entry") else None,
            catalog=tuple(Entry.from_dict(e) for e in document.get("errors", ())),
        )

    @property
    def failed(self) -> bool:
        return self.exit_code != 0

    def summary_line(self) -> str:
        """One line whatever the outcome, as flutter doctor's "Doctor found issues in N categories."."""
        if self.command == "check":
            problems = [c for c in self.checks if c.status.is_problem]
            skipped = [c for c in self.checks if c.status is Status.SKIP]
            tail = f"; {len(skipped)} skipped" if skipped else ""
            if problems:
                count = len(problems)
                return f"Doctor found issues in {count} {'check' if count == 1 else 'checks'}{tail}."
            if self.findings:
                count = len(self.findings)
                return f"Doctor found {count} {'issue' if count == 1 else 'issues'}{tail}."
            return f"No issues found in {len(self.checks) - len(skipped)} checks{tail}."
        if not self.findings:
            return "No failure found." if not self.failed else "A failure was found: see above."
        errors = sum(f.severity is Severity.ERROR for f in self.findings)
        warnings = len(self.findings) - errors
        parts = [f"{n} {word}{'' if n == 1 else 's'}" for n, word in ((errors, "failure"), (warnings, "warning")) if n]
        return f"Found {' and '.join(parts)}."
