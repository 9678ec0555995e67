"""How Vertex AI requests are authorised: Application Default Credentials' bearer token, an API key in express mode,
or nothing for a loopback server (the emulator).

The credentials are the ones the Google Cloud path finds (probes/gcp.py: looked for once per run, in a daemon thread,
within the run's deadline, the metadata server never asked off Google Cloud). The token is fetched through the same
bounded transport and its small request budget, never retried. google-auth is imported only here and in gcp.py,
only on a run that needs it; the loopback path imports none of it and sends nothing to find credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gemini_doctor.probes.gcp import describe_gcp_error, in_daemon_thread

if TYPE_CHECKING:
    from gemini_doctor.probes.gcp import GcpProbe

ADC_FIX = "gcloud auth application-default login"


@dataclass(frozen=True)
class VertexAuth:
    """What to add to each request, and what the report may say about it (never the token itself)."""

    source: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    secret: str | None = field(default=None, repr=False)  # the token: masked in every answer and the report
    project: str | None = None  # the project ADC names, google-genai's fallback when none is set
    problem: str | None = None  # why no request can be authorised


# A loopback server (the emulator) is sent a placeholder, never a real token: no credentials are looked for.
LOOPBACK = VertexAuth(
    "a placeholder token: a loopback server (the emulator) is sent no real credentials",
    {"authorization": "Bearer emulated-token"},
)
EXPRESS = VertexAuth("the API key in x-goog-api-key (Vertex AI express mode)")


def _token_headers(credentials: Any, request: Any) -> tuple[dict[str, str], str | None]:
    """A fresh token and the headers that carry it (Authorization, and x-goog-user-project when ADC names one)."""
    from google.auth.credentials import AnonymousCredentials

    if credentials is None or isinstance(credentials, AnonymousCredentials):
        raise PermissionError("anonymous credentials cannot call Vertex AI")
    credentials.refresh(request)
    headers: dict[str, str] = {}
    credentials.apply(headers)
    return headers, getattr(credentials, "token", None)


def credentials_kind(credentials: Any) -> str:
    """The kind of ADC, as `gcloud` names it, for the report: never its contents."""
    module = type(credentials).__module__
    kinds = {
        "google.oauth2.credentials": "authorized_user (gcloud auth application-default login)",
        "google.oauth2.service_account": "service_account",
        "google.auth.compute_engine.credentials": "the metadata server (Google Cloud)",
        "google.auth.external_account": "external_account (workload identity federation)",
        "google.auth.impersonated_credentials": "impersonated_service_account",
    }
    return kinds.get(module, type(credentials).__name__)


async def adc_auth(gcp: GcpProbe) -> VertexAuth:
    """Application Default Credentials' headers, or the reason there are none (said, never raised)."""
    problem = await gcp.credentials_problem()
    if problem:
        return VertexAuth("Application Default Credentials", problem=problem)
    kind = credentials_kind(gcp.credentials)
    try:
        headers, token = await in_daemon_thread(lambda: _token_headers(gcp.credentials, gcp.auth), gcp.deadline)
    except TimeoutError:
        problem = f"no access token within the {gcp.deadline.seconds:g} s timeout"
    except Exception as exc:  # a revoked refresh token, a token server answering nonsense: said, not raised
        problem = f"the {kind} credentials gave no access token: {describe_gcp_error(exc)}"
    if problem:
        return VertexAuth(f"Application Default Credentials ({kind})", problem=problem)
    return VertexAuth(f"Application Default Credentials ({kind})", headers, token, gcp.adc_project)
