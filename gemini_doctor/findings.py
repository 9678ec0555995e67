"""Findings more than one command makes from the model table, written once (check's model check, lint)."""

from __future__ import annotations

import datetime as dt

from gemini_doctor.diagnosis import Diagnosis
from gemini_doctor.knowledge import Model, retirement


def model_deprecated(
    model: Model, evidence: list[str], *, today: dt.date | None = None, served: bool = False
) -> Diagnosis | None:
    """model-deprecated (a warning) when the table says the model is deprecated or shut down, else None.

    `served`: the live API still answered for it, which the evidence says (the live list wins over the table).
    """
    when = retirement(model, today)
    if when is None:
        return None
    line = f"model table: {model.id} is {when} (source: {model.source[:120]})"
    lines = [*evidence, line + ("; the live API still serves it" if served else "")]
    hints = [f"Plan the move to {model.replacement}."] if model.replacement else []
    return Diagnosis.of("model-deprecated", "likely", lines, severity="warning", hints=hints)
