"""The HTTP under the Google Cloud clients, held to the Gemini path's rules.

The google-cloud clients (REST transport) send through a requests `AuthorizedSession`. The doctor bounds it so
that its adapter follows no redirect (a 3xx is an error, not a page to parse), reads the body raw and decodes it
within the 32 MiB cap as it arrives, gives every call what is left of the run's deadline, and spends from a
request budget shared by the run: past it nothing is sent. Token refreshes and the metadata-server probe go
through the same adapter with a small budget of their own; a 401 is never answered by a second try.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters
from google.auth.transport.requests import AuthorizedSession, Request

from gemini_doctor.probes.limits import ACCEPT_ENCODING, MAX_BODY_BYTES, BodyDecoder, Budget, Deadline, DecodingError

READ_SIZE = 65536
METADATA_HOSTS = {"169.254.169.254", "metadata.google.internal", "metadata", "fd00:ec2::254"}
PRODUCT_NAME = "/sys/class/dmi/id/product_name"


class AnswerTooLarge(requests.exceptions.RequestException):
    """The decoded body passed the cap: the answer was dropped, not parsed."""


class RedirectRefused(requests.exceptions.RequestException):
    """A 3xx: the doctor follows no redirect."""


class NotOnGoogleCloud(Exception):
    """Not on Compute Engine, so the metadata server is not asked (and google.auth does not retry it)."""


class BoundedAdapter(requests.adapters.HTTPAdapter):
    """No retry, no redirect, the deadline on every read, the body decoded within the cap."""

    def __init__(self, deadline: Deadline, budget: Budget):
        super().__init__(max_retries=0)
        self.deadline = deadline
        self.budget = budget

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, **kwargs: Any
    ):
        left = self.deadline.remaining()
        if left <= 0:
            raise requests.exceptions.Timeout(f"not sent: {self.deadline.spent()}")
        self.budget.spend()
        request.headers["Accept-Encoding"] = ACCEPT_ENCODING
        response = super().send(request, stream=True, timeout=(left, left), **kwargs)
        try:
            if 300 <= response.status_code < 400:
                where = response.headers.get("location", "nowhere")
                raise RedirectRefused(
                    f"HTTP {response.status_code} redirect to {where}: the doctor follows no redirect",
                    response=response,
                )
            response._content = read_capped(response.raw, self.deadline)  # requests' own slot for a read body
        finally:
            response.close()
        return response


def read_capped(raw: Any, deadline: Deadline) -> bytes:
    """The body of a urllib3 response, read raw a chunk at a time (read1: no waiting for a full chunk) and
    decoded within the cap; the deadline is checked between chunks."""
    decoder = BodyDecoder(raw.headers.get("content-encoding", ""))
    while True:
        if deadline.remaining() <= 0:
            raise requests.exceptions.Timeout(deadline.spent())
        chunk = raw.read1(READ_SIZE, decode_content=False)
        if not chunk:
            return decoder.body()
        try:
            more = decoder.feed(chunk)
        except DecodingError as exc:
            raise requests.exceptions.ContentDecodingError(str(exc)) from None
        if not more:
            raise AnswerTooLarge(
                f"the answer is larger than {MAX_BODY_BYTES // 1048576} MiB decoded and was dropped: "
                "no real Google Cloud answer is that large (a proxy or a broken server?)"
            )


def bounded(session: requests.Session, deadline: Deadline, budget: Budget) -> requests.Session:
    adapter = BoundedAdapter(deadline, budget)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.max_redirects = 0
    return session


class BoundedRequest(Request):
    """google.auth's transport for token refreshes and the metadata probe: the deadline on every call, and the
    metadata server left alone off Google Cloud (google.auth would otherwise try it three times, with back-off)."""

    def __init__(self, deadline: Deadline, budget: Budget, metadata_allowed: bool):
        super().__init__(bounded(requests.Session(), deadline, budget))
        self.deadline = deadline
        self.metadata_allowed = metadata_allowed

    def __call__(self, url: str, method: str = "GET", body: Any = None, headers: Any = None, timeout: Any = None, **kw):
        if not self.metadata_allowed and urlsplit(url).hostname in metadata_hosts():
            raise NotOnGoogleCloud("not on Google Cloud: the metadata server was not asked")
        left = self.deadline.remaining()
        limit = min(float(timeout), left) if isinstance(timeout, int | float) else left
        return super().__call__(url, method=method, body=body, headers=headers, timeout=max(limit, 0.001), **kw)


def metadata_hosts() -> set[str]:
    hosts = set(METADATA_HOSTS)
    for name in ("GCE_METADATA_HOST", "GCE_METADATA_IP", "GCE_METADATA_ROOT"):
        if os.environ.get(name):
            hosts.add(urlsplit(f"http://{os.environ[name]}").hostname or "")
    return hosts


def metadata_allowed() -> bool:
    """On Compute Engine (its product name says Google), or told where a metadata server is."""
    if any(os.environ.get(name) for name in ("GCE_METADATA_HOST", "GCE_METADATA_IP", "GCE_METADATA_ROOT")):
        return True
    try:
        with open(PRODUCT_NAME, encoding="utf-8") as handle:
            return handle.read(64).strip().startswith("Google")
    except OSError:
        return False


def install(client: Any, deadline: Deadline, budget: Budget, auth: BoundedRequest) -> Any:
    """Bound a google-cloud REST client's session in place (its transport keys its wrapped methods by that very
    object, so it cannot be swapped): our adapter, no redirect, no refresh-and-retry on a 401, and token
    refreshes through the bounded `auth` instead of the session's own retrying one."""
    session: AuthorizedSession = client.transport._session
    bounded(session, deadline, budget)
    session._max_refresh_attempts = 0
    if session._auth_request_session is not None:
        session._auth_request_session.close()
    session._auth_request = auth
    return client
