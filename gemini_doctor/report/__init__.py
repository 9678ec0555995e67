"""Reports: plain documents (dicts in the `gemini-doctor/v1` shape) and the door every output passes through.

Renderers turn a document into text; they know no probe and no check. `render` redacts the document before
rendering and the text after it, so nothing key-shaped leaves the program; and it neutralises every string of the
document (control characters, BiDi overrides made visible) before any renderer sees it, so that text a server
sent cannot clear the screen, retitle the window or print a fake line in any format.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gemini_doctor import __version__
from gemini_doctor.redact import redact, scrub_obj, scrubber

SCHEMA = "gemini-doctor/v1"
FORMATS = ("rich", "json", "markdown")
# The prose sections of a catalog page, in the order every renderer shows them.
ENTRY_SECTIONS = (
    ("symptom", "Symptom"),
    ("cause", "Cause"),
    ("applies_when", "When it applies"),
)


# The modules each format's rendering imports: `prepare` imports them while a run waits for answers.
RENDERERS = {
    "json": ("gemini_doctor.report.document", "gemini_doctor.report.render_json"),
    "markdown": ("gemini_doctor.report.document", "gemini_doctor.report.render_markdown"),
    "rich": ("gemini_doctor.report.document", "gemini_doctor.report.render_rich"),
}


def prepare(fmt: str) -> None:
    """Import what rendering `fmt` will need, ahead of time (the same imports `render` would make later)."""
    import importlib

    for name in RENDERERS.get(fmt, ()):
        importlib.import_module(name)


def tool_info() -> dict[str, str]:
    """Who made the report, with what: a support ticket needs the versions."""
    import platform

    return {
        "name": "gemini-doctor",
        "version": __version__,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}".strip(),
    }


def entry_dict(entry: Any) -> dict[str, Any]:
    """A catalog entry as a plain dict (the page `explain CODE` shows)."""
    fields = (
        "code",
        "slug",
        "title",
        "category",
        "http_status",
        "grpc_status",
        "symptom",
        "cause",
        "applies_when",
        "fix",
        "retryable",
        "retry_advice",
        "docs",
        "established",
        "source",
    )
    result = {name: getattr(entry, name) for name in fields if getattr(entry, name) is not None}
    result["fix"] = list(entry.fix)
    result["checked"] = entry.checked.isoformat()
    return result


def render(
    document: dict[str, Any],
    fmt: str,
    secrets: Iterable[str | None] = (),
    color: bool = False,
    width: int | None = None,
    verbose: bool = False,
) -> str:
    """The document as text in one of FORMATS, redacted. `width` None: not a terminal, nothing hard-wrapped."""
    from gemini_doctor.report.document import Report

    secrets = tuple(secrets)
    if fmt == "json":  # scrubbed string by string as it is written: the document is walked once
        from gemini_doctor.report.render_json import dumps

        Report.from_document(document)  # the same checks of its shape as the other formats make
        return dumps(document, scrubber(secrets))
    report = Report.from_document(scrub_obj(document, secrets))  # type: ignore[arg-type]
    if fmt == "markdown":
        from gemini_doctor.report.render_markdown import render_markdown

        text = render_markdown(report)
    else:
        text = _rich_text(report, color, width, verbose)
    return redact(text, secrets)


def _rich_text(report: Any, color: bool, width: int | None, verbose: bool) -> str:
    """The terminal report. The catalog without colour is laid out by hand, as Rich would lay it out, for speed."""
    if report.command == "errors" and not color:
        from gemini_doctor.report.render_catalog import plain_catalog

        text = plain_catalog(report.catalog, width)
        if text is not None:
            return text
    from gemini_doctor.report.render_rich import render_rich

    return render_rich(report, color=color, width=width, verbose=verbose)
