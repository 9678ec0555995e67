"""Google Cloud through its client libraries (REST transport), imported only when a GCP check runs.

The same bounds as the Gemini path: every call passes `retry=None` (the clients' default retry would send dozens
of requests on a 503), and runs over the bounded session of `gcp_http` (no redirect, the body capped as it is
decoded, at most MAX_REQUESTS requests to Google Cloud per run, no refresh-and-retry on 401). The calls block, so
they run in daemon threads that the run stops waiting for at its deadline: a server that drips, or a metadata
server that never answers, cannot keep the process alive past `--timeout`.

An http:// loopback endpoint (the emulator) gets anonymous credentials; anything else Application Default
Credentials, looked for once per run, within the deadline, and without asking the metadata server off Google Cloud.

Google's libraries are imported once the first Gemini requests are written (`limits.Lull`), not before (start-up
that overlaps the network wait): by one thread at a time, only what a call about to be made needs, and the time
it takes is added to the run's deadline, so no server is given less time for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gemini_doctor.backend import service_name
from gemini_doctor.knowledge import SERVICE
from gemini_doctor.probes import hidden
from gemini_doctor.probes.limits import DAEMONS, Budget, Deadline, Lull
from gemini_doctor.redact import clip, redact
from gemini_doctor.settings import Settings

MAX_REQUESTS = 3  # billing, Service Usage, one page of Cloud Quotas: the README's promise
MAX_AUTH_REQUESTS = 3  # a metadata ping, a project lookup, one token
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
MAX_CREDENTIALS_FILE = 1024 * 1024

T = TypeVar("T")


# What finding credentials needs (google-auth, and requests under the bounded transport), and what each read needs.
AUTH_MODULES = ("google.auth", "google.auth.credentials", "google.auth.exceptions", "gemini_doctor.probes.gcp_http")
CLIENT_MODULES = {
    "billing": ("google.api_core.client_options", "google.cloud.billing_v1"),
    "service": ("google.api_core.client_options", "google.cloud.service_usage_v1"),
    "quotas": ("google.api_core.client_options", "google.cloud.cloudquotas_v1"),
}
# google-api-core's long-running operations import google-auth's asyncio session when it is there, and with it
# aiohttp (about 0.3 s of start-up, and SSL contexts built at import): only asyncio REST clients use it, and the
# doctor's clients are synchronous.
ASYNC_ONLY = ("google.auth.aio.transport.sessions",)
_IMPORTING = threading.Lock()


def import_google(modules: tuple[str, ...], deadline: Deadline) -> None:
    """Import Google's libraries (a no-op once they are), one thread at a time: two threads importing the same
    package tree at once can each be handed the other's half-made modules. The time it took is start-up, not time
    any server is given: the run's deadline moves on by as much. Imports only what a call about to be made needs,
    so a run that finds no credentials imports no client. ImportError is the caller's to report."""
    if all(name in sys.modules for name in modules):
        return
    with _IMPORTING, hidden(*ASYNC_ONLY):
        start = time.monotonic()
        try:
            for name in modules:
                importlib.import_module(name)
        finally:
            deadline.extend(time.monotonic() - start)


def find_credentials(settings: Settings, request: Any) -> tuple[Any, str | None, str | None]:
    """(credentials, ADC's project, None), or (None, None, why GCP calls cannot be made). Never prompts, never
    reads the API key."""
    if settings.gcp_is_local:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials(), None, None
    try:
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError
    except ImportError:
        return None, None, "the google-auth package is not installed"
    problem = _credentials_file_problem()
    if problem:
        return None, None, problem
    from gemini_doctor.probes.gcp_http import NotOnGoogleCloud

    try:
        credentials, project = google.auth.default(scopes=SCOPES, request=request)
    except (DefaultCredentialsError, NotOnGoogleCloud):
        return None, None, "no Application Default Credentials"
    except Exception as exc:  # a broken ADC file, a metadata server answering nonsense: said, not raised
        return None, None, f"Application Default Credentials could not be read: {describe_gcp_error(exc)}"
    return credentials, project, None


def _credentials_file_problem() -> str | None:
    """GOOGLE_APPLICATION_CREDENTIALS naming a folder, a device or a huge file is refused before it is read."""
    path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not path:
        return None
    if not os.path.isfile(path):
        return f"GOOGLE_APPLICATION_CREDENTIALS={path} is not a regular file"
    if os.path.getsize(path) > MAX_CREDENTIALS_FILE:
        return f"GOOGLE_APPLICATION_CREDENTIALS={path} is larger than 1 MiB: not a credentials file"
    return None


def _client_kwargs(settings: Settings, credentials: Any) -> dict[str, Any]:
    from google.api_core.client_options import ClientOptions

    kwargs: dict[str, Any] = {"transport": "rest", "credentials": credentials}
    if settings.gcp_endpoint:
        kwargs["client_options"] = ClientOptions(api_endpoint=settings.gcp_endpoint)
    return kwargs


async def in_daemon_thread(work: Callable[[], T], deadline: Deadline) -> T:
    """`work()` in a daemon thread, waited for until the deadline only: a stuck call is left behind (it holds no
    lock the run needs, and a daemon thread does not keep the process alive), never waited for."""
    call = asyncio.get_running_loop().run_in_executor(DAEMONS, work)
    try:
        return await asyncio.wait_for(call, deadline.remaining())
    except TimeoutError:
        raise TimeoutError(deadline.spent()) from None


@dataclass
class QuotaListing:
    entries: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True  # False: Cloud Quotas had more pages than the request budget allowed


class GcpProbe:
    """The three GCP reads the checks need, each awaited until the run's deadline, all within one request budget."""

    def __init__(self, settings: Settings, deadline: Deadline | None = None):
        self.settings = settings
        self.deadline = deadline or Deadline(settings.timeout)
        self.budget = Budget(MAX_REQUESTS, "Google Cloud")
        self.auth_budget = Budget(MAX_AUTH_REQUESTS, "Google's sign-in and metadata servers")
        self.credentials: Any = None
        self.adc_project: str | None = None  # the project ADC names (google-genai's fallback under Vertex AI)
        self.service = service_name() if settings.vertex else SERVICE  # whose state and quotas are read
        self._auth: Any = None
        self._lock = threading.Lock()
        self._ready: asyncio.Future[str | None] | None = None
        self.lull: Lull | None = None  # when set, Google's libraries are imported once it is reached

    @property
    def sent(self) -> int:
        return self.budget.sent

    @property
    def auth(self) -> Any:
        """google.auth's transport for tokens and the metadata probe, bounded like the rest (built on first use:
        requests and google.auth are imported only by a run that talks to Google Cloud)."""
        with self._lock:
            if self._auth is None:
                from gemini_doctor.probes import gcp_http

                allowed = gcp_http.metadata_allowed()
                self._auth = gcp_http.BoundedRequest(self.deadline, self.auth_budget, metadata_allowed=allowed)
            return self._auth

    def credentials_problem(self) -> Awaitable[str | None]:
        """Why GCP calls cannot be made, or None; looked for once, in a daemon thread, within the deadline."""
        if self._ready is None:
            self._ready = asyncio.ensure_future(self._find_credentials())
        return self._ready

    async def _imported(self, modules: tuple[str, ...]) -> None:
        """`import_google` in a daemon thread, waited for whatever the deadline says (it moves the deadline on)."""
        await asyncio.get_running_loop().run_in_executor(DAEMONS, import_google, modules, self.deadline)

    async def _find_credentials(self) -> str | None:
        if self.lull is not None:  # time spent waiting for it is no server's: the deadline moves on by as much
            start = time.monotonic()
            await self.lull.wait()
            self.deadline.extend(time.monotonic() - start)
        with contextlib.suppress(ImportError):  # a missing google-auth is said by find_credentials
            await self._imported(AUTH_MODULES)
        try:
            self.credentials, self.adc_project, problem = await in_daemon_thread(
                lambda: find_credentials(self.settings, self.auth), self.deadline
            )
        except TimeoutError:
            return (
                f"no Application Default Credentials found within the {self.deadline.seconds:g} s timeout "
                "(a metadata server that does not answer?)"
            )
        return problem

    def _client(self, make: Callable[..., T]) -> T:
        from gemini_doctor.probes import gcp_http

        client = make(**_client_kwargs(self.settings, self.credentials))
        return gcp_http.install(client, self.deadline, self.budget, self.auth)

    async def billing_info(self) -> dict[str, Any]:
        await self._imported(CLIENT_MODULES["billing"])
        return await in_daemon_thread(self._billing_info, self.deadline)

    async def service_state(self) -> str:
        await self._imported(CLIENT_MODULES["service"])
        return await in_daemon_thread(self._service_state, self.deadline)

    async def quota_infos(self) -> QuotaListing:
        await self._imported(CLIENT_MODULES["quotas"])
        return await in_daemon_thread(self._quota_infos, self.deadline)

    def _billing_info(self) -> dict[str, Any]:
        from google.cloud import billing_v1

        client = self._client(billing_v1.CloudBillingClient)
        info = client.get_project_billing_info(
            name=f"projects/{self.settings.project}", retry=None, timeout=self.deadline.remaining()
        )
        return {"billing_enabled": bool(info.billing_enabled), "billing_account": info.billing_account_name or None}

    def _service_state(self) -> str:
        from google.cloud import service_usage_v1

        client = self._client(service_usage_v1.ServiceUsageClient)
        name = f"projects/{self.settings.project}/services/{self.service}"
        service = client.get_service(request={"name": name}, retry=None, timeout=self.deadline.remaining())
        return service_usage_v1.State(service.state).name

    def _quota_infos(self) -> QuotaListing:
        """The first page only: a second would pass the budget of MAX_REQUESTS; the listing says so."""
        from google.cloud import cloudquotas_v1

        client = self._client(cloudquotas_v1.CloudQuotasClient)
        parent = f"projects/{self.settings.project}/locations/global/services/{self.service}"
        page = client.list_quota_infos(parent=parent, retry=None, timeout=self.deadline.remaining())
        listing = QuotaListing(complete=not page.next_page_token)
        for info in page.quota_infos:  # this page's entries: iterating the pager itself would fetch the next
            for dimensions in info.dimensions_infos:
                listing.entries.append(
                    {
                        "quota_id": info.quota_id,
                        "metric": info.metric,
                        "refresh": info.refresh_interval,
                        "dimensions": dict(dimensions.dimensions),
                        "value": int(dimensions.details.value),
                    }
                )
        return listing


def describe_gcp_error(error: BaseException) -> str:
    """One line for a failed GCP call, redacted before it is cut, with the role that usually fixes a 403."""
    detail = str(error).strip() or "no answer in time"
    whole = redact(f"{type(error).__name__}: {detail}")  # before any cut: a cut key is no longer key-shaped
    text = clip(whole.splitlines()[0], 300)
    if "403" in text or "PermissionDenied" in text or "Forbidden" in text:
        text += " (the caller needs roles/viewer, or the specific viewer role of that API)"
    return text
