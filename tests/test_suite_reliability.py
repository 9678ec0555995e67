"""The suite itself (issue 9): an emulator that takes connections before it says it listens, tests isolated from
the caller's shell and folder, and no speed figure asserted anywhere (speed lives in bench/)."""

from __future__ import annotations

import ast
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from gemini_doctor.emulator.scenarios import find_scenario
from gemini_doctor.emulator.server import EmulatorServer
from tests.conftest import ROOT, EmulateProcess, isolated, timeout_bound

LAUNCHES = 12  # the old race lost 10 connections out of 10; a dozen in a row, none refused


def _get_models(url: httpx.URL) -> bytes:
    """Connect at once (a refused connection raises) and send one request; the raw answer."""
    with socket.create_connection((url.host, url.port), timeout=timeout_bound(1)) as conn:
        conn.sendall(b"GET /v1beta/models HTTP/1.1\r\nHost: x\r\nx-goog-api-key: k\r\nConnection: close\r\n\r\n")
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_emulate_accepts_a_connection_the_instant_it_prints_that_it_listens():
    for launch in range(LAUNCHES):
        with EmulateProcess("--port", "0") as emulate:
            line = emulate.read_until("listening on ")
            url = httpx.URL(line.split("listening on ", 1)[1].split()[0])
            answer = _get_models(url)  # before reading anything else the emulator prints
            assert answer.startswith(b"HTTP/1.1 200"), (launch, answer[:200])


def test_an_emulator_queues_connections_from_the_moment_it_is_made():
    """The socket listens as soon as it is bound: what `emulate` and `check --emulator` print is true at once."""
    server = EmulatorServer(find_scenario("healthy"))
    try:
        early = socket.create_connection((server.host, server.port), timeout=timeout_bound(1))  # nothing serves yet
        early.sendall(b"GET /v1beta/models HTTP/1.1\r\nHost: x\r\nx-goog-api-key: k\r\nConnection: close\r\n\r\n")
        server.start()
        early.settimeout(timeout_bound(1))
        assert early.recv(65536).startswith(b"HTTP/1.1 200")  # the queued connection was served
        early.close()
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------------ isolation
def test_no_caller_setting_reaches_a_test():
    leaked = sorted(name for name in os.environ if isolated(name))
    assert leaked == [], leaked
    assert isolated("GEMINI_API_KEY") and isolated("google_api_key") and isolated("https_proxy")
    assert isolated("GEMINI_DOCTOR_GCP_ENDPOINT") and isolated("GITHUB_STEP_SUMMARY") and isolated("SSL_CERT_FILE")
    assert isolated("GOOGLE_APPLICATION_CREDENTIALS") and isolated("CLOUDSDK_CONFIG") and isolated("CI")


def test_each_test_runs_in_a_fresh_empty_folder_with_its_own_home():
    cwd, home = Path.cwd(), Path(os.environ["HOME"])
    assert list(cwd.iterdir()) == [] and list(home.iterdir()) == []
    assert ROOT not in (cwd, *cwd.parents)  # no pyproject.toml or gemini-doctor.toml of the repo's is found
    assert not any((folder / "pyproject.toml").exists() for folder in (cwd, *cwd.parents))


def test_subprocesses_get_the_cleaned_environment_and_this_checkout(monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "set-by-this-test")  # a test that needs a variable sets it itself
    script = "import os, gemini_doctor; print(os.environ.get('GEMINI_API_KEY')); print(gemini_doctor.__file__)"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout_bound(10), check=True
    )
    key, module = result.stdout.splitlines()
    assert key == "set-by-this-test"
    assert Path(module).resolve().is_relative_to(ROOT), module


# ------------------------------------------------------------------------------------------------ no speed figures
TIMING_WORDS = ("wall", "elapsed", "took", "duration", "seconds", "total_time")


def _is_number(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float) and not isinstance(node.value, bool)
    if isinstance(node, ast.BinOp):
        return _is_number(node.left) and _is_number(node.right)
    return False


def _reads_a_clock(node: ast.expr) -> bool:
    text = ast.unparse(node)
    return any(clock in text for clock in ("monotonic(", "perf_counter(", "time.time(")) or any(
        word in name.id.lower() for name in ast.walk(node) if isinstance(name, ast.Name) for word in TIMING_WORDS
    )


def _bounded_from_above(compare: ast.Compare) -> list[tuple[ast.expr, ast.expr]]:
    """(what is bounded, its upper bound) for each `<`, `<=`, `>`, `>=` in a comparison chain."""
    sides = [compare.left, *compare.comparators]
    pairs = []
    for op, left, right in zip(compare.ops, sides, sides[1:], strict=False):
        if isinstance(op, ast.Lt | ast.LtE):
            pairs.append((left, right))
        elif isinstance(op, ast.Gt | ast.GtE):
            pairs.append((right, left))
    return pairs


def wall_clock_asserts(source: str) -> list[str]:
    """`assert <time> < <number>`: a speed figure; a bound must come from the configured timeout (timeout_bound).
    Lower bounds (`elapsed >= latency`) are allowed: a delay cannot make them fail."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Assert):
            continue
        for compare in (n for n in ast.walk(node.test) if isinstance(n, ast.Compare)):
            if any(_reads_a_clock(measured) and _is_number(bound) for measured, bound in _bounded_from_above(compare)):
                found.append(f"line {node.lineno}: {ast.unparse(node.test)}")
    return found


def test_the_detector_finds_speed_figures_and_allows_timeout_bounds():
    assert wall_clock_asserts("assert wall < 1 * 3 + 3, wall\nassert time.monotonic() - started < 3\n")
    assert wall_clock_asserts("assert 2.0 > total_time\n")
    assert not wall_clock_asserts("assert wall < timeout_bound(2)\nassert elapsed >= 0.5\nassert n < 3\n")


def test_no_test_asserts_a_wall_clock_figure():
    offenders = {
        path.name: found
        for path in sorted((ROOT / "tests").glob("*.py"))
        if (found := wall_clock_asserts(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, offenders
