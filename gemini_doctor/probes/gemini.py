"""The Gemini REST API over httpx: the key in the `x-goog-api-key` header, never in a URL; every call bounded.

A probe never raises for what the server or network did: it returns an Answer or a NetworkFailure, both of which
the classifier can read.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import ssl
from dataclasses import dataclass, field
from typing import Any

from gemini_doctor import __version__
from gemini_doctor.diagnosis.evidence import Evidence, network_evidence, read_http_answer
from gemini_doctor.probes import hidden
from gemini_doctor.probes.limits import ACCEPT_ENCODING, DAEMONS, MAX_BODY_BYTES, BodyDecoder, Deadline, Lull
from gemini_doctor.redact import redact
from gemini_doctor.settings import Settings, is_loopback_http

# httpcore's trio and HTTP/2 support and httpx's own command line: the doctor uses none of them (HTTP/1.1, blocking
# calls in daemon threads; httpx's async client would import anyio's asyncio backend, some 40 ms before any request)
with hidden("trio", "h2", "httpx._main"):
    import httpcore  # noqa: F401  # httpx imports it when the first client is made: here, while trio is hidden
    import httpx

READ_HEAD = 1024 * 1024  # of a cut-off or non-JSON body, what the reader is given: no real answer is larger
_UNPARSED = object()


@dataclass
class Answer:
    status: int
    body: str
    url: str
    truncated: bool = False
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)  # the user's key, masked first
    _parsed: Any = field(default=_UNPARSED, repr=False, compare=False)

    def json(self) -> Any:
        """The body as JSON (parsed once), or None."""
        if self._parsed is _UNPARSED:
            try:
                self._parsed = json.loads(self.body)
            except (json.JSONDecodeError, ValueError, RecursionError):
                self._parsed = None
        return self._parsed

    def evidence(self) -> Evidence:
        body = self.body
        if len(body) > READ_HEAD and (self.truncated or self.json() is None):
            body = body[:READ_HEAD]  # its head says what it is; reading (and redacting) 32 MiB of it says no more
        # The user's own key is masked before the reader sees the body: the reader cuts excerpts, and the report's
        # door could no longer recognise a cut key that has no known shape.
        found = read_http_answer(self.status, redact(body, self.secrets), self.url)
        if self.truncated:
            found.message = (
                f"the answer was larger than {MAX_BODY_BYTES // 1048576} MiB and was cut off there: "
                f"no real Gemini answer is that large (a proxy or a broken server?) {found.message}"
            )
        return found


@dataclass
class NetworkFailure:
    error: BaseException
    url: str

    def evidence(self) -> Evidence:
        return network_evidence(self.error, self.url)


def tls_context(base_url: str) -> ssl.SSLContext | bool:
    """True (httpx's own context: the CA bundle, or SSL_CERT_FILE / SSL_CERT_DIR) for any URL that may use TLS.

    An http:// loopback URL (the emulator) never does, and loading the CA bundle costs about 0.15 s of start-up:
    it gets a client context that verifies certificates and host names but trusts no authority, so that anything
    that did ask it for TLS would fail closed, never connect unverified.
    """
    if not is_loopback_http(base_url):
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname: the defaults of this protocol


class GeminiProbe:
    """One httpx Client per check run; requests are counted so the report can say how many were sent.

    Every request gets what is left of the run's deadline (one `--timeout` for the whole run, not one per call).
    """

    def __init__(self, settings: Settings, deadline: Deadline | None = None):
        self.settings = settings
        self.deadline = deadline or Deadline(settings.timeout)
        headers = {
            "user-agent": f"gemini-doctor/{__version__}",
            "x-goog-api-client": f"gemini-doctor/{__version__}",
            "accept-encoding": ACCEPT_ENCODING,
        }
        if settings.api_key:
            headers["x-goog-api-key"] = settings.api_key.reveal()
        self.client = httpx.Client(
            timeout=httpx.Timeout(settings.timeout),
            headers=headers,
            follow_redirects=False,
            trust_env=True,
            verify=tls_context(settings.base_url),
        )
        self.sent = 0
        self.secrets: tuple[str, ...] = settings.secrets  # masked in every answer before it is read
        self.lull = Lull()  # reached once this probe's first requests are written

    @staticmethod
    def model_path(model: str, method: str | None = None) -> str:
        """`models/{model}[:method]` with the name quoted, so a stray `#` or `/` cannot change the request."""
        from urllib.parse import quote

        path = f"models/{quote(model, safe='')}"
        return f"{path}:{method}" if method else path

    def url(self, path: str) -> str:
        return f"{self.settings.base_url}/{self.settings.api_version}/{path.lstrip('/')}"

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Answer | NetworkFailure:
        return await self.request("GET", self.url(path), params=params)

    async def post(self, path: str, body: dict[str, Any]) -> Answer | NetworkFailure:
        return await self.request("POST", self.url(path), json=body)

    async def request(self, method: str, url: str, **kwargs: Any) -> Answer | NetworkFailure:
        """The request in a daemon thread (httpx's blocking client: no async stack to import before the first
        request), awaited until the run's deadline; a call still going then is left behind, never waited for."""
        left = self.deadline.remaining()
        if left <= 0:  # not sent: the run's timeout is spent
            return NetworkFailure(TimeoutError(self.deadline.spent()), url)
        self.sent += 1
        loop = asyncio.get_running_loop()
        written = self.lull.writing()

        def trace(event: str, info: dict[str, Any]) -> None:  # httpcore's "trace" request extension, in the thread
            if event.endswith(("send_request_body.complete", ".failed")):
                with contextlib.suppress(RuntimeError):  # the run may have ended, its loop closed
                    loop.call_soon_threadsafe(written)

        send = functools.partial(self._send, method, url, extensions={"trace": trace}, **kwargs)
        try:
            return await asyncio.wait_for(loop.run_in_executor(DAEMONS, send), left)
        except (TimeoutError, httpx.HTTPError, OSError, ValueError) as exc:
            if isinstance(exc, asyncio.TimeoutError):
                exc = TimeoutError(self.deadline.spent())
            return NetworkFailure(exc, url)
        finally:
            written()

    def _send(self, method: str, url: str, **kwargs: Any) -> Answer:
        """The body is read raw and decoded here, within the cap at every stage: never `.read()` uncapped."""
        with self.client.stream(method, url, **kwargs) as response:
            decoder = BodyDecoder(response.headers.get("content-encoding", ""))
            for chunk in response.iter_raw():
                if not decoder.feed(chunk):
                    break
            body = decoder.body().decode(response.encoding or "utf-8", errors="replace")
            return Answer(response.status_code, body, str(response.url), decoder.truncated, self.secrets)

    async def close(self) -> None:
        self.client.close()
