"""Start-up stays light: commands that need no network import no google-cloud, google-genai, grpc or httpx."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import FIXTURES

HEAVY = ("google.cloud", "google.genai", "google.api_core", "grpc", "httpx", "starlette", "uvicorn", "PIL")

PROBE = f"""
import json, sys
sys.argv = ["gemini-doctor", *json.loads(sys.argv[1])]
from gemini_doctor.cli import main
try:
    main()
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {{h.split(".")[0] for h in {HEAVY!r}}}
               and any(m == h or m.startswith(h + ".") for h in {HEAVY!r}))
sys.stderr.write("HEAVY=" + json.dumps(heavy) + "\\n")
sys.stderr.write("MODULES=" + json.dumps(sorted(sys.modules)) + "\\n")
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["errors"],
        ["errors", "--format", "json"],
        ["explain", "GD003"],
        ["explain", str(FIXTURES / "explain" / "billing-limit-zero.json")],
        ["explain", str(FIXTURES / "explain" / "billing-limit-zero.json"), "--format", "markdown"],
    ],
    ids=lambda a: " ".join(a)[:40],
)
def test_no_heavy_module_is_imported(args):
    assert _probe(args, "HEAVY") == []


def _probe(args: list[str], what: str) -> list[str]:
    """Run the CLI in a fresh interpreter, its output piped; the modules it loaded (`MODULES`) or `HEAVY` ones."""
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, timeout=60)
    line = next((x for x in result.stderr.splitlines() if x.startswith(what + "=")), None)
    assert line is not None, result.stderr
    return json.loads(line[len(what) + 1 :])


# Start-up (bench/bench_startup.py): Typer builds a pydantic TypeAdapter for a value only when the CLI's plain
# coercion of texts and choices declines it, and piped `errors` lays its table out without rich.console/rich.table.
@pytest.mark.parametrize(
    ("args", "unneeded"),
    [
        (["errors"], ("pydantic", "rich.console", "rich.table")),
        (["explain", "GD003"], ("pydantic",)),
        (["explain", str(FIXTURES / "explain" / "billing-limit-zero.json"), "--billing", "enabled"], ("pydantic",)),
        (["explain", "GD003", "--format", "markdown", "--model", "gemini-2.5-flash-image"], ("pydantic", "rich")),
    ],
    ids=lambda a: " ".join(a)[:40],
)
def test_commands_that_start_often_import_no_pydantic_and_errors_no_rich_table(args, unneeded):
    modules = _probe(args, "MODULES")
    assert "gemini_doctor.report" in modules  # the command ran as far as rendering
    assert [m for m in modules if m.split(".")[0] in unneeded or m in unneeded] == []


def test_a_value_the_plain_coercion_declines_gets_typers_own_message():
    result = subprocess.run(
        [sys.executable, "-m", "gemini_doctor", "explain", "GD003", "--format", "bogus"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Invalid value for '--format' / '-f': Value error, 'bogus' is not one of 'rich', 'json', 'markdown'." in (
        result.stderr
    )


def modules_after(*args: str) -> set[str]:
    """The modules a `gemini-doctor` process has imported when it is done."""
    return set(_probe(list(args), "MODULES"))


def test_a_run_without_credentials_imports_no_google_cloud_client():
    """The clients are imported for a call about to be made: with no Application Default Credentials (a fresh HOME,
    off Google Cloud) none is made, so none is imported; google-auth is, to look for the credentials."""
    loaded = modules_after("check", "--project", "p", "--only", "billing", "--gcp-endpoint", "https://cloud.invalid")
    assert "google.auth" in loaded
    assert not [m for m in loaded if m.startswith(("google.cloud", "google.api_core", "grpc"))]


def test_a_run_that_calls_google_cloud_leaves_out_what_it_does_not_use():
    """Against the emulator every check runs (the three clients imported), yet neither aiohttp (google-auth's
    asyncio session), trio and h2 (httpcore's trio and HTTP/2 support), rich (httpx's command line) nor pydantic
    (Typer's adapter for option values) is."""
    loaded = modules_after("check", "--emulator", "healthy", "--format", "json")
    assert {"google.cloud.billing_v1", "google.cloud.service_usage_v1", "google.cloud.cloudquotas_v1"} <= loaded
    assert not {"aiohttp", "trio", "h2", "rich", "pydantic"} & loaded
