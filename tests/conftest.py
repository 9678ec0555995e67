"""Shared helpers for the tests: run the CLI in-process or as the installed script; every test isolated.

Every test runs in a fresh empty folder with a fresh HOME and none of the caller's Gemini, Google Cloud, GitHub,
CI, proxy or certificate settings: a key in the developer's shell, a pyproject.toml in the folder pytest was started
from or an ADC file in ~/.config cannot change a result. A test that needs a variable sets it with monkeypatch (or
passes it to `run_installed`); subprocesses inherit the cleaned environment.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

# Variables the doctor, google-auth, httpx, requests, rich or a CI runner read: none of the caller's may leak in.
ISOLATED_PREFIXES = ("GEMINI_", "GOOGLE_", "GITHUB_", "RUNNER_", "CLOUDSDK_", "GCLOUD_", "GCE_", "ACTIONS_")
ISOLATED_NAMES = frozenset(
    {
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "CI",
        "GITLAB_CI",
        "BUILDKITE",
        "TF_BUILD",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "NO_GCE_CHECK",
        "NO_COLOR",
        "FORCE_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "COLUMNS",
        "LINES",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "PRE_COMMIT_HOME",
    }
)


# Bytecode is written and reused (the checkout's __pycache__, ignored by git), whatever PYTHONDONTWRITEBYTECODE the
# caller's machine sets: the suite launches a few hundred doctor processes, and without .pyc files each one compiles
# the whole package from source again (measured: the suite's CPU time, see the README's benchmarks).
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (the default in pyproject.toml): a worker per CPU and one more, as many tests spend their time
    waiting on a timeout or a slow loopback server rather than on the CPU (measured on 2 cores: 184 s with 3
    workers, 210 s with 2)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    return cpus + 1


def isolated(name: str) -> bool:
    upper = name.upper()
    return upper.startswith(ISOLATED_PREFIXES) or upper in ISOLATED_NAMES


def _clean_environment(patch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if isolated(name)]:
        patch.delenv(name)
    # Subprocesses import this checkout (as `python -m pytest` here does), not whatever is installed.
    inherited = os.environ.get("PYTHONPATH")
    patch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), *([inherited] if inherited else [])]))


@pytest.fixture(scope="session", autouse=True)
def _session_isolation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Module- and session-scoped fixtures see the cleaned environment too."""
    with pytest.MonkeyPatch.context() as patch:
        _clean_environment(patch)
        patch.setenv("HOME", str(tmp_path_factory.mktemp("session-home")))
        patch.chdir(tmp_path_factory.mktemp("session-cwd"))
        yield


@pytest.fixture(autouse=True)
def _isolation(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A fresh empty working folder and HOME per test, and the environment cleaned again (a test may have set a
    variable without monkeypatch)."""
    _clean_environment(monkeypatch)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


STARTUP_BOUND_S = 60  # a Python process starting on a loaded 2-core machine: a hang, not slowness, fails it


def timeout_bound(timeout: float) -> float:
    """The most a run bounded by `timeout` may take on a loaded machine: a wide margin, never a speed figure."""
    return timeout * 4 + 10


@pytest.fixture
def run_cli():
    """Run the Typer app in-process; returns (exit_code, stdout, stderr)."""
    from gemini_doctor.cli import app

    def run(*args: str, input: str | bytes | None = None):
        runner = CliRunner()
        result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run


@pytest.fixture
def run_main(capfd: pytest.CaptureFixture[str]):
    """The entry point's own `main()` in this process, as the installed script runs it (its one-line errors, its exit
    codes), without an interpreter to start: `run_main(*args, env=..., cwd=..., input=...)` -> (exit code, stdout,
    stderr). What reaches the file descriptors 1 and 2 directly (not through sys.stdout/sys.stderr) is added to
    stdout and stderr, so nothing the process would print is missed. `env` and `cwd` hold for that run only."""
    from gemini_doctor.cli import main

    def run(
        *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, input: bytes | None = None
    ) -> tuple[int, str, str]:
        capfd.readouterr()  # what came before this run is not its output
        with pytest.MonkeyPatch.context() as patch:
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            if cwd is not None:
                patch.chdir(cwd)
            patch.setattr(sys, "argv", ["gemini-doctor", *args])
            with CliRunner().isolation(input=input) as (stdout, stderr, _mixed):
                code = _exit_code(main)
                sys.stdout.flush()
                sys.stderr.flush()
                out, err = stdout.getvalue().decode(), stderr.getvalue().decode()
        stray = capfd.readouterr()
        return code, out + stray.out, err + stray.err

    return run


def _exit_code(main: Callable[[], None]) -> int:
    """What the interpreter would exit with after `main()` (which ends in sys.exit)."""
    try:
        main()
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        sys.stderr.write(f"{done.code}\n")
        return 1
    return 0


@functools.cache
def loopback_tls() -> ssl.SSLContext:
    """One TLS context for the tests' own clients of a loopback http:// server (the emulator): it is never used on
    plain HTTP, but httpx and google-genai build one per client unless given one, reading the CA bundle each time
    (about 50 ms of CPU per client on this machine, a few hundred clients in the suite)."""
    return ssl.create_default_context()


def doctor_command() -> list[str]:
    """The console script of this interpreter's environment (what a user runs), else `python -m gemini_doctor`.

    The script beside sys.executable first: a version manager's shim on PATH (pyenv's is a bash script) would add a
    tenth of a second to every launch and could pick another interpreter."""
    beside = Path(sys.executable).with_name("gemini-doctor")
    script = str(beside) if beside.is_file() else shutil.which("gemini-doctor")
    return [script] if script else [sys.executable, "-m", "gemini_doctor"]


def doctor_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The (cleaned) environment plus `env`; a PYTHONPATH in `env` goes before the inherited one."""
    merged = {**os.environ, **(env or {})}
    if env and "PYTHONPATH" in env and os.environ.get("PYTHONPATH"):
        merged["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], os.environ["PYTHONPATH"]])
    return merged


def run_installed(
    *args: str, input: bytes | None = None, env: dict | None = None, timeout: float = 60, cwd: Path | None = None
):
    result = subprocess.run(
        [*doctor_command(), *args],
        input=input,
        capture_output=True,
        timeout=timeout,
        env=doctor_env(env),
        cwd=cwd,
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


class EmulateProcess:
    """`gemini-doctor emulate ARGS` as a subprocess, its stdout read line by line as it comes."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [*doctor_command(), "emulate", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=doctor_env({"PYTHONUNBUFFERED": "1"}),
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def read_until(self, marker: str, timeout: float = STARTUP_BOUND_S) -> str:
        """Lines until one holds `marker`; returns that line, the moment it is read."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {marker!r} line within {timeout} s: {self.seen!r}") from None
            assert line is not None, f"the emulator exited: {self.seen!r} {self.stderr()}"
            self.seen.append(line)
            if marker in line:
                return line

    def stderr(self) -> str:
        if self.process.poll() is None:
            return ""
        assert self.process.stderr is not None
        return self.process.stderr.read()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=STARTUP_BOUND_S)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> EmulateProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
