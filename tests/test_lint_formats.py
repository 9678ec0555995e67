"""lint's outputs: json, SARIF 2.1.0 as GitHub code scanning reads it (field by field), GitHub annotations, the
terminal and the job summary; each passes the redacting door; the command stays light to start."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from gemini_doctor.knowledge import find_error
from tests.conftest import FIXTURES, run_installed
from tests.test_imports import PROBE

LINT = FIXTURES / "lint"
TRAPS = ["python/sdk_traps.py", "javascript/sdk_traps.ts", "json/request_traps.json"]


@pytest.fixture
def in_fixtures(monkeypatch):
    monkeypatch.chdir(LINT)


def lint_json(run_cli, *paths: str) -> dict:
    code, out, _ = run_cli("lint", *paths, "--format", "json")
    document = json.loads(out)
    assert code == document["exit_code"]
    return document


def test_json_document_fields(run_cli, in_fixtures):
    document = lint_json(run_cli, *TRAPS)
    assert document["schema"] == "gemini-doctor/v1" and document["command"] == "lint"
    assert document["files"] == 3 and document["exit_code"] == 1
    assert document["summary"]["errors"] + document["summary"]["warnings"] == len(document["findings"])
    assert sum(document["summary"]["by_code"].values()) == len(document["findings"])
    for item in document["findings"]:
        entry = find_error(item["code"])
        assert entry is not None and entry.slug == item["slug"] and entry.title == item["title"]
        assert item["path"] in TRAPS and item["line"] >= 1 and item["column"] >= 1
        assert (item["end_line"], item["end_column"]) >= (item["line"], item["column"])
        assert item["severity"] in ("error", "warning") and item["confidence"] in ("certain", "likely", "possible")
        assert item["message"] == item["evidence"][0] and item["fix"] and item["docs"].startswith("https://")


def test_sarif_field_by_field(run_cli, in_fixtures):
    document = lint_json(run_cli, *TRAPS)
    code, out, _ = run_cli("lint", *TRAPS, "--format", "sarif")
    sarif = json.loads(out)
    assert code == 1
    assert sarif["version"] == "2.1.0"
    assert sarif["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert len(sarif["runs"]) == 1
    run = sarif["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "gemini-doctor" and driver["version"] == document["tool"]["version"]
    rules = driver["rules"]
    assert len({rule["id"] for rule in rules}) == len(rules)
    for rule in rules:
        entry = find_error(rule["id"])
        assert entry is not None and rule["name"] == entry.slug
        assert rule["shortDescription"]["text"] == entry.title and rule["fullDescription"]["text"] == entry.cause
        assert rule["helpUri"] == entry.docs and entry.fix[0] in rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning")
    assert run["columnKind"] == "unicodeCodePoints"
    top = next(f for f in (LINT.resolve(), *LINT.resolve().parents) if (f / ".git").exists())  # the repository
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == top.as_uri() + "/"
    inside = LINT.resolve().relative_to(top).as_posix()
    results = run["results"]
    assert len(results) == len(document["findings"])
    for result, item in zip(results, document["findings"], strict=True):
        assert result["ruleId"] == item["code"]
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == item["severity"]
        assert result["message"]["text"].startswith(item["message"]) and item["fix"][0] in result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        # GitHub code scanning resolves URIs against the checkout's top, so they are relative to it
        assert physical["artifactLocation"] == {"uri": f"{inside}/{item['path']}", "uriBaseId": "%SRCROOT%"}
        assert physical["region"] == {
            "startLine": item["line"],
            "startColumn": item["column"],
            "endLine": item["end_line"],
            "endColumn": item["end_column"],
        }


def test_sarif_of_a_clean_tree_has_rules_and_no_result(run_cli, in_fixtures):
    code, out, _ = run_cli("lint", "python/clean.py", "--format", "sarif")
    run = json.loads(out)["runs"][0]
    assert code == 0 and run["results"] == [] and run["tool"]["driver"]["rules"]


ANNOTATION = re.compile(
    r"^::(error|warning) file=([^,]+),line=(\d+),col=(\d+),endLine=(\d+),endColumn=(\d+),title=(GD\d{3}) ([a-z0-9-]+)"
    r"::(.+)$"
)


def test_github_annotations(run_cli, in_fixtures):
    document = lint_json(run_cli, *TRAPS)
    code, out, _ = run_cli("lint", *TRAPS, "--format", "github")
    lines = out.splitlines()
    assert code == 1 and len(lines) == len(document["findings"])
    for line, item in zip(lines, document["findings"], strict=True):
        match = ANNOTATION.match(line)
        assert match, line
        level, path, start, col, end_line, end_col, rule, slug, message = match.groups()
        assert (level, path, rule, slug) == (item["severity"], item["path"], item["code"], item["slug"])
        assert (int(start), int(col), int(end_line), int(end_col)) == (
            item["line"],
            item["column"],
            item["end_line"],
            item["end_column"],
        )
        assert message.startswith(item["message"].replace("%", "%25")) and "Fix: " in message


def test_github_format_writes_the_job_summary(in_fixtures, tmp_path):
    summary = tmp_path / "summary.md"
    code, out, _ = run_installed(
        "lint",
        *TRAPS,
        "--format",
        "github",
        env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)},
    )
    text = summary.read_text()
    assert code == 1 and out.startswith("::")
    assert text.startswith("## gemini-doctor lint") and "| `python/sdk_traps.py:" in text and "GD009" in text


def test_rich_output_lists_place_code_and_fix(run_cli, in_fixtures):
    code, out, _ = run_cli("lint", "javascript/sdk_traps.ts")
    assert code == 1
    # [*]: a safe fix exists (ruff's mark)
    assert "javascript/sdk_traps.ts:19:33: GD009 [image-size-case] [*] imageSize is '4k'" in out
    assert '    fix: Send "imageSize": "4K".' in out
    assert re.search(r"Found \d+ findings \(\d+ errors, \d+ warnings\) in 1 file\.", out)
    code, out, _ = run_cli("lint", "json/request_clean.json")
    assert code == 0 and out.strip() == "No finding in 1 file."


def test_markdown_and_output_file(run_cli, in_fixtures, tmp_path):
    target = tmp_path / "lint.md"
    code, out, _ = run_cli("lint", "json/request_traps.json", "--format", "markdown", "--output", str(target))
    assert code == 1 and out == ""
    text = target.read_text()
    assert "| where | code | severity | finding | fix |" in text and "`json/request_traps.json:7:35`" in text
    assert [p.name for p in tmp_path.iterdir()] == ["lint.md"]


@pytest.mark.parametrize("fmt", ["rich", "json", "sarif", "github", "markdown"])
def test_every_format_redacts_keys_written_in_source(run_cli, tmp_path, monkeypatch, fmt):
    key = "AIza" + "SyFAKE" + "x9" * 14 + "Q"  # a fake key, built at run time
    source = tmp_path / "app.py"
    source.write_text(
        f'URL = "https://generativelanguage.googleapis.com/v1beta/openai/images/generations?key={key}"\n'
        'c = {"responseModalities": ["IMAGE"]}\n'
    )
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli("lint", "app.py", "--format", fmt)
    assert code == 1 and "GD006" in out and key not in out and "[REDACTED]" in out


def test_lint_imports_no_heavy_module():
    args = ["lint", str(LINT), "--format", "sarif"]
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, timeout=60)
    line = next(x for x in result.stderr.splitlines() if x.startswith("HEAVY="))
    assert json.loads(line[len("HEAVY=") :]) == [], result.stderr
