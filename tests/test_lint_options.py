"""lint as ruff users expect: --select, --severity, --exit-zero, --statistics, --fix and --diff."""

from __future__ import annotations

import json
import os

import pytest

from gemini_doctor.lint.rules import FIXES

TRAPS = (
    "from google.genai import types\n"
    'SIZE = "1k"\n'
    'cfg = types.GenerateContentConfig(response_modalities=["IMAGE"],'
    " image_config=types.ImageConfig(image_size=SIZE))\n"
    'body = {"generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"imageSize": "2k"}}}\n'
    'loose = {"responseModalities": ["IMAGE"], "personGeneration": "ALLOW_ALL"}\n'
)


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_bytes(TRAPS.replace("\n", "\r\n").encode("utf-8"))
    return tmp_path / "app.py"


def lint(run_cli, *args: str) -> tuple[int, dict]:
    code, out, _ = run_cli("lint", "app.py", "--format", "json", *args)
    return code, json.loads(out)


def test_select_severity_and_exit_zero(run_cli, app):
    code, everything = lint(run_cli)
    assert code == 1 and everything["summary"]["by_code"] == {"GD009": 2, "GD113": 1}
    _, selected = lint(run_cli, "--select", "image-size-case")
    assert {f["code"] for f in selected["findings"]} == {"GD009"} and selected["select"] == ["GD009"]
    _, errors = lint(run_cli, "--severity", "error")
    assert [f["code"] for f in errors["findings"]] == ["GD113"]
    code, zero = lint(run_cli, "--exit-zero")
    assert code == 0 and len(zero["findings"]) == 3
    code, _, err = run_cli("lint", "app.py", "--select", "GD999")
    assert code == 2 and "--select 'GD999' is not a code or slug" in err


def test_statistics_count_per_code_as_ruff_prints_them(run_cli, app):
    code, out, _ = run_cli("lint", "app.py", "--statistics")
    assert code == 1
    assert out.splitlines() == ["2\tGD009\t[*] image-size-case", "1\tGD113\tinvalid-argument"]
    _, out, _ = run_cli("lint", "app.py", "--statistics", "--format", "json")
    assert json.loads(out)[0] == {"code": "GD009", "name": "image-size-case", "count": 2, "fixable": True}


def test_diff_shows_the_safe_fixes_and_writes_nothing(run_cli, app):
    before = app.read_bytes()
    code, out, _ = run_cli("lint", "app.py", "--diff")
    assert code == 1
    # click's runner shows CRLF as LF; the file's own line endings are checked in the --fix test
    assert '-SIZE = "1k"\n' in out and '+SIZE = "1K"\n' in out and '"imageSize": "2K"' in out
    assert app.read_bytes() == before


def test_fix_writes_safe_fixes_keeping_line_endings_mode_and_the_rest(run_cli, app):
    os.chmod(app, 0o640)
    code, document = lint(run_cli, "--fix")
    after = app.read_bytes()
    assert after == TRAPS.replace('"1k"', '"1K"').replace('"2k"', '"2K"').replace("\n", "\r\n").encode()
    assert oct(app.stat().st_mode & 0o777) == "0o640"
    assert [(f["line"], f["old"], f["new"]) for f in document["fixed"]] == [(2, "1k", "1K"), (4, "2k", "2K")]
    assert code == 1 and [f["code"] for f in document["findings"]] == ["GD113"]  # no safe fix for that one
    assert [name for name in os.listdir(app.parent) if name != "app.py"] == []  # no temp file left
    code, document = lint(run_cli, "--fix")
    assert document["fixed"] == []


def test_fix_keeps_a_utf16_file_utf16_and_leaves_what_it_cannot_read_plainly(run_cli, app):
    app.write_bytes(TRAPS.encode("utf-16"))
    lint(run_cli, "--fix")
    assert app.read_bytes().startswith(b"\xff\xfe") and '"1K"' in app.read_bytes().decode("utf-16")
    raw = 'cfg = types.GenerateContentConfig(response_modalities=["IMAGE"], image_config={"image_size": r"1k"})\n'
    app.write_text(raw)
    _, document = lint(run_cli, "--fix")
    assert app.read_text() == raw and document["fixed"] == []  # a prefixed literal is not rewritten
    assert [f["code"] for f in document["findings"]] == ["GD009"]


def test_only_safe_fixes_are_applied_and_each_rule_says_its_safety():
    assert {slug: safety.value for slug, (safety, _) in FIXES.items()} == {"image-size-case": "safe"}
    assert FIXES["image-size-case"][1]("4k") == "4K" and FIXES["image-size-case"][1]("9k") is None
