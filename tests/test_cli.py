"""The CLI's own surface: version, module entry, catalog listing, rule pages, formats."""

from __future__ import annotations

import json
import subprocess
import sys

from gemini_doctor import __version__
from gemini_doctor.knowledge import error_types
from tests.conftest import run_installed


def test_version_from_script_and_module():
    code, out, _ = run_installed("--version")
    assert code == 0 and out.strip() == f"gemini-doctor {__version__}"
    result = subprocess.run([sys.executable, "-m", "gemini_doctor", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and __version__ in result.stdout


def test_help_names_the_exit_codes(run_cli):
    code, out, _ = run_cli("--help")
    assert code == 0 and "Exit codes" in out and "explain" in out and "errors" in out
    listed = [line.split()[1] for line in out.splitlines() if line.startswith("│ ") and len(line.split()) > 2]
    commands = [name for name in listed if name in ("check", "explain", "errors", "lint", "emulate")]
    assert commands == ["check", "explain", "errors", "lint", "emulate"], out


def test_errors_json_lists_the_whole_catalog(run_cli):
    code, out, _ = run_cli("errors", "--format", "json")
    document = json.loads(out)
    assert code == 0 and document["schema"] == "gemini-doctor/v1"
    assert [e["code"] for e in document["errors"]] == [e.code for e in error_types()]


def test_errors_rich_and_markdown_show_every_code(run_cli):
    for fmt in ("rich", "markdown"):
        code, out, _ = run_cli("errors", "--format", fmt)
        assert code == 0
        for entry in error_types():
            assert entry.code in out and entry.slug in out


def test_explain_code_or_slug_prints_the_page(run_cli):
    by_code = run_cli("explain", "GD003", "--format", "json")
    by_slug = run_cli("explain", "ghost-429", "--format", "json")
    assert by_code[0] == by_slug[0] == 0
    page = json.loads(by_code[1])["entry"]
    assert page == json.loads(by_slug[1])["entry"]
    assert page["slug"] == "ghost-429" and page["established"] == "community-reported" and page["source"]
    code, out, _ = run_cli("explain", "gd003", "--format", "markdown")
    assert code == 0 and "ghost-429" in out and "Fix" in out


def test_explain_reads_stdin_and_quoted_text(run_cli):
    body = '{"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}'
    code, out, _ = run_cli("explain", "-", "--format", "json", input=body)
    assert code == 1 and json.loads(out)["diagnosis"][0]["slug"] == "model-overloaded"
    code, out, _ = run_cli(
        "explain", "500 INTERNAL. {'error': {'code': 500, 'message': 'x', 'status': 'INTERNAL'}}", "--format", "json"
    )
    assert code == 1 and json.loads(out)["diagnosis"][0]["slug"] == "server-error"


def test_explain_writes_output_atomically(run_cli, tmp_path):
    body = tmp_path / "e.json"
    body.write_text('{"error": {"code": 504, "message": "Deadline expired", "status": "DEADLINE_EXCEEDED"}}')
    target = tmp_path / "report.md"
    code, out, _ = run_cli("explain", str(body), "--format", "markdown", "--output", str(target))
    assert code == 1 and out == ""
    assert "deadline-exceeded" in target.read_text()
    assert {p.name for p in tmp_path.iterdir()} == {"e.json", "report.md"}  # no temp file left behind


def test_text_only_answer_to_a_request_without_image_is_named(run_cli, tmp_path):
    body = tmp_path / "ok.json"
    body.write_text('{"candidates": [{"content": {"parts": [{"text": "fine"}]}, "finishReason": "STOP"}]}')
    request = tmp_path / "req.json"
    request.write_text('{"generationConfig": {"responseModalities": ["TEXT"]}}')
    code, out, _ = run_cli("explain", str(body), "--request", str(request), "--format", "json")
    first = json.loads(out)["diagnosis"][0]
    assert first["slug"] == "wrong-response-modalities" and code == 1
