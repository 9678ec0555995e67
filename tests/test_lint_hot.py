"""Only the top-level statements that could hold a finding are parsed: the cut keeps positions and loses nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

import gemini_doctor.lint.javascript as javascript
import gemini_doctor.lint.python as python
from gemini_doctor.lint import lint_paths, lint_source
from gemini_doctor.lint.hot import Cut, hot_statements
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
    cut, rebound = hot_statements(SOURCE, "python")
    assert cut is not None and cut.count("\n") == SOURCE.count("\n")
    kept = {number: line for number, line in enumerate(cut.splitlines(), 1) if line}
    original = SOURCE.splitlines()
    assert all(original[number - 1] == line for number, line in kept.items())
    assert "def helper" not in cut and "import logging" not in cut and "ValueError" not in cut
    assert 'SIZE = "1k"' in cut  # a top-level assignment of a literal: a constant lint may follow
    assert "LIMITS" not in cut and rebound == ("LIMITS",)  # a dict is no constant: left out, its name rebound
    assert '@decorator\ndef draw(client):\n    return client.models.generate_content(model="gemini-3' in cut
    compile(cut, "<cut>", "exec")  # the cut is still Python: no fall-back to the whole file needed


def test_nothing_cut_when_every_statement_is_hot():
    assert hot_statements('MODEL = "gemini-3-pro-image"\n', "python").text is None


@pytest.mark.parametrize(
    "folder",
    [
        FIXTURES / "lint",
        GENAI / "tests" / "models" / "test_generate_content_image_generation.py",
        GENAI,  # google-genai's own source and tests: requests, configs, Live sessions, Imagen and Vertex fields
        Path(__file__).parent,  # this suite: traps written as strings, URLs, model names
    ],
    ids=lambda p: p.name,
)
def test_the_cut_changes_no_finding(folder, monkeypatch):
    cut = lint_paths([str(folder)], cwd=FIXTURES, jobs=1)
    monkeypatch.setattr(python, "hot_statements", lambda source, language, lowered=None: Cut(None))
    monkeypatch.setattr(javascript, "hot_statements", lambda source, language, lowered=None: Cut(None))
    whole = lint_paths([str(folder)], cwd=FIXTURES, jobs=1)
    assert whole.findings and cut.findings == whole.findings


@pytest.mark.parametrize(
    ("statement", "left_out"),
    [
        ("log = logging.getLogger(__name__)", True),  # a call: never a literal
        ("LIMITS: dict[str, int] = {'retries': 3}", True),  # a dict, annotated
        ("ITEMS = [1, 2]", True),
        ("PART = table['size']", True),
        ("SIZE = '1k'", False),  # a literal lint may follow
        ("SIZE = ('1k')", False),
        ("COUNT = 4", False),
        ("A = B = compute()", False),  # binds B too
        ("SIZES = [s for s in table]", False),  # binds s inside
        ("PICK = sorted(table, key=lambda size: size)", False),
        ("FIRST = (size := compute())", False),
    ],
)
def test_an_assignment_is_left_out_only_when_its_value_cannot_be_a_literal(statement, left_out):
    source = statement + "\nr = client.models.generate_content(model='gemini-3-pro-image', contents='x')\n"
    cut, rebound = hot_statements(source, "python")
    assert (cut is not None and statement not in cut) is left_out
    assert rebound == ((statement.split()[0].rstrip(":"),) if left_out else ())


IMAGE_CONFIG = 'cfg = types.GenerateContentConfig(response_modalities=["IMAGE"])\n'
# Each trap in a statement that holds one word of HOT alone (the others are gone from it): without that
# word the cut would blank the statement, and the finding with it.
GATED = [
    ("python", 'x = types.ImageConfig(output_mime_type="image/png")\n', "GD113"),  # config
    ("python", 'body = {"contents": "x", "sampleCount": 4}\n', "GD113"),  # contents
    ("python", "r = generate_content(numberOfImages=2)\n", "GD113"),  # generat
    ("python", 'x = {"responseModalities": ["IMAGE"], "sampleCount": 2}\n', "GD113"),  # modalit
    ("python", "chat = client.chats.create(sample_count=4)\n", "GD113"),  # chats
    ("python", 'URL = base + "/v1beta/openai/images/generations"\n', "GD006"),  # openai
    ("python", 'm = pick("gemini-3-pro-image-preview")\n', "GD114"),  # gemini
    ("python", 'c = genai.Client(http_options={"api_version": "v1"})\n' + IMAGE_CONFIG, "GD006"),  # version
    ("javascript", 'const x = { imageConfig: { personGeneration: "ALLOW_ALL" } };\n', "GD113"),  # config
    ("javascript", 'const x = { contents: "x", sampleCount: 4 };\n', "GD113"),  # contents
    ("javascript", "const c = ai.chats.create({ sampleCount: 4 });\n", "GD113"),  # chats
    (
        "javascript",
        'const c = new GoogleGenAI({ httpOptions: { apiVersion: "v1" } });\n'
        'const cfg = { responseModalities: ["IMAGE"] };\n',
        "GD006",
    ),  # apiversion
]


def _kept_as_the_whole_file_reads_it(language: str, statement: str, code: str, monkeypatch) -> None:
    source = "import os\n\n" + statement if language == "python" else 'import fs from "node:fs";\n' + statement
    assert hot_statements(source, language).text is not None  # something is cut: the test measures the cut
    cut = [finding.code for finding in lint_source(source, language)]
    monkeypatch.setattr(python, "hot_statements", lambda source, language, lowered=None: Cut(None))
    monkeypatch.setattr(javascript, "hot_statements", lambda source, language, lowered=None: Cut(None))
    assert code in cut and cut == [finding.code for finding in lint_source(source, language)]


@pytest.mark.parametrize(("language", "statement", "code"), GATED)
def test_a_statement_that_holds_one_word_of_a_trap_is_kept(language, statement, code, monkeypatch):
    _kept_as_the_whole_file_reads_it(language, statement, code, monkeypatch)


# Lines at column 0 that do not start a statement: an object's or a call's items written without indentation (the
# line before ends with a comma or an open bracket), and text inside a JavaScript block comment.
NOT_STARTS = [
    (
        "python",
        'cfg = types.GenerateContentConfig(\nresponse_modalities=["IMAGE"],\noutput_mime_type=mime(),\n'
        'image_config=types.ImageConfig(aspect_ratio="16:9"),\n)\n',
        "GD113",
    ),
    (
        "javascript",
        'const x = {responseModalities: ["IMAGE"],\nsampleCount: 2,\nimageConfig: {aspectRatio: "1:1"}};\n',
        "GD113",
    ),
    (
        "javascript",
        'const model = "m"; /* starts a comment\nthat mentions nothing\n*/\n'
        'const cfg = {imageConfig: {imageSize: "1k"}};\n',
        "GD009",
    ),
]


@pytest.mark.parametrize(("language", "statement", "code"), NOT_STARTS)
def test_a_line_at_column_0_inside_brackets_or_a_comment_starts_no_statement(language, statement, code, monkeypatch):
    _kept_as_the_whole_file_reads_it(language, statement, code, monkeypatch)
