"""Start-up cost of the commands that need no network, as ratios to a bare Typer app's `--help`.

Goal (issue 2): `gemini-doctor --help`, `errors` and `explain` at most 1.5x the bare app. Prints medians and ratios;
asserts nothing (speed is shown here, never by timed assertions in tests).

    python bench/bench_startup.py [--runs N]

Fair to both sides and to a busy machine:
- the package measured is this checkout's (the commands run in it, so `-m gemini_doctor` finds it first);
- the package runs from bytecode, as an installed wheel does (pip compiles it; Typer, Click and Rich already have
  theirs): the commands run with PYTHONDONTWRITEBYTECODE unset, and a warm-up run writes the .pyc files;
- rounds are interleaved (each round runs the bare app and every command once, in turn), so a burst of load from
  elsewhere falls on all of them alike rather than on whichever command happened to be timed then;
- each ratio is the median of the per-round ratios (the bare app's run of the same round as its denominator);
- beside wall time (the goal's measure), CPU time (user + system, from the children's rusage): on a machine others
  load, a process waits for a core and its wall time grows, but the work it does does not.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import bytecode_environment

ROOT = Path(__file__).resolve().parent.parent
BARE_TYPER = """
import typer
app = typer.Typer()
@app.command()
def main(name: str = "x") -> None:
    \"\"\"A bare Typer app.\"\"\"
app()
"""
BARE = "bare Typer app --help"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run."""
    cpu, start = _cpu(), time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT, check=False)
    return time.perf_counter() - start, _cpu() - cpu


def _rounds(commands: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) per run of each command, the commands taking turns within each round (a warm-up round dropped)."""
    times: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
    for round_number in range(runs + 1):
        for label, command in commands.items():
            timed = _timed(command, env)
            if round_number:
                times[label].append(timed)
    return times


def _ratio(runs: list[tuple[float, float]], baseline: list[tuple[float, float]], which: int) -> float:
    return statistics.median(run[which] / base[which] for run, base in zip(runs, baseline, strict=True))


def _ms(runs: list[tuple[float, float]], which: int) -> float:
    return statistics.median(run[which] for run in runs) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    env = bytecode_environment()
    with tempfile.TemporaryDirectory() as folder:
        bare = Path(folder) / "bare.py"
        bare.write_text(BARE_TYPER)
        doctor = [sys.executable, "-m", "gemini_doctor"]
        fixture = ROOT / "fixtures" / "explain" / "billing-limit-zero.json"
        commands = {
            BARE: [sys.executable, str(bare), "--help"],
            "gemini-doctor --help": [*doctor, "--help"],
            "gemini-doctor errors": [*doctor, "errors"],
            "gemini-doctor explain GD003": [*doctor, "explain", "GD003"],
            f"gemini-doctor explain {fixture.name}": [*doctor, "explain", str(fixture)],
        }
        times = _rounds(commands, runs, env)
    baseline = times.pop(BARE)
    print(f"{BARE}: {_ms(baseline, 0):7.1f} ms wall, {_ms(baseline, 1):7.1f} ms CPU (medians of {runs} rounds)")
    for label, runs_of in times.items():
        wall, cpu = _ratio(runs_of, baseline, 0), _ratio(runs_of, baseline, 1)
        verdict = "ok" if wall <= 1.5 else "over the 1.5x goal"
        print(
            f"{label:45s} {_ms(runs_of, 0):7.1f} ms  ratio {wall:4.2f}x  ({verdict});"
            f"  CPU {_ms(runs_of, 1):6.1f} ms, {cpu:4.2f}x"
        )


if __name__ == "__main__":
    main()
