"""`gemini-doctor proxy`: a local forwarding proxy that shows what really reaches Google and diagnoses live traffic.

An app, an SDK or a gateway points its Gemini base URL at it; every request is forwarded unchanged to the upstream
(Google's endpoint by default), every exchange recorded (redacted: no key, no image data) and diagnosed with the
classifier `explain` uses, plus what only the wire can prove (see watch.py). Ctrl-C ends it with a report.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field
from typing import IO, Any

from gemini_doctor.input_error import InputError

DEFAULT_UPSTREAM = "https://generativelanguage.googleapis.com"


@dataclass
class ProxyOptions:
    upstream: str = DEFAULT_UPSTREAM
    host: str = "127.0.0.1"
    port: int = 8766
    expect: list[str] = field(default_factory=list)
    request: dict[str, Any] | None = None
    log: str | None = None
    timeout: float = 300.0
    live: bool = False


def serve(options: ProxyOptions, announce: IO[str] = sys.stderr) -> dict[str, Any]:
    """Serve until Ctrl-C (or SIGTERM); return the report document."""
    from gemini_doctor.proxy.session import ProxyServer, Session
    from gemini_doctor.proxy.upstream import UnsupportedProxy
    from gemini_doctor.proxy.view import View
    from gemini_doctor.proxy.watch import Expectation, Watcher
    from gemini_doctor.settings import _validate_url

    _validate_url(options.upstream, "--upstream")
    try:
        expectation = Expectation.parse(options.expect, options.request)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    watcher = Watcher(expectation, upstream=options.upstream)
    with _log_file(options.log) as log:
        view = View(live=options.live, stream=announce)
        session = Session(options.upstream, log=log, show=view.show)
        try:
            server = ProxyServer(options.upstream, watcher, session, options.host, options.port, options.timeout)
        except UnsupportedProxy as exc:
            raise InputError(str(exc)) from None
        except OSError as exc:
            hint = "; pass --port 0 for a free one" if exc.errno in (98, 48, 10048) else ""
            raise InputError(f"cannot listen on {options.host}:{options.port} ({exc.strerror or exc}){hint}") from None
        announce.write(_banner(server.url, options) + "\n")
        announce.flush()
        with view, contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
        server.socket.close()
    return session.document(watcher)


def _banner(url: str, options: ProxyOptions) -> str:
    lines = [
        f"gemini-doctor proxy · forwarding {url} → {options.upstream}",
        f"  your app:  GOOGLE_GEMINI_BASE_URL={url} (the app's own key passes through; none is added or kept)",
        f"  OpenAI SDK / LiteLLM: base URL {url}/v1beta/openai/",
    ]
    if options.expect:
        lines.append(f"  expecting: {', '.join(options.expect)}")
    if options.log:
        lines.append(f"  log:       {options.log} (JSON lines, redacted)")
    if options.host not in ("127.0.0.1", "localhost", "::1"):
        lines.append(f"  warning: listening on {options.host}, reachable from other machines")
    lines.append("  Ctrl-C stops it and prints the report.")
    return "\n".join(lines)


@contextlib.contextmanager
def _log_file(path: str | None):
    if path is None:
        yield None
        return
    try:
        handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed below, after the server stops
    except OSError as exc:
        raise InputError(f"cannot write the log {path!r} ({exc.strerror or exc})") from None
    try:
        yield handle
    finally:
        handle.close()
