"""What `gemini_doctor.api.guard` adds to an image call that succeeds: the answer is diagnosed before it is returned.

google-genai against the emulator on loopback (`healthy`), the same calls with and without the guard, interleaved;
per image size, the median of each and what the guard adds (milliseconds and ratio). A real image call takes
seconds, so the added milliseconds are the figure that matters; the emulator's answer is local and fast. Also the
cost of `diagnose` on an API error. Prints figures; asserts nothing.

    python bench/bench_guard.py [--calls N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from google.genai import Client, errors, types

from gemini_doctor.api import diagnose, guard
from gemini_doctor.emulator.scenarios import find_scenario
from gemini_doctor.emulator.server import EmulatorServer

MODEL = "gemini-nano-banana-2.1"


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def compare(url: str, size: str, calls: int) -> tuple[float, float]:
    config = types.GenerateContentConfig(
        response_modalities=["IMAGE"], image_config=types.ImageConfig(aspect_ratio="16:9", image_size=size)
    )
    raw = Client(api_key="bench-key", http_options=types.HttpOptions(base_url=url))
    guarded = guard(Client(api_key="bench-key", http_options=types.HttpOptions(base_url=url)))
    plain, checked = [], []
    for client, found in [(raw, plain), (guarded, checked)] * (calls + 1):
        found.append(timed(lambda c=client: c.models.generate_content(model=MODEL, contents="a", config=config)))
    return statistics.median(plain[1:]), statistics.median(checked[1:])  # the first call of each warms up


def error_cost(calls: int) -> float:
    error: BaseException = AssertionError("the ipm-exceeded scenario answered")
    with EmulatorServer(find_scenario("ipm-exceeded")) as server:
        client = Client(api_key="bench-key", http_options=types.HttpOptions(base_url=server.url))
        try:
            client.models.generate_content(model=MODEL, contents="a", config={"response_modalities": ["IMAGE"]})
        except errors.APIError as exc:
            error = exc
    diagnose(error)  # warm: the catalog is read once per process
    return statistics.median(timed(lambda: diagnose(error)) for _ in range(calls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    with EmulatorServer(find_scenario("healthy")) as server:
        for size in ("1K", "2K", "4K"):
            plain, checked = compare(server.url, size, args.calls)
            print(
                f"image {size:>2} 16:9: unguarded {plain:6.1f} ms, guarded {checked:6.1f} ms: "
                f"+{checked - plain:5.1f} ms ({checked / plain:.2f}x)"
            )
    print(f"diagnose(APIError 429 ipm-exceeded): {error_cost(args.calls):.2f} ms median")


if __name__ == "__main__":
    main()
