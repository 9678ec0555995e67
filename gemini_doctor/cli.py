"""The command line: parses, calls, renders. No logic of its own; heavy modules are imported lazily.

Exit codes: 0 no failure found (warnings allowed), 1 a failure found, 2 usage or input error,
3 an internal error (a bug: set GEMINI_DOCTOR_DEBUG=1 for the traceback).
"""

# No `from __future__ import annotations` here: Typer reads the annotations of every command's options each run,
# and string ones it compiles and evaluates twice each (inspect.signature and get_type_hints): measured, that
# tripled the time to build the commands (about 0.1 s of every start-up).
import atexit
import contextlib
import functools
import gc
import inspect
import os
import re
import sys
import types
import typing
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from typer.core import TyperCommand, TyperGroup

from gemini_doctor import __version__
from gemini_doctor.settings import SETTINGS, Format, Kind, Setting

EXIT_CODES_HELP = "Exit codes: 0 no failure found (warnings allowed), 1 a failure found, 2 usage or input error."


try:  # Typer 0.29 coerces every value through a pydantic TypeAdapter, built on a parameter's first value
    from typer._coercion import RuntimeParam, build_runtime_param
    from typer._param_types import coerce_cli_choice
except ImportError:  # a Typer without it (an older one: Click's own types, no pydantic to spare)
    RuntimeParam = None  # type: ignore[assignment,misc]


_NUMBER = {int: re.compile(r"[+-]?[0-9]+"), float: re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")}


def _within(number: float, info: Any) -> bool:
    """Inside the option's `min`/`max` (out of them, or clamped, the adapter says so or clamps, in Typer's way)."""
    low, high = getattr(info, "min", None), getattr(info, "max", None)
    if getattr(info, "clamp", False) and (low is not None or high is not None):
        return False
    return (low is None or number >= low) and (high is None or number <= high)


def _plain_value(annotation: Any, value: Any, ctx: Any, info: Any) -> Any:
    """The value Typer's adapter would give, for the plain cases (a text, a choice, a flag, a number in plain
    digits, a path, nothing for an optional value), else `_NOT_PLAIN`."""
    members = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else ()
    if members and type(None) in members:
        if value is None:
            return None
        rest = [member for member in members if member is not type(None)]
        annotation = rest[0] if len(rest) == 1 else annotation
    if annotation is str and isinstance(value, str):
        return value
    if annotation == list[str] and isinstance(value, (list, tuple)) and all(isinstance(x, str) for x in value):
        return list(value)
    if annotation is bool and isinstance(value, bool):
        return value
    if annotation in _NUMBER and isinstance(value, str) and _NUMBER[annotation].fullmatch(value):
        number = annotation(value)
        return number if _within(number, info) else _NOT_PLAIN
    if annotation in _NUMBER and type(value) in (int, float) and _within(value, info):
        return annotation(value) if annotation is float or type(value) is int else _NOT_PLAIN
    if annotation is Path and isinstance(value, str) and value and "\x00" not in value:
        return Path(value)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return coerce_cli_choice(value, choices=tuple(annotation), case_sensitive=info.case_sensitive, ctx=ctx)
    return _NOT_PLAIN


_NOT_PLAIN = object()


class _PlainCoercion(RuntimeParam or object):  # type: ignore[misc]
    """Texts and choices coerced as Typer's adapter coerces them, without building it: building one imports
    pydantic (about 0.1 s), which `explain` and `errors` need for nothing else. Anything else, and any value the
    plain path refuses, goes to Typer's adapter, so its results and its error messages are Typer's own."""

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        info = self.parameter_info
        if info.parser is None:
            try:
                plain = _plain_value(self.annotation, value, ctx, info)
            except ValueError:  # not one of the choices: the adapter says so, in Typer's words
                plain = _NOT_PLAIN
            if plain is not _NOT_PLAIN:
                return plain
        return build_runtime_param(param.type_descriptor)._coerce_value(value, param=param, ctx=ctx)


def _plain_coercion(param: Any) -> None:
    """Give a Typer parameter the plain coercion before its first value (see `_PlainCoercion`)."""
    descriptor = getattr(param, "type_descriptor", None)
    if RuntimeParam is None or descriptor is None or getattr(param, "_runtime_param", 0) is not None:
        return  # an older Typer, Click's own `--help`, or a parameter whose coercion is already built
    if descriptor.file_annotation is None and not descriptor.is_tuple:
        with contextlib.suppress(TypeError):  # a Typer whose RuntimeParam has other fields keeps its own coercion
            param._runtime_param = _PlainCoercion(
                parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
            )


class _FlagHelp:
    """Flags (`--help`, `--install-completion`, …) read as flags in the help, not `<bool>`."""

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            _plain_coercion(param)
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
            elif param.param_type_name == "argument":  # its metavar says it all; no `<str>` beside it
                param.display_type_rich = lambda ctx: None
        return params


class _Command(_FlagHelp, TyperCommand):
    pass


class _CommandsInOrderOfUse(_FlagHelp, TyperGroup):
    """`--help` lists the main job first, not the order the functions happen to be defined in."""

    ORDER = ("check", "explain", "errors", "lint", "emulate", "proxy")

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return [n for n in self.ORDER if n in names] + [n for n in names if n not in self.ORDER]


app = typer.Typer(
    name="gemini-doctor",
    cls=_CommandsInOrderOfUse,
    help="Tells apart the failures of Gemini image-generation calls and says how to fix each.\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


OutputFormat = Format


class Billing(StrEnum):
    enabled = "enabled"
    disabled = "disabled"


BillingOption = Annotated[
    Billing | None, typer.Option(metavar="enabled|disabled", help="Whether billing is enabled on the key's project.")
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", metavar="rich|json|markdown", help="Output format.")
]
OutputOption = Annotated[
    str | None, typer.Option("--output", "-o", metavar="FILE", help="Write the report to this file.")
]

PortOption = Annotated[
    int, typer.Option(metavar="PORT", help="Port to listen on; 0 picks a free one.", min=0, max=65535)
]
HostOption = Annotated[
    str, typer.Option(metavar="HOST", help="Address to listen on. Loopback unless you say otherwise.")
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gemini-doctor {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, metavar="", help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Tells apart the failures of Gemini image-generation calls and says how to fix each."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """One clear line on stderr, then the exit code; never a traceback."""
    from gemini_doctor.redact import neutralise, redact

    typer.echo(f"gemini-doctor: error: {neutralise(redact(message))}", err=True)
    return typer.Exit(code)


def terminal(output: str | None) -> tuple[bool, int | None]:
    """(colour, width) for stdout: a terminal's width, else None (piped: nothing hard-wrapped). NO_COLOR wins over
    FORCE_COLOR, which colours piped output too (https://no-color.org, https://force-color.org)."""
    to_terminal = output is None and sys.stdout.isatty()
    width = os.get_terminal_size().columns if to_terminal else None
    if output is not None or os.environ.get("NO_COLOR"):
        return False, width
    return to_terminal or bool(os.environ.get("FORCE_COLOR")), width


def emit(
    document: dict,
    fmt: OutputFormat,
    output: str | None = None,
    secrets: tuple[str | None, ...] = (),
    verbose: bool = False,
) -> None:
    """Render once, through the redacting door, to stdout or atomically to --output."""
    from gemini_doctor.report import render

    color, width = terminal(output)
    text = render(document, fmt.value, secrets=secrets, color=color, width=width, verbose=verbose)
    if output:
        from gemini_doctor.inputs import write_atomically

        write_atomically(output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


@app.command(cls=_Command)
def explain(
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="TARGET",
            help="A file with the error, '-' for stdin, or a code/slug (GD001, ghost-429) to show its page. "
            "Pasted text in quotes works too.",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option(metavar="MODEL", help="The model the app called (sharpens the diagnosis).")
    ] = None,
    request: Annotated[
        str | None,
        typer.Option(
            metavar="FILE", help="The JSON body the app sent: its generationConfig is checked against the answer."
        ),
    ] = None,
    billing: BillingOption = None,
    example: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Explain an example shipped with the package, e.g. billing-limit-zero."),
    ] = None,
    fmt: FormatOption = OutputFormat.RICH,
    output: OutputOption = None,
) -> None:
    """Classify an error someone pasted: a JSON body, an SDK exception, or `curl -i` output."""
    from gemini_doctor.diagnosis import Context
    from gemini_doctor.explain import explain_command
    from gemini_doctor.input_error import InputError
    from gemini_doctor.inputs import read_json_object

    try:
        body = read_json_object(request, "request") if request else None
        enabled = None if billing is None else billing is Billing.enabled
        context = Context(model=model, request=body, billing_enabled=enabled)
        interactive = sys.stdin.isatty()
        document = explain_command(target, example, context, interactive, lambda text: typer.echo(text, err=True))
        emit(document, fmt, output)
    except InputError as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(document["exit_code"])


@app.command(cls=_Command)
def errors(
    fmt: FormatOption = OutputFormat.RICH,
) -> None:
    """List the error catalog: every code and slug the doctor can name."""
    from gemini_doctor.explain import catalog_document

    emit(catalog_document(), fmt)


@functools.cache
def freeze_at_exit() -> None:
    """At exit, hand every object still alive to the collector's permanent generation (`gc.freeze`), once per
    process. A run that has imported httpx and Google's client libraries holds a few hundred thousand objects, and
    the interpreter's shutdown collects them again and again as it clears each module: about 0.5 s of exit,
    measured, cut to a few ms. Nothing is lost: the standard streams are flushed at exit as always, and objects
    are freed by their reference counts as modules are cleared; only garbage in reference cycles is left to the
    operating system, which reclaims the whole process anyway."""
    atexit.register(gc.freeze)


def check(**flags: object) -> None:
    """Run the ordered checklist: billing, quota, endpoint, model, parameters.

    Exit codes: 0 no failure found (warnings allowed; --strict makes them fail), 1 a failure found, 2 usage error.
    """
    # Start-up imports some 250,000 objects (asyncio, httpx, the checks), none of them garbage; the cycle collector
    # would walk them again and again as they come (about 80 ms measured). A run is short and bounded by its timeout;
    # the collector is back on when it ends, whichever way.
    gc.disable()
    freeze_at_exit()
    from gemini_doctor.check import ci_outputs, run_command
    from gemini_doctor.input_error import InputError

    values = {key: tuple(value) if isinstance(value, list) else value for key, value in flags.items()}
    try:
        document, settings = run_command(values, notify=lambda notice: typer.echo(notice, err=True))
        fmt = OutputFormat(settings.format)
        emit(document, fmt, settings.output, secrets=settings.secrets, verbose=settings.verbose)
        for line in ci_outputs(document, settings):
            if fmt is not OutputFormat.JSON or settings.output:
                typer.echo(line)
    except InputError as exc:
        raise fail(str(exc)) from None
    finally:
        # Every object the run made, aged to the oldest generation without being walked (freeze, then unfreeze):
        # re-enabled with some 250,000 young objects, the collector would first walk them all (about 25 ms). Not
        # in a host process that froze objects of its own (a pre-fork server): unfreezing would thaw them too.
        if not gc.get_freeze_count():
            gc.freeze()
            gc.unfreeze()
        gc.enable()
    raise typer.Exit(document["exit_code"])


def _setting_parameter(setting: Setting) -> inspect.Parameter:
    """The Typer option one row of the settings table gives (None: not given, so lower layers may set it)."""
    names = [setting.flag, *([setting.short] if setting.short else [])]
    help_text = setting.help.rstrip(".") + (f" (or {setting.env})." if setting.env else ".")
    common: dict[str, Any] = {"help": help_text, "show_default": False, "metavar": setting.metavar}
    kind: Any = str | None
    if setting.kind is Kind.FLAG:
        kind, common["metavar"] = bool | None, ""
    elif setting.kind is Kind.LIST:
        kind = list[str] | None
    elif setting.kind is Kind.NUMBER:
        kind = float | None
        common["min"], common["max"] = setting.bounds or (None, None)
    elif setting.kind is Kind.CHOICE:
        kind = cast(Any, setting.choices) | None
    option = typer.Option(*names, **common)
    annotation = Annotated[kind, option]
    return inspect.Parameter(setting.key, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)


def _command_from_settings(function: Any, settings: tuple[Setting, ...]) -> Any:
    """Give `function(**flags)` one option per setting, so flags, config keys and validation share one table."""
    parameters = [_setting_parameter(setting) for setting in settings]
    function.__signature__ = inspect.Signature(parameters)
    function.__annotations__ = {p.name: p.annotation for p in parameters}
    return function


app.command(cls=_Command)(_command_from_settings(check, SETTINGS))


@app.command(cls=_Command)
def emulate(
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", metavar="SCENARIO", help="The failure to reproduce (see --list).")
    ] = "healthy",
    port: PortOption = 8765,
    host: HostOption = "127.0.0.1",
    latency_ms: Annotated[
        int, typer.Option(metavar="MS", help="Delay every answer by this much (for benchmarks).", min=0, max=600_000)
    ] = 0,
    list_scenarios: Annotated[
        bool, typer.Option("--list", metavar="", help="List the scenarios, a line each, and exit.")
    ] = False,
    per_minute: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Make the scenario's failure a real per-minute quota: this many images in any rolling minute "
            "succeed, then its error until the window frees (e.g. -s ipm-exceeded --per-minute 5).",
            min=1,
            max=100_000,
        ),
    ] = None,
    chaos: Annotated[
        str | None,
        typer.Option(
            metavar="KIND",
            help="Break generateContent on purpose: non-json, wrong-shape, bad-image, huge-body, "
            "html-5xx, huge-retry-delay, echo-key, hang, drip, close-mid-body.",
        ),
    ] = None,
) -> None:
    """Serve a local emulator of the Gemini API and the GCP APIs that reproduces a failure. Ctrl-C stops it."""
    from gemini_doctor.emulate import banner, open_emulator, scenario_list
    from gemini_doctor.input_error import InputError

    if list_scenarios:
        typer.echo(scenario_list(), nl=False)
        return
    try:
        server, chosen = open_emulator(scenario, host, port, latency_ms, chaos, per_minute)
    except InputError as exc:
        raise fail(str(exc)) from None
    typer.echo(banner(server.url, chosen, host, chaos))
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.socket.close()


@app.command(cls=_Command)
def proxy(
    upstream: Annotated[
        str,
        typer.Option(metavar="URL", help="Where requests go on to: Google's endpoint, or a gateway, or the emulator."),
    ] = "https://generativelanguage.googleapis.com",
    port: PortOption = 8766,
    host: HostOption = "127.0.0.1",
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
        str | None,
        typer.Option(metavar="FILE", help="The JSON body the app means to send: its imageConfig is expected."),
    ] = None,
    log: Annotated[
        str | None, typer.Option(metavar="FILE", help="Append each exchange to this file as a JSON line (redacted).")
    ] = None,
    timeout: Annotated[
        float, typer.Option(metavar="SECONDS", help="Seconds an upstream answer may take.", min=1, max=3600)
    ] = 300,
    fmt: FormatOption = OutputFormat.RICH,
    output: OutputOption = None,
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


@app.command(cls=_Command)
def lint(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="PATHS", help="Files or folders to scan (default: the current folder).", show_default=False
        ),
    ] = None,
    fmt: Annotated[
        LintFormat, typer.Option("--format", "-f", metavar="rich|json|sarif|github|markdown", help="Output format.")
    ] = LintFormat.rich,
    output: OutputOption = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore", metavar="CODE", help="Leave out a code or slug, e.g. GD009 (repeatable or comma-separated)."
        ),
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
        code = run(paths or ["."], fmt.value, output, options, terminal(output))
    except InputError as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(code)


def main() -> None:
    """Entry point: run the app; usage errors and unexpected exceptions become one redacted line, not a traceback."""
    try:
        code = app(standalone_mode=False)
    except typer.Exit as done:
        code = done.exit_code
    except typer.Abort:
        sys.stderr.write("gemini-doctor: aborted\n")
        code = 1
    except typer.TyperException as usage:  # bad flags, unknown options, extra arguments: exit 2
        if type(usage).__name__ == "NoArgsIsHelpError":
            getattr(usage, "show")()  # noqa: B009 - click's NoArgsIsHelpError, not in typer's stubs
            sys.exit(2)
        from gemini_doctor.redact import redact  # here, not above: `--help` and `--version` need no redaction

        message = usage.format_message() if hasattr(usage, "format_message") else str(usage)
        sys.stderr.write(f"gemini-doctor: error: {redact(message)} (see `gemini-doctor --help`)\n")
        code = getattr(usage, "exit_code", 2)
    except KeyboardInterrupt:
        sys.stderr.write("gemini-doctor: interrupted\n")
        code = 130
    except Exception as exc:
        if os.environ.get("GEMINI_DOCTOR_DEBUG"):
            raise
        from gemini_doctor.redact import redact

        sys.stderr.write(
            f"gemini-doctor: internal error: {type(exc).__name__}: {redact(str(exc))[:300]} "
            "(set GEMINI_DOCTOR_DEBUG=1 for the traceback; please report it)\n"
        )
        code = 3
    sys.exit(code if isinstance(code, int) else 0)
