"""The words a report is made of, typed: a check's status, a finding's severity and confidence, a check's needs.

StrEnums: each compares equal to (and serialises as) its value, so the `gemini-doctor/v1` JSON is unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A check's outcome. `skip`: it did not run (the reason says why); `error`: the check itself broke."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"

    @property
    def ran(self) -> bool:
        return self in (Status.PASS, Status.WARN, Status.FAIL)

    @property
    def is_problem(self) -> bool:
        return self in (Status.WARN, Status.FAIL, Status.ERROR)


class Severity(StrEnum):
    """`error`: the call failed or will; `warning`: something in the request may not do what it says."""

    ERROR = "error"
    WARNING = "warning"


class Confidence(StrEnum):
    """How sure a diagnosis is: `certain` (the evidence names it), `likely`, `possible` (one of several)."""

    CERTAIN = "certain"
    LIKELY = "likely"
    POSSIBLE = "possible"


class Need(StrEnum):
    """What a check needs before it can run at all."""

    API_KEY = "api_key"
    PROJECT = "project"
    GCP = "gcp"
    GENERATE = "generate"
