"""What `gemini-doctor proxy` adds: latency, throughput and memory, against the emulator on loopback.

Goals (issue 12): at most 2 ms added to the median latency, at least 90% of direct throughput at 50 concurrent
clients, memory bounded over a long run. Prints figures and ratios beside the goals; asserts nothing.

Three cases. The headline: the image route (generateContent: the emulator makes a picture) and countTokens (cheap
upstream, so the proxy's own cost shows) against an emulator that answers at once: at 50 clients every process is
CPU-bound on this machine, so the throughput ratio is the share of the CPU the proxy takes (the CPU per exchange of
proxy and emulator is printed too). Then the image route against an emulator that answers after --slow-ms, as a
real upstream does (an image takes Google seconds): there the proxy should not limit throughput at all.

Fairness: direct and proxied are driven by the same client (a small raw HTTP/1.1 one over kept-alive connections,
which costs less CPU than the processes it measures) at the same concurrency, for the same count of requests
(--per-client each, 2000 in all by default). Every connection is opened and warmed by one request before the clock
starts, so neither side pays for connecting in the timed part (nor the proxy for its upstream connections).
Latency is measured request by request, direct and proxied in turn; throughput direct and proxied back to back, in
alternating order: a shared machine's load falls on both alike. Each figure is the median of the rounds, their
spread (min..max) beside it. At the end, the proxy's own report says how many exchanges it recorded undiagnosed
(more were waiting for diagnosis than it keeps): the proxied throughput is only fair if that is none.

    python bench/bench_proxy.py [--rounds R] [--requests N] [--per-client K] [--clients C] [--long M] [--slow-ms MS]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODEL = "gemini-3.1-flash-image"
ROUTES = {
    "image": (
        f"/v1beta/models/{MODEL}:generateContent",
        {"contents": [{"parts": [{"text": "a cat"}]}], "generationConfig": {"responseModalities": ["IMAGE"]}},
    ),
    "countTokens": (f"/v1beta/models/{MODEL}:countTokens", {"contents": [{"parts": [{"text": "a cat"}]}]}),
}


class Client:
    """One kept-alive connection sending one prepared request over and over; answers framed by Content-Length."""

    def __init__(self, base: str, path: str, body: dict):
        self.host, port = base.removeprefix("http://").split(":")
        self.port = int(port)
        data = json.dumps(body).encode()
        self.request = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nx-goog-api-key: bench-key\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode() + data

    async def __aenter__(self) -> Client:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.writer.close()

    async def send(self) -> None:
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"answer {head[:40]!r}")
        length = next(
            int(line.split(b":")[1]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")
        )
        await self.reader.readexactly(length)


async def latencies(direct: str, proxied: str, route: str, count: int) -> tuple[list[float], list[float]]:
    """Sequential requests, direct and proxied in turn (each pair in alternating order), so that a moment of load
    on the machine falls on both alike: (direct ms, proxied ms)."""
    found: tuple[list[float], list[float]] = ([], [])
    async with Client(direct, *ROUTES[route]) as one, Client(proxied, *ROUTES[route]) as other:
        await one.send()  # warm the connections
        await other.send()
        for number in range(count):
            pairs = ((one, found[0]), (other, found[1]))
            for client, times in pairs if number % 2 == 0 else pairs[::-1]:
                start = time.perf_counter()
                await client.send()
                times.append((time.perf_counter() - start) * 1000)
    return found


async def throughput(base: str, route: str, clients: int, each: int) -> float:
    """Requests per second over `clients` kept-alive connections sending `each` requests apiece, the clock started
    once every connection is open and has carried one request."""
    async with contextlib.AsyncExitStack() as stack:
        opened = [await stack.enter_async_context(Client(base, *ROUTES[route])) for _ in range(clients)]
        await asyncio.gather(*(client.send() for client in opened))

        async def one(client: Client) -> None:
            for _ in range(each):
                await client.send()

        start = time.perf_counter()
        await asyncio.gather(*(one(client) for client in opened))
        return clients * each / (time.perf_counter() - start)


def started(*args: str) -> tuple[subprocess.Popen[bytes], str]:
    """`gemini-doctor ARGS --port 0` in a process of its own; returns it and the URL its banner names. Its output
    goes to files, never an unread pipe (a full pipe would stall the process being measured); the file of its
    stdout (a proxy's report, at the end) is kept in OUTPUTS."""
    log = tempfile.NamedTemporaryFile(prefix=f"bench-{args[0]}-", suffix=".log", delete=False)  # noqa: SIM115
    out = tempfile.NamedTemporaryFile(prefix=f"bench-{args[0]}-", suffix=".out", delete=False)  # noqa: SIM115
    command = [sys.executable, "-m", "gemini_doctor", *args, "--port", "0"]
    process = subprocess.Popen(command, stdout=out, stderr=log)
    OUTPUTS[process.pid] = Path(out.name)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        printed = Path(log.name).read_text(errors="replace") + Path(out.name).read_text(errors="replace")
        for word in printed.split():
            if word.startswith("http://127.0.0.1:"):
                return process, word.rstrip(",)")
        time.sleep(0.05)
    raise RuntimeError(f"{args[0]} printed no URL")


OUTPUTS: dict[int, Path] = {}


def stopped(process: subprocess.Popen[bytes]) -> dict | None:
    """Stop a process (SIGTERM, as Ctrl-C); a proxy's report as it printed it, or None."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        return None
    try:
        return json.loads(OUTPUTS[process.pid].read_text())
    except (OSError, ValueError):
        return None


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def spread(values: list[float], form: str) -> str:
    return (
        f"{format(statistics.median(values), form)} (rounds {format(min(values), form)}..{format(max(values), form)})"
    )


def sample(base: str, route: str, clients: int, each: int, pids: tuple[int, ...]) -> tuple[float, list[float]]:
    """One throughput sample: requests per second, and the CPU per exchange (ms) of each process in `pids`."""
    before = [cpu_s(pid) for pid in pids]
    rate = asyncio.run(throughput(base, route, clients, each))
    return rate, [(cpu_s(pid) - was) / (clients * each) * 1000 for pid, was in zip(pids, before, strict=True)]


def rounds(cases: list[tuple[str, str, str, str]], args: argparse.Namespace) -> dict[str, dict[str, list[float]]]:
    """Each case (label, route, direct URL, proxied URL) measured direct and proxied, in every round; PIDS names
    the processes behind each URL, whose CPU per exchange is read over each throughput sample."""
    names = ("added", "direct", "ratio", "proxy CPU", "emulator CPU")
    figures: dict[str, dict[str, list[float]]] = {c[0]: {name: [] for name in names} for c in cases}
    for _label, route, direct, proxied in cases:  # warmed: connections pooled, code paths run once
        for base in (direct, proxied):
            asyncio.run(throughput(base, route, args.clients, 2))
    for number in range(args.rounds):
        for label, route, direct, proxied in cases:
            order = (direct, proxied) if number % 2 == 0 else (proxied, direct)  # neither always goes first
            count = args.requests if "after" not in label else max(5, args.requests // 20)
            direct_ms, proxied_ms = asyncio.run(latencies(direct, proxied, route, count))
            each = args.per_client if "after" not in label else max(4, args.per_client // 5)
            rate = {base: sample(base, route, args.clients, each, PIDS[base]) for base in order}
            found = figures[label]
            found["added"].append(statistics.median(proxied_ms) - statistics.median(direct_ms))
            found["direct"].append(statistics.median(direct_ms))
            found["ratio"].append(rate[proxied][0] / rate[direct][0])
            found["proxy CPU"].append(rate[proxied][1][0])
            found["emulator CPU"].append(rate[proxied][1][1])
        print(f"  round {number + 1}/{args.rounds} done", file=sys.stderr)
    return figures


PIDS: dict[str, tuple[int, ...]] = {}  # URL -> the pids whose CPU a sample reads: (proxy, emulator) or (emulator,)


def memory(proxy: subprocess.Popen[bytes], emulator: subprocess.Popen[bytes], proxied: str, args) -> None:
    each = max(1, args.long // args.clients // 4)
    asyncio.run(throughput(proxied, "image", args.clients, each))  # settled before the first reading
    time.sleep(1)
    before, cpu_proxy, cpu_emulator = rss_mib(proxy.pid), cpu_s(proxy.pid), cpu_s(emulator.pid)
    readings = []
    for _ in range(4):
        asyncio.run(throughput(proxied, "image", args.clients, each))
        time.sleep(1)  # the exchanges waiting for diagnosis (at most 256, 64 MiB) done: what stays is read
        readings.append(rss_mib(proxy.pid))
    done = 4 * args.clients * each
    per_proxy = (cpu_s(proxy.pid) - cpu_proxy) / done * 1000
    per_emulator = (cpu_s(emulator.pid) - cpu_emulator) / done * 1000
    print(
        f"memory over a long run: proxy RSS {before:.0f} MiB, then {', '.join(f'{r:.0f}' for r in readings)} MiB "
        f"after each further {done // 4} exchanges: growth {readings[-1] - before:+.1f} MiB over {done} "
        f"(goal: bounded, no growth with the count)"
    )
    print(f"CPU per image exchange over that run: proxy {per_proxy:.2f} ms, emulator {per_emulator:.2f} ms")


def summary(figures: dict[str, dict[str, list[float]]], args: argparse.Namespace) -> None:
    instant = {label: found for label, found in figures.items() if "after" not in label}
    print(
        f"headline, emulator answering at once ({args.clients} clients, {args.clients * args.per_client} requests "
        f"per throughput sample, {args.rounds} rounds; this machine's 2 cores are shared): throughput proxied/direct "
        + ", ".join(f"{label} {spread(found['ratio'], '.2f')}" for label, found in instant.items())
        + " (goal at least 0.90); median latency added "
        + ", ".join(f"{label} {statistics.median(found['added']):+.2f} ms" for label, found in instant.items())
        + " (goal at most +2 ms)"
    )
    print(
        "CPU per exchange while proxied, proxy/emulator (the proxy's share; on a busy machine the ratio of "
        "throughputs tends to (emulator + client) / (proxy + emulator + client)): "
        + ", ".join(
            f"{label} {statistics.median(found['proxy CPU']):.2f}/{statistics.median(found['emulator CPU']):.2f} ms"
            for label, found in instant.items()
        )
    )
    print("medians (min..max over rounds):")
    for label, found in figures.items():
        print(
            f"{label}: median latency direct {spread(found['direct'], '.2f')} ms, added by the proxy "
            f"{spread(found['added'], '+.2f')} ms (goal at most +2 ms); throughput at {args.clients} clients "
            f"proxied/direct {spread(found['ratio'], '.2f')} (goal at least 0.90)"
        )


def undiagnosed(report: dict | None, label: str) -> None:
    totals = (report or {}).get("totals") or {}
    if not totals:
        print(f"{label}: no report read from the proxy")
        return
    print(
        f"{label}: {totals.get('undiagnosed', 0)} of {totals.get('exchanges', 0)} exchanges recorded undiagnosed "
        "(more waiting for diagnosis than the proxy keeps; goal: none)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per latency sample")
    parser.add_argument("--per-client", type=int, default=40, help="requests per client per throughput sample")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--long", type=int, default=6000, help="exchanges in the memory run")
    parser.add_argument("--slow-ms", type=int, default=200, help="the slow upstream's delay on every answer")
    args = parser.parse_args()
    emulator, direct = started("emulate")
    proxy, proxied = started("proxy", "--upstream", direct, "--format", "json")
    slow, slow_direct = started("emulate", "--latency-ms", str(args.slow_ms))
    slow_proxy, slow_proxied = started("proxy", "--upstream", slow_direct, "--format", "json")
    PIDS.update({direct: (emulator.pid,), proxied: (proxy.pid, emulator.pid), slow_direct: (slow.pid,)})
    PIDS[slow_proxied] = (slow_proxy.pid, slow.pid)
    cases = [
        ("image", "image", direct, proxied),
        ("countTokens", "countTokens", direct, proxied),
        (f"image, upstream answering after {args.slow_ms} ms", "image", slow_direct, slow_proxied),
    ]
    reports: dict[str, dict | None] = {}
    try:
        summary(rounds(cases, args), args)
        memory(proxy, emulator, proxied, args)
    finally:
        reports["proxy to the emulator answering at once"] = stopped(proxy)
        reports["proxy to the slow emulator"] = stopped(slow_proxy)
        for process in (emulator, slow):
            stopped(process)
    for label, report in reports.items():
        undiagnosed(report, label)


if __name__ == "__main__":
    main()
