"""The command line: parses, calls, renders. No logic of its own; heavy modules are imported lazily.

Exit codes: 0 no failure found (warnings allowed), 1 a failure found, 2 usage or input error,
3 an internal error (a bug: set GEMINI_DOCTOR_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from typing import Annotated

import typer
from typer.core import TyperGroup

from gemini_doctor import __version__

EXIT_CODES_HELP = "Exit codes: 0 no failure found (warnings allowed), 1 a failure found, 2 usage or input error."


class _CommandsInOrderOfUse(TyperGroup):
    """`--help` lists the main job first, not the order the functions happen to be defined in."""

    ORDER = ("check", "explain", "errors", "lint", "emulate", "proxy")

    def list_commands(self, ctx: typer.Context) -> list[str]:
        names = super().list_commands(ctx)
        return [n for n in self.ORDER if n in names] + [n for n in names if n not in self.ORDER]


app = typer.Typer(
    name="gemini-doctor",
    cls=_CommandsInOrderOfUse,
    help="Tells apart the failures of Gemini image-generation calls and says how to fix each.\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class OutputFormat(StrEnum):
    rich = "rich"
    json = "json"
    markdown = "markdown"


class Billing(StrEnum):
    enabled = "enabled"
    disabled = "disabled"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gemini-doctor {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Tells apart the failures of Gemini image-generation calls and says how to fix each."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """One clear line on stderr, then the exit code; never a traceback."""
    from gemini_doctor.redact import neutralise, redact

    typer.echo(f"gemini-doctor: error: {neutralise(redact(message))}", err=True)
    return typer.Exit(code)


def emit(
    document: dict,
    fmt: OutputFormat,
    output: str | None = None,
    secrets: tuple[str | None, ...] = (),
    verbose: bool = False,
) -> None:
    """Render once, through the redacting door, to stdout or atomically to --output."""
    from gemini_doctor.report import render

    to_terminal = output is None and sys.stdout.isatty()
    color = to_terminal and "NO_COLOR" not in os.environ
    width = os.get_terminal_size().columns if to_terminal else 100
    text = render(document, fmt.value, secrets=secrets, color=color, width=width, verbose=verbose)
    if output:
        from gemini_doctor.inputs import write_atomically

        write_atomically(output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


@app.command()
def explain(
    target: Annotated[
        str | None,
        typer.Argument(
            help="A file with the error, '-' for stdin, or a code/slug (GD001, ghost-429) to show its page. "
            "Pasted text in quotes works too.",
            show_default=False,
        ),
    ] = None,
    model: Annotated[str | None, typer.Option(help="The model the app called (sharpens the diagnosis).")] = None,
    request: Annotated[
        str | None, typer.Option(help="The JSON body the app sent: its generationConfig is checked against the answer.")
    ] = None,
    billing: Annotated[Billing | None, typer.Option(help="Whether billing is enabled on the key's project.")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.rich,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the report to this file.")] = None,
) -> None:
    """Classify an error someone pasted: a JSON body, an SDK exception, or `curl -i` output."""
    from pathlib import Path

    from gemini_doctor.diagnosis import Context
    from gemini_doctor.explain import explain_document, looks_like_code, rule_document
    from gemini_doctor.input_error import InputError
    from gemini_doctor.inputs import read_json_object, read_text

    try:
        if target is None and sys.stdin.isatty():
            raise InputError("nothing to explain: pass a file, '-' to read stdin, or a code such as GD001")
        source = target or "-"
        if source != "-" and not Path(source).exists() and looks_like_code(source):
            emit(rule_document(source), fmt, output)
            return
        if source != "-" and not Path(source).exists() and any(c in source for c in " {\n"):
            text, label = source, "argument"
        else:
            text, label = read_text(source)
        body = read_json_object(request, "request") if request else None
        context = Context(
            model=model, request=body, billing_enabled=None if billing is None else billing is Billing.enabled
        )
        document = explain_document(text, label, context)
        emit(document, fmt, output)
    except InputError as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(document["exit_code"])


@app.command()
def errors(
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.rich,
) -> None:
    """List the error catalog: every code and slug the doctor can name."""
    from gemini_doctor.explain import catalog_document

    emit(catalog_document(), fmt)


@app.command()
def check(
    api_key: Annotated[
        str | None,
        typer.Option(
            help="API key (else GOOGLE_API_KEY, then GEMINI_API_KEY). Never "
            "printed; sent only in the x-goog-api-key header.",
            show_default=False,
        ),
    ] = None,
    project: Annotated[str | None, typer.Option(help="Google Cloud project of the key (GOOGLE_CLOUD_PROJECT).")] = None,
    model: Annotated[str | None, typer.Option(help="Model to check (default: the recommended image model).")] = None,
    base_url: Annotated[str | None, typer.Option(help="Gemini API base URL (GOOGLE_GEMINI_BASE_URL).")] = None,
    api_version: Annotated[str | None, typer.Option(help="API version path: v1beta (default) or v1.")] = None,
    gcp_endpoint: Annotated[
        str | None,
        typer.Option(
            help="Endpoint for Service Usage, Cloud Quotas, Cloud Billing; http:// loopback gets anonymous "
            "credentials (GEMINI_DOCTOR_GCP_ENDPOINT)."
        ),
    ] = None,
    request: Annotated[str | None, typer.Option(help="The JSON body the app sends: its settings are checked.")] = None,
    image_size: Annotated[str | None, typer.Option(help="imageSize to test, e.g. 1K.")] = None,
    aspect_ratio: Annotated[str | None, typer.Option(help="aspectRatio to test, e.g. 16:9.")] = None,
    modalities: Annotated[str | None, typer.Option(help="responseModalities to test, e.g. TEXT,IMAGE.")] = None,
    error: Annotated[
        str | None, typer.Option("--error", help="An error the app got, diagnosed with the live context.")
    ] = None,
    generate: Annotated[
        bool | None,
        typer.Option("--generate", help="Make ONE real image (costs money; the estimate is printed first)."),
    ] = None,
    only: Annotated[list[str] | None, typer.Option(help="Run only this check (repeatable).")] = None,
    skip: Annotated[list[str] | None, typer.Option(help="Skip this check (repeatable).")] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds per network call (default 10).", min=0.1, max=600)
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.rich,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the report to this file.")] = None,
    strict: Annotated[bool | None, typer.Option("--strict", help="Warnings fail too (exit 1).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show every check's evidence.")] = False,
    emulator: Annotated[
        str | None,
        typer.Option(help="Start the embedded emulator with this scenario and check against it (no key, no network)."),
    ] = None,
) -> None:
    """Run the ordered checklist: billing, quota, endpoint, model, parameters.

    Exit codes: 0 no failure found (warnings allowed; --strict makes them fail), 1 a failure found, 2 usage error.
    """
    from gemini_doctor.input_error import InputError
    from gemini_doctor.settings import resolve

    flags = {
        "api_key": api_key,
        "project": project,
        "model": model,
        "base_url": base_url,
        "api_version": api_version,
        "gcp_endpoint": gcp_endpoint,
        "request": request,
        "image_size": image_size,
        "aspect_ratio": aspect_ratio,
        "modalities": modalities,
        "error_file": error,
        "generate": generate,
        "only": tuple(only or ()),
        "skip": tuple(skip or ()),
        "timeout": timeout,
        "strict": strict,
        "verbose": verbose or None,
    }
    server = None
    try:
        if emulator:
            server, flags = _start_emulator(emulator, flags)
        settings = resolve(flags)
        if server is not None:
            from gemini_doctor.check import apply_scenario_args

            given = {k for k, v in flags.items() if v not in (None, ())}
            settings = apply_scenario_args(settings, server.scenario.check_args, given)
        settings = _read_check_files(settings)
        if output:
            from pathlib import Path

            folder = Path(output).parent
            if not folder.is_dir():  # said before any request, not after the paid one
                raise InputError(f"cannot write {output!r}: the folder {str(folder)!r} does not exist")
        document = _run_check(settings)
        from gemini_doctor.check import github_outputs
        from gemini_doctor.report import render

        if server is not None:
            document["target"]["emulator"] = server.scenario.slug
        emit(document, fmt, output, secrets=settings.secrets, verbose=settings.verbose)
        if os.environ.get("GITHUB_ACTIONS") == "true":
            markdown = render(document, "markdown", secrets=settings.secrets)
            from gemini_doctor.redact import redact_obj

            for line in github_outputs(redact_obj(document, settings.secrets), markdown):
                if fmt is not OutputFormat.json or output:
                    typer.echo(line)
    except InputError as exc:
        raise fail(str(exc)) from None
    finally:
        if server is not None:
            server.stop()
    raise typer.Exit(document["exit_code"])


def _start_emulator(slug: str, flags: dict):
    from gemini_doctor.emulator.scenarios import find_scenario
    from gemini_doctor.emulator.server import EmulatorServer
    from gemini_doctor.input_error import InputError

    scenario = find_scenario(slug)
    if scenario is None:
        raise InputError(f"unknown scenario {slug!r}; `gemini-doctor emulate --list` lists them")
    server = EmulatorServer(scenario).start()
    flags = {
        **flags,
        "base_url": server.url,
        "gcp_endpoint": server.url,
        "project": EMULATED_PROJECT,
        "api_key": EMULATED_KEY,
    }
    return server, flags


def _read_check_files(settings):
    from dataclasses import replace

    from gemini_doctor.inputs import read_json_object, read_text, refuse_credentials

    if settings.request_file:
        body = read_json_object(settings.request_file, "request")
        refuse_credentials(body, settings.request_file, "request")
        settings = replace(settings, request_body=body)
    if settings.error_file:
        settings = replace(settings, error_text=read_text(settings.error_file, "error")[0])
    return settings


def _run_check(settings) -> dict:
    from gemini_doctor.check import run

    return run(settings, notify=lambda notice: typer.echo(notice, err=True))


EMULATED_KEY = "emulated-key"  # any non-empty key works against the emulator
EMULATED_PROJECT = "emulated-project"


def reproduce_command(url: str, check_args: tuple[str, ...]) -> str:
    """The `gemini-doctor check` line that reproduces a scenario against a running emulator."""
    return " ".join(
        [
            "gemini-doctor check",
            "--base-url",
            url,
            "--gcp-endpoint",
            url,
            "--project",
            EMULATED_PROJECT,
            "--api-key",
            EMULATED_KEY,
            *check_args,
        ]
    )


@app.command()
def emulate(
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="The failure to reproduce (see --list).")
    ] = "healthy",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.", min=0, max=65535)] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on. Loopback unless you say otherwise.")] = "127.0.0.1",
    latency_ms: Annotated[
        int, typer.Option(help="Delay every answer by this much (for benchmarks).", min=0, max=600_000)
    ] = 0,
    list_scenarios: Annotated[bool, typer.Option("--list", help="List the scenarios, a line each, and exit.")] = False,
    per_minute: Annotated[
        int | None,
        typer.Option(
            help="Make the scenario's failure a real per-minute quota: this many images in any rolling minute "
            "succeed, then its error until the window frees (e.g. -s ipm-exceeded --per-minute 5).",
            min=1,
            max=100_000,
        ),
    ] = None,
    chaos: Annotated[
        str | None,
        typer.Option(
            help="Break generateContent on purpose: non-json, wrong-shape, bad-image, huge-body, "
            "html-5xx, huge-retry-delay, echo-key, hang, drip, close-mid-body."
        ),
    ] = None,
) -> None:
    """Serve a local emulator of the Gemini API and the GCP APIs that reproduces a failure. Ctrl-C stops it."""
    from gemini_doctor.emulator.scenarios import find_scenario, scenarios

    if list_scenarios:
        width = max(len(s.slug) for s in scenarios())
        for item in scenarios():
            typer.echo(f"{item.slug:{width}}  {item.title}")
        return
    chosen = find_scenario(scenario)
    if chosen is None:
        raise fail(f"unknown scenario {scenario!r}; `gemini-doctor emulate --list` lists them")
    from gemini_doctor.emulator.app import CHAOS
    from gemini_doctor.emulator.server import EmulatorServer

    if chaos is not None and chaos not in CHAOS:
        raise fail(f"unknown chaos {chaos!r}; one of: {', '.join(CHAOS)}")

    try:
        server = EmulatorServer(chosen, host=host, port=port, latency_ms=latency_ms, chaos=chaos, per_minute=per_minute)
    except OSError as exc:
        hint = "; pass --port 0 for a free one" if exc.errno in (98, 48, 10048) else ""
        raise fail(f"cannot listen on {host}:{port} ({exc.strerror or exc}){hint}") from None
    url = server.url
    lines = [
        f"gemini-doctor emulator · scenario {chosen.slug}: {chosen.title}",
        f"  listening on {url} (Gemini API: /v1beta, /v1, /v1beta/openai; Service Usage, Cloud Quotas, "
        "Cloud Billing: /v1)",
        f"  reproduce:   {reproduce_command(url, chosen.check_args)}",
        f"  your app:    GOOGLE_GEMINI_BASE_URL={url} GEMINI_API_KEY={EMULATED_KEY} (any key works)",
        "               google-genai 3.x needs nothing else: its default API version, v1, takes image fields here"
        if chosen.v1_generation_config == "current"
        else "               /v1/ refuses image fields in this scenario (as in Feb 2026); "
        "GOOGLE_GENAI_API_VERSION=v1beta selects v1beta",
        f"  OpenAI SDK:  OPENAI_BASE_URL={url}/v1beta/openai/ OPENAI_API_KEY={EMULATED_KEY}",
    ]
    if chaos:
        lines.append(f"  chaos:       {CHAOS[chaos]}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        lines.append(f"  warning: listening on {host}, reachable from other machines")
    lines.append("  Ctrl-C stops it.")
    typer.echo("\n".join(lines))
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.socket.close()


@app.command()
def proxy(
    upstream: Annotated[
        str, typer.Option(help="Where requests go on to: Google's endpoint, or a gateway, or the emulator.")
    ] = "https://generativelanguage.googleapis.com",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.", min=0, max=65535)] = 8766,
    host: Annotated[str, typer.Option(help="Address to listen on. Loopback unless you say otherwise.")] = "127.0.0.1",
    expect: Annotated[
        list[str] | None,
        typer.Option(
            "--expect",
            metavar="SETTING=VALUE",
            help="What the app means to send: aspect-ratio=16:9, image-size=2K (repeatable). A request that "
            "reaches Google without it is named image-config-stripped.",
        ),
    ] = None,
    request: Annotated[
        str | None, typer.Option(help="The JSON body the app means to send: its imageConfig is expected.")
    ] = None,
    log: Annotated[
        str | None, typer.Option(help="Append each exchange to this file as a JSON line (redacted).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds an upstream answer may take.", min=1, max=3600)] = 300,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Format of the report at Ctrl-C.")] = (
        OutputFormat.rich
    ),
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the report to this file.")] = None,
) -> None:
    """Forward an app's Gemini calls and diagnose each one live; Ctrl-C prints the report."""
    from gemini_doctor.input_error import InputError
    from gemini_doctor.inputs import read_json_object
    from gemini_doctor.proxy import ProxyOptions, serve

    try:
        body = read_json_object(request, "request") if request else None
        options = ProxyOptions(upstream, host, port, expect or [], body, log, timeout, live=sys.stderr.isatty())
        document = serve(options)
    except InputError as exc:
        raise fail(str(exc)) from None
    emit(document, fmt, output)
    raise typer.Exit(document["exit_code"])


class LintFormat(StrEnum):
    rich = "rich"
    json = "json"
    sarif = "sarif"
    github = "github"
    markdown = "markdown"


class LintSeverity(StrEnum):
    warning = "warning"
    error = "error"


@app.command()
def lint(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Files or folders to scan (default: the current folder).", show_default=False),
    ] = None,
    fmt: Annotated[LintFormat, typer.Option("--format", "-f", help="Output format.")] = LintFormat.rich,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the report to this file.")] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", help="Leave out a code or slug, e.g. GD009 (repeatable or comma-separated)."),
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select", metavar="CODES", help="Report only these codes or slugs (repeatable or comma-separated)."
        ),
    ] = None,
    severity: Annotated[
        LintSeverity, typer.Option("--severity", help="Report only findings at or above this severity.")
    ] = LintSeverity.warning,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when there are findings.")] = False,
    statistics: Annotated[bool, typer.Option("--statistics", help="Count the findings per code instead.")] = False,
    fix: Annotated[bool, typer.Option("--fix", help='Apply the safe fixes ("1k" -> "1K") to the files.')] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Show the safe fixes as a diff; write nothing.")] = False,
) -> None:
    """Find the parameter traps written in Python, JavaScript/TypeScript and JSON source: no key, no request.

    Silence one line with a comment: `# gemini-doctor: ignore[GD009]`.

    Exit codes: 0 no finding, 1 findings, 2 usage error.
    """
    from gemini_doctor.input_error import InputError
    from gemini_doctor.lint.command import Options, run

    options = Options(tuple(ignore or ()), tuple(select or ()), severity.value, exit_zero, statistics, fix, diff)
    try:
        code = run(paths or ["."], fmt.value, output, options)
    except InputError as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(code)


def main() -> None:
    """Entry point: run the app; usage errors and unexpected exceptions become one redacted line, not a traceback."""
    from gemini_doctor.redact import redact

    try:
        code = app(standalone_mode=False)
    except typer.Exit as done:
        code = done.exit_code
    except typer.Abort:
        sys.stderr.write("gemini-doctor: aborted\n")
        code = 1
    except typer.TyperException as usage:  # bad flags, unknown options, extra arguments: exit 2
        if type(usage).__name__ == "NoArgsIsHelpError":
            usage.show()
            sys.exit(2)
        message = usage.format_message() if hasattr(usage, "format_message") else str(usage)
        sys.stderr.write(f"gemini-doctor: error: {redact(message)} (see `gemini-doctor --help`)\n")
        code = getattr(usage, "exit_code", 2)
    except KeyboardInterrupt:
        sys.stderr.write("gemini-doctor: interrupted\n")
        code = 130
    except Exception as exc:
        if os.environ.get("GEMINI_DOCTOR_DEBUG"):
            raise
        sys.stderr.write(
            f"gemini-doctor: internal error: {type(exc).__name__}: {redact(str(exc))[:300]} "
            "(set GEMINI_DOCTOR_DEBUG=1 for the traceback; please report it)\n"
        )
        code = 3
    sys.exit(code if isinstance(code, int) else 0)
