"""Shared by the benchmarks: the median wall time of a command (run as `python bench/<name>.py`)."""

from __future__ import annotations

import statistics
import subprocess
import time


def median_wall(command: list[str], runs: int) -> float:
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # warm the disk cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)
