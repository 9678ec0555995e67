"""Start-up cost of the commands that need no network, as ratios to a bare Typer app's `--help`.

Goal (issue 2): `gemini-doctor --help` and `explain` at most 1.5x the bare app. Prints medians and ratios;
asserts nothing (speed is shown here, never by timed assertions in tests).

    python bench/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from timing import median_wall

ROOT = Path(__file__).resolve().parent.parent
BARE_TYPER = """
import typer
app = typer.Typer()
@app.command()
def main(name: str = "x") -> None:
    \"\"\"A bare Typer app.\"\"\"
app()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        bare = Path(folder) / "bare.py"
        bare.write_text(BARE_TYPER)
        baseline = median_wall([sys.executable, str(bare), "--help"], runs)
        doctor = [sys.executable, "-m", "gemini_doctor"]
        fixture = ROOT / "fixtures" / "explain" / "billing-limit-zero.json"
        cases = {
            "gemini-doctor --help": [*doctor, "--help"],
            "gemini-doctor errors": [*doctor, "errors"],
            "gemini-doctor explain GD003": [*doctor, "explain", "GD003"],
            f"gemini-doctor explain {fixture.name}": [*doctor, "explain", str(fixture)],
        }
        print(f"bare Typer app --help: {baseline * 1000:7.1f} ms (median of {runs})")
        for label, command in cases.items():
            wall = median_wall(command, runs)
            verdict = "ok" if wall / baseline <= 1.5 else "over the 1.5x goal"
            print(f"{label:45s} {wall * 1000:7.1f} ms  ratio {wall / baseline:4.2f}x  ({verdict})")


if __name__ == "__main__":
    main()
