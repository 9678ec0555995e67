"""GitHub Actions: workflow-command annotations and the job's step summary, escaped once for every command.

An annotation's message and properties are read by the runner up to a line break, so `%`, CR and LF are
percent-encoded (and `:`/`,` in properties, which would end one); control characters are made visible first.
"""

from __future__ import annotations

import os
from enum import StrEnum


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def escape_data(text: object) -> str:
    """An annotation's message as the Actions runner reads it: no line break or control character survives."""
    from gemini_doctor.redact import neutralise

    return neutralise(str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: object) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: Level | str, message: str, **properties: object) -> str:
    """One `::error title=…::message` line; properties given in order, escaped."""
    props = ",".join(f"{name}={escape_property(value)}" for name, value in properties.items() if value is not None)
    return f"::{Level(level)}{' ' + props if props else ''}::{escape_data(message)}"


def append_step_summary(markdown: str) -> None:
    """Under GitHub Actions: append Markdown to the job summary (no summary file: nothing to do)."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return
    try:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(markdown + "\n")
    except OSError:
        pass
