"""The CLI's own surface: version, module entry, catalog listing, rule pages, formats."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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


# ------------------------------------------------------------- a CLI that reads as words (issue 15, point 6, 7)


@pytest.mark.parametrize("command", ["check", "explain", "errors", "emulate", "proxy"])
def test_help_metavars_read_as_words(run_cli, command):
    import re

    _code, out, _ = run_cli(command, "--help")
    assert not re.search(r"<(bool|str|list\[str\]|float range|int range)>", out), out
    if command == "check":
        assert re.search(r"--only\s+CHECK", out) and re.search(r"--generate\s{2,}Make ONE", out)


def test_shell_completion_is_offered(run_cli):
    _code, out, _ = run_cli("--help")
    assert "--install-completion" in out


@pytest.mark.parametrize(
    "args,suggestion",
    [
        (["explain", "ghost429"], "did you mean ghost-429?"),
        (["explain", "GD0003"], "did you mean GD003?"),
        (["explain", "gd999"], "unknown error code 'gd999'"),
        (["check", "--only", "modle"], "did you mean model?"),
        (["check", "--emulator", "ghost429"], "did you mean ghost-429?"),
        (["explain", "--example", "billing-limit-zer"], "did you mean billing-limit-zero?"),
    ],
)
def test_a_mistyped_name_gets_the_closest_one(run_cli, args, suggestion):
    code, _, err = run_cli(*args)
    assert code == 2 and suggestion in err and "\n" not in err.rstrip()


def test_a_shipped_example_is_explained_from_any_folder(tmp_path):
    code, out, err = run_installed("explain", "--example", "billing-limit-zero", "--format", "json", cwd=tmp_path)
    document = json.loads(out)
    assert document["diagnosis"][0]["slug"] == "billing-limit-zero" and code == 1, err
    assert document["input"]["source"] == "example billing-limit-zero"


def test_explain_dash_at_a_terminal_prompts_for_the_paste(monkeypatch):
    import io

    from gemini_doctor.diagnosis import Context
    from gemini_doctor.explain import PASTE_PROMPT, explain_command

    body = b'{"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}'
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(body)))
    said: list[str] = []
    document = explain_command("-", None, Context(), True, said.append)
    assert said == [PASTE_PROMPT] and document["diagnosis"]
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(body)))
    explain_command("-", None, Context(), False, said.append)  # piped: no prompt
    assert said == [PASTE_PROMPT]


def test_force_color_colours_piped_output_and_no_color_wins(tmp_path):
    _code, coloured, _ = run_installed("explain", "GD003", env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    assert "\x1b[" in coloured
    _code, plain, _ = run_installed("explain", "GD003", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in plain


def test_piped_output_is_not_hard_wrapped_and_urls_stay_whole(run_cli):
    _code, out, _ = run_cli("explain", "GD003")
    docs = next(line for line in out.splitlines() if line.startswith("Docs:"))
    assert docs == "Docs: https://ai.google.dev/gemini-api/docs/billing"
    assert any(len(line) > 120 for line in out.splitlines())  # a paragraph is one line, for grep


def test_at_80_columns_slugs_are_whole_and_wrapped_lines_hang_under_their_bullet():
    from gemini_doctor.explain import catalog_document, rule_document
    from gemini_doctor.knowledge import error_types
    from gemini_doctor.report import render

    table = render(catalog_document(), "rich", width=80)
    for entry in error_types():
        assert any(entry.slug in line.split() for line in table.splitlines()), entry.slug
    assert max(len(line) for line in table.splitlines()) <= 80
    page = render(rule_document("GD003"), "rich", width=80).splitlines()
    first = next(i for i, line in enumerate(page) if line.startswith("  1. "))
    assert page[first + 1].startswith("     ") and not page[first + 1].startswith("  2.")
    assert "  Docs: https://ai.google.dev/gemini-api/docs/billing" in "\n  ".join(page)


def test_the_plain_coercion_gives_what_typers_adapter_gives():
    """Start-up: texts and choices skip building Typer's pydantic adapter; for every value the result (or the
    refusal) must be the adapter's own."""
    typer_coercion = pytest.importorskip("typer._coercion")
    import typer.main
    from typer._click import Context
    from typer._click.exceptions import BadParameter

    from gemini_doctor.cli import _PlainCoercion, app

    group = typer.main.get_command(app)
    values = ["rich", "json", "JSON", "Markdown", "enabled", "bogus", "", "x y", "GD003", "\udcff", "é", "12"]
    values += [True, False, None, "1.5", "-3", "+7", "1e3", ".5", "5.", "1_000", "nan", "inf", " 2 ", "0x10", "/tmp/x"]
    values += ["1\x00", "0", "007", "1e", "--", "٣", "0.05", "0.1", "600", "601", "1e9", 2, 2.5, 0, -1.0]
    values += [(), ("a", "b"), ["billing"], ("x", 1)]
    compared = 0
    for name in ("explain", "errors", "check", "lint", "emulate"):
        command = group.commands[name]  # type: ignore[attr-defined]
        ctx = Context(command)
        for param in command.get_params(ctx):
            if not isinstance(getattr(param, "_runtime_param", None), _PlainCoercion):
                continue
            adapter = typer_coercion.build_runtime_param(param.type_descriptor)
            for value in values:
                outcomes = []
                for coercion in (param._runtime_param, adapter):
                    try:
                        outcomes.append(coercion._coerce_value(value, param=param, ctx=ctx))
                    except BadParameter as refused:
                        outcomes.append(("refused", refused.format_message()))
                assert outcomes[0] == outcomes[1] and type(outcomes[0]) is type(outcomes[1]), (name, param.name, value)
                compared += 1
    assert compared > 100
