"""`emulate` and `check --emulator`: pick a scenario, open the embedded emulator on a socket, say how to use it."""

from __future__ import annotations

from typing import Any

from gemini_doctor.input_error import InputError
from gemini_doctor.knowledge import did_you_mean, is_loopback

EMULATED_KEY = "emulated-key"  # any non-empty key works against the emulator
EMULATED_PROJECT = "emulated-project"
ADDRESS_IN_USE = (98, 48, 10048)  # Linux, macOS, Windows


def scenario_named(slug: str) -> Any:
    """The emulator scenario with this slug; an unknown one is an InputError with the closest name."""
    from gemini_doctor.emulator.scenarios import find_scenario, scenarios

    scenario = find_scenario(slug)
    if scenario is None:
        hint = did_you_mean(slug, [s.slug for s in scenarios()])
        raise InputError(f"unknown scenario {slug!r}{hint}; `gemini-doctor emulate --list` lists them")
    return scenario


def scenario_list() -> str:
    """The scenarios, a line each: slug and title."""
    from gemini_doctor.emulator.scenarios import scenarios

    width = max(len(s.slug) for s in scenarios())
    return "".join(f"{item.slug:{width}}  {item.title}\n" for item in scenarios())


def open_emulator(
    slug: str, host: str, port: int, latency_ms: int, chaos: str | None, per_minute: int | None
) -> tuple[Any, Any]:
    """(server, scenario), listening; a bad scenario, chaos or address is an InputError."""
    from gemini_doctor.emulator.app import CHAOS
    from gemini_doctor.emulator.server import EmulatorServer

    chosen = scenario_named(slug)
    if chaos is not None and chaos not in CHAOS:
        raise InputError(f"unknown chaos {chaos!r}{did_you_mean(chaos, list(CHAOS))}; one of: {', '.join(CHAOS)}")
    try:
        server = EmulatorServer(chosen, host=host, port=port, latency_ms=latency_ms, chaos=chaos, per_minute=per_minute)
    except OSError as exc:
        hint = "; pass --port 0 for a free one" if exc.errno in ADDRESS_IN_USE else ""
        raise InputError(f"cannot listen on {host}:{port} ({exc.strerror or exc}){hint}") from None
    return server, chosen


def banner(url: str, chosen: Any, host: str, chaos: str | None) -> str:
    """What `emulate` prints once it listens: where, how to reproduce, how to point an app at it."""
    from gemini_doctor.emulator.app import CHAOS

    versions = (
        "               google-genai 3.x needs nothing else: its default API version, v1, takes image fields here"
        if chosen.v1_generation_config == "current"
        else "               /v1/ refuses image fields in this scenario (as in Feb 2026); "
        "GOOGLE_GENAI_API_VERSION=v1beta selects v1beta"
    )
    vertex_call = chosen.call if chosen.backend == "vertex" else None
    lines = [
        f"gemini-doctor emulator · scenario {chosen.slug}: {chosen.title}",
        f"  listening on {url} (Gemini API: /v1beta, /v1, /v1beta/openai; Service Usage, Cloud Quotas, "
        "Cloud Billing: /v1)",
        f"  reproduce:   {reproduce_command(url, chosen.check_args, vertex_call)}",
        f"  your app:    GOOGLE_GEMINI_BASE_URL={url} GEMINI_API_KEY={EMULATED_KEY} (any key works)",
        versions,
        f"  OpenAI SDK:  OPENAI_BASE_URL={url}/v1beta/openai/ OPENAI_API_KEY={EMULATED_KEY}",
    ]
    if chaos:
        lines.append(f"  chaos:       {CHAOS[chaos]}")
    if not is_loopback(host):
        lines.append(f"  warning: listening on {host}, reachable from other machines")
    lines.append("  Ctrl-C stops it.")
    return "\n".join(lines)


def reproduce_command(url: str, check_args: tuple[str, ...], vertex_call: dict[str, Any] | None = None) -> str:
    """The `gemini-doctor check` line that reproduces a scenario against a running emulator (a Vertex scenario's
    `call`: its backend, location and model, and the placeholder token a loopback run sends instead of a key)."""
    pointed = ["--base-url", url, "--gcp-endpoint", url, "--project", EMULATED_PROJECT]
    if vertex_call is None:
        return " ".join(["gemini-doctor check", *pointed, "--api-key", EMULATED_KEY, *check_args])
    call = [f"--{name} {vertex_call[name]}" for name in ("location", "model") if vertex_call.get(name)]
    return " ".join(["gemini-doctor check --backend vertex", *pointed, *call, *check_args])
