"""`check --generate` against an emulator that delays every answer: concurrency shown as a ratio.

Goal (issue 4): with every answer delayed by D = 1 s, the whole check takes at most 2.5 x D; run one after another,
its requests would take (number of requests) x D. The floor is 2 x D plus start-up: every free probe goes out at
once, but the one paid image waits until the model and endpoint checks have passed. Prints the ratio; asserts nothing.

Also printed, as medians: when the first request reached the emulator (start-up: interpreter, imports, settings,
check discovery), when the last one did, and how long the process took after the last answer (rendering, exit).
The child runs with bytecode written and reused, as an installed package has it (pip compiles on install), whatever
PYTHONDONTWRITEBYTECODE the machine sets.

    python bench/bench_check.py [--delay-ms 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from timing import bytecode_environment

from gemini_doctor.emulator.scenarios import find_scenario
from gemini_doctor.emulator.server import EmulatorServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    delay = options.delay_ms / 1000
    with EmulatorServer(find_scenario("healthy"), latency_ms=options.delay_ms) as server:
        command = [
            sys.executable,
            "-m",
            "gemini_doctor",
            "check",
            "--base-url",
            server.url,
            "--gcp-endpoint",
            server.url,
            "--project",
            "bench",
            "--api-key",
            "bench-key",
            "--generate",
            "--format",
            "json",
        ]
        environment = bytecode_environment()
        walls, firsts, lasts = [], [], []
        for _ in range(options.runs):
            before = len(server.recorder.requests)
            start = time.monotonic()
            result = subprocess.run(command, capture_output=True, text=True, env=environment)
            walls.append(time.monotonic() - start)
            arrived = [entry.at - start for entry in server.recorder.requests[before:]]
            sent = len(arrived)
            if result.returncode != 0 or not arrived:
                print(result.stdout[-2000:], result.stderr[-2000:])
                raise SystemExit("the check did not pass against the healthy emulator")
            firsts.append(min(arrived))
            lasts.append(max(arrived))
    wall = statistics.median(walls)
    first, last = statistics.median(firsts), statistics.median(lasts)
    print(
        f"first request at {first:.2f} s, last at {last:.2f} s; after the last answer: "
        f"{statistics.median(w - at for w, at in zip(walls, lasts, strict=True)) - delay:.2f} s (medians)"
    )
    if not delay:
        print(f"no delay: check --generate takes {wall:.2f} s (start-up, imports, rendering)")
        return
    print(f"every answer delayed by {delay:.2f} s; {sent} requests per check (Gemini + GCP)")
    print(
        f"check --generate: median {wall:.2f} s of {options.runs} runs -> {wall / delay:.2f}x the delay "
        f"(goal <= 2.5x; one after another: {sent:.0f}x)"
    )
    print("start-up and rendering without network, for reference: run with --delay-ms 0")


if __name__ == "__main__":
    main()
