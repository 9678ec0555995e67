"""Only the top-level statements that could hold a finding are parsed: the cut keeps positions and loses nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

import gemini_doctor.lint.javascript as javascript
import gemini_doctor.lint.python as python
from gemini_doctor.lint import lint_paths
from gemini_doctor.lint.hot import hot_statements
from tests.conftest import FIXTURES

GENAI = Path(__import__("google.genai", fromlist=["__file__"]).__file__).parent

SOURCE = '''"""Module docstring.

def not_code(): text at column 0 inside the docstring
"""
import logging

LIMITS = {"retries": 3}
SIZE = "1k"


@decorator
def helper(values):
    return [v * 2 for v in values]


@decorator
def draw(client):
    return client.models.generate_content(model="gemini-3-pro-image", contents="x")
try:
    pass
except ValueError:
    pass
'''


def test_cold_statements_become_blank_lines_and_kept_lines_stay_where_they_were():
    cut = hot_statements(SOURCE, "python")
    assert cut is not None and cut.count("\n") == SOURCE.count("\n")
    kept = {number: line for number, line in enumerate(cut.splitlines(), 1) if line}
    original = SOURCE.splitlines()
    assert all(original[number - 1] == line for number, line in kept.items())
    assert "def helper" not in cut and "import logging" not in cut and "ValueError" not in cut
    assert 'SIZE = "1k"' in cut and "LIMITS" in cut  # top-level assignments: constants lint may follow, or rebinding
    assert '@decorator\ndef draw(client):\n    return client.models.generate_content(model="gemini-3' in cut
    compile(cut, "<cut>", "exec")  # the cut is still Python: no fall-back to the whole file needed


def test_nothing_cut_when_every_statement_is_hot():
    assert hot_statements('MODEL = "gemini-3-pro-image"\n', "python") is None


@pytest.mark.parametrize(
    "folder",
    [FIXTURES / "lint", GENAI / "tests" / "models" / "test_generate_content_image_generation.py"],
    ids=lambda p: p.name,
)
def test_the_cut_changes_no_finding(folder, monkeypatch):
    cut = lint_paths([str(folder)], cwd=FIXTURES, jobs=1)
    monkeypatch.setattr(python, "hot_statements", lambda source, language, lowered=None: None)
    monkeypatch.setattr(javascript, "hot_statements", lambda source, language, lowered=None: None)
    whole = lint_paths([str(folder)], cwd=FIXTURES, jobs=1)
    assert whole.findings and cut.findings == whole.findings
