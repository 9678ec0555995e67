"""Shared helpers for the tests: run the CLI in-process or as the installed script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture
def run_cli():
    """Run the Typer app in-process; returns (exit_code, stdout, stderr)."""
    from gemini_doctor.cli import app

    def run(*args: str, input: str | bytes | None = None):
        runner = CliRunner()
        result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run


def doctor_command() -> list[str]:
    """The installed console script (what a user runs), else `python -m gemini_doctor`."""
    script = shutil.which("gemini-doctor")
    return [script] if script else [sys.executable, "-m", "gemini_doctor"]


def run_installed(*args: str, input: bytes | None = None, env: dict | None = None, timeout: float = 60):
    result = subprocess.run(
        [*doctor_command(), *args],
        input=input,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def parse_json(text: str) -> dict:
    return json.loads(text)


@pytest.fixture
def emulator():
    """Start the emulator in-process on a free loopback port: `emulator("healthy", latency_ms=0)`."""
    from gemini_doctor.emulator.scenarios import find_scenario
    from gemini_doctor.emulator.server import EmulatorServer

    started: list[EmulatorServer] = []

    def start(slug: str = "healthy", latency_ms: int = 0) -> EmulatorServer:
        scenario = find_scenario(slug)
        assert scenario is not None, f"no scenario {slug!r}"
        server = EmulatorServer(scenario, latency_ms=latency_ms).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
