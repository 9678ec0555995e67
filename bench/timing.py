"""Shared by the benchmarks: the median wall time of a command (run as `python bench/<name>.py`)."""

from __future__ import annotations

import os
import statistics
import subprocess
import time


def wall(command: list[str], env: dict[str, str] | None = None) -> float:
    """The wall time of one run of `command`."""
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def median_wall(command: list[str], runs: int) -> float:
    wall(command)  # warm the disk cache
    return statistics.median(wall(command) for _ in range(runs))


def bytecode_environment() -> dict[str, str]:
    """This environment, bytecode written and reused as an installed package has it, whatever PYTHONDONTWRITEBYTECODE
    the machine sets (else every launch of the package from a checkout times compiling it from source)."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
