"""The fixture corpus: every pasted input under fixtures/explain/ must be named as its manifest says.

The manifest is fixtures/explain/cases.toml. Each case runs the real `explain` command in-process and checks the
first diagnosis and the exit code; one test runs the installed `gemini-doctor` console script on a few cases; one
test keeps the corpus from silently losing coverage of the catalog.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gemini_doctor.cli import app
from gemini_doctor.knowledge import error_types

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "explain"
CASES: list[dict] = tomllib.loads((FIXTURES / "cases.toml").read_text(encoding="utf-8"))["case"]
ITEM_KEYS = {"code", "slug", "title", "confidence", "evidence", "fix", "retryable", "docs"}


def resolve_args(args: list[str]) -> list[str]:
    """File arguments in the manifest are relative to fixtures/explain/; everything else passes unchanged."""
    resolved = []
    for arg in args:
        candidate = FIXTURES / arg
        resolved.append(str(candidate) if not arg.startswith("-") and candidate.is_file() else arg)
    return resolved


def command(case: dict) -> list[str]:
    return ["explain", str(FIXTURES / case["input"]), *resolve_args(case.get("args", [])), "--format", "json"]


def check_document(case: dict, document: dict, exit_code: int) -> None:
    assert document["schema"] == "gemini-doctor/v1"
    diagnosis = document["diagnosis"]
    for item in diagnosis:
        missing = ITEM_KEYS - item.keys()
        assert not missing, f"diagnosis item {item.get('slug')} lacks {sorted(missing)}"
    summary = [(d["slug"], d["severity"], d["confidence"]) for d in diagnosis]
    expected = case["expect_first"]
    if expected:
        assert diagnosis, f"no diagnosis at all; expected {expected!r}"
        assert diagnosis[0]["slug"] == expected, f"expected {expected!r} first, got {summary}"
    else:
        errors = [d for d in diagnosis if d["severity"] == "error"]
        assert not errors, f"expected no error-severity diagnosis, got {summary}"
    expected_exit = case.get("expect_exit", 1)
    assert exit_code == expected_exit, f"exit code {exit_code}, expected {expected_exit}; diagnosis {summary}"
    assert document["exit_code"] == expected_exit


def test_manifest_is_well_formed() -> None:
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    slugs = {entry.slug for entry in error_types()} | {""}
    for case in CASES:
        assert (FIXTURES / case["input"]).is_file(), f"{case['name']}: missing input {case['input']}"
        assert case["expect_first"] in slugs, f"{case['name']}: unknown slug {case['expect_first']!r}"
        assert case.get("source"), f"{case['name']}: no source"
        args = case.get("args", [])
        if "--request" in args:
            path = FIXTURES / args[args.index("--request") + 1]
            assert path.is_file(), f"{case['name']}: missing request file {path}"
            json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_fixture_is_named_as_expected(case: dict) -> None:
    result = CliRunner().invoke(app, command(case))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    try:
        document = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"stdout is not JSON (exit {result.exit_code}): {result.output[:500]!r}")
    check_document(case, document, result.exit_code)


def test_every_catalog_entry_is_covered() -> None:
    """Each type is named first by a fixture here or by a real case of the corpus (fixtures/corpus)."""
    import sys

    sys.path.insert(0, str(FIXTURES.parent.parent / "bench"))
    from corpus import load_cases

    covered = {case["expect_first"] for case in CASES} | {case.target for case in load_cases()}
    article = {entry.slug for entry in error_types() if entry.code.startswith("GD0")}
    added = {entry.slug for entry in error_types() if entry.code.startswith("GD1")}
    assert article, "catalog has no GD0xx entries"
    assert added, "catalog has no GD1xx entries"
    assert not article - covered, f"GD0xx types without a fixture named first: {sorted(article - covered)}"
    assert not added - covered, f"GD1xx types without a fixture named first: {sorted(added - covered)}"
    assert any(case["expect_first"] == "" for case in CASES), "no healthy (exit 0) case"


CONSOLE_CASES = ["billing-limit-zero.json", "ghost-429-curl.txt", "healthy.json"]


@pytest.mark.parametrize("input_name", CONSOLE_CASES)
def test_installed_console_script(input_name: str) -> None:
    executable = shutil.which("gemini-doctor")
    if executable is None:
        pytest.skip("the gemini-doctor console script is not installed on PATH")
    case = next(case for case in CASES if case["input"] == input_name)
    completed = subprocess.run([executable, *command(case)], capture_output=True, text=True, timeout=120, check=False)
    try:
        document = json.loads(completed.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"stdout is not JSON (exit {completed.returncode}): {completed.stdout[:300]!r} "
            f"stderr {completed.stderr[:300]!r}"
        )
    check_document(case, document, completed.returncode)
