"""What `gemini-doctor proxy` adds: latency, throughput and memory, against the emulator on loopback.

Goals (issue 12): at most 2 ms added to the median latency, at least 90% of direct throughput at 50 concurrent
clients, memory bounded over a long run. Prints figures and ratios; asserts nothing.

    python bench/bench_proxy.py [--requests N] [--clients C]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PATH = "/v1beta/models/gemini-3.1-flash-image:generateContent"
BODY = {"contents": [{"parts": [{"text": "a cat"}]}], "generationConfig": {"responseModalities": ["IMAGE"]}}
HEADERS = {"x-goog-api-key": "bench-key"}


def latencies(base: str, count: int) -> list[float]:
    with httpx.Client(base_url=base, headers=HEADERS) as client:
        client.post(PATH, json=BODY)  # warm the connection
        found = []
        for _ in range(count):
            start = time.perf_counter()
            client.post(PATH, json=BODY).raise_for_status()
            found.append((time.perf_counter() - start) * 1000)
    return found


async def throughput(base: str, clients: int, each: int) -> float:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=HEADERS, limits=limits, timeout=60) as client:

        async def one() -> None:
            for _ in range(each):
                (await client.post(PATH, json=BODY)).raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(clients)))
        return clients * each / (time.perf_counter() - start)


def started(*args: str) -> tuple[subprocess.Popen[bytes], str]:
    """`gemini-doctor ARGS --port 0` in a process of its own; returns it and the URL its banner names. Its output
    goes to a file, never an unread pipe (a full pipe would stall the process being measured)."""
    log = tempfile.NamedTemporaryFile(prefix=f"bench-{args[0]}-", suffix=".log", delete=False)  # noqa: SIM115
    command = [sys.executable, "-m", "gemini_doctor", *args, "--port", "0"]
    process = subprocess.Popen(command, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for word in Path(log.name).read_text(errors="replace").split():
            if word.startswith("http://127.0.0.1:"):
                return process, word.rstrip(",)")
        time.sleep(0.05)
    raise RuntimeError(f"{args[0]} printed no URL")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    emulator, upstream = started("emulate")
    proxy, through_url = started("proxy", "--upstream", upstream, "--format", "json")
    try:
        direct = statistics.median(latencies(upstream, args.requests) + latencies(upstream, args.requests))
        through = statistics.median(latencies(through_url, args.requests) + latencies(through_url, args.requests))
        print(
            f"median latency: direct {direct:.2f} ms, through the proxy {through:.2f} ms, "
            f"added {through - direct:.2f} ms (goal at most 2 ms)"
        )
        each = max(1, args.requests // args.clients)
        rates: dict[str, list[float]] = {"direct": [], "proxy": []}
        for _ in range(3):  # interleaved, so that warming up and the machine's load fall on both alike
            rates["direct"].append(asyncio.run(throughput(upstream, args.clients, each)))
            rates["proxy"].append(asyncio.run(throughput(through_url, args.clients, each)))
        rate_direct, rate_proxy = statistics.median(rates["direct"]), statistics.median(rates["proxy"])
        print(
            f"throughput at {args.clients} clients: direct {rate_direct:.0f}/s, through the proxy "
            f"{rate_proxy:.0f}/s, ratio {rate_proxy / rate_direct:.2f} (goal at least 0.90)"
        )
        before = rss_mib(proxy.pid)
        for _ in range(6):
            asyncio.run(throughput(through_url, args.clients, each))
        after = rss_mib(proxy.pid)
        total = 2 * args.requests + 8 * args.clients * each + 2
        print(f"proxy memory after {args.requests * 2} and after {total} exchanges: {before:.0f} MiB, {after:.0f} MiB")
    finally:
        for process in (proxy, emulator):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
