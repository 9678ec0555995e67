"""Shared by the benchmarks: the median wall time of a command (run as `python bench/<name>.py`)."""

from __future__ import annotations

import os
import statistics
import subprocess
import time


def median_wall(command: list[str], runs: int, warm: bool = True, env: dict[str, str] | None = None) -> float:
    """The median wall time of `runs` runs (after one unmeasured run that warms the disk cache, unless `warm` is
    False); 0.0 when `runs` is 0."""
    if warm:
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    if not runs:
        return 0.0
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bytecode_environment() -> dict[str, str]:
    """This environment, bytecode written and reused as an installed package has it, whatever PYTHONDONTWRITEBYTECODE
    the machine sets (else every launch of the package from a checkout times compiling it from source)."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
