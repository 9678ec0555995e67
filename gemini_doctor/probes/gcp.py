"""Google Cloud through its client libraries (REST transport), imported only when a GCP check runs.

Every call passes `retry=None`: the clients' default retry (up to 60 s on 503) would break the doctor's promise of a
handful of requests, each bounded by `--timeout`.

An http:// loopback endpoint (the emulator) gets anonymous credentials; anything else Application Default
Credentials. The calls block, so the checks run them in worker threads, each with the run's timeout.
"""

from __future__ import annotations

from typing import Any

from gemini_doctor.knowledge import SERVICE
from gemini_doctor.settings import Settings

MAX_QUOTA_PAGES = 5  # no retries, and a bounded number of pages: a handful of requests at most


def credentials_ready(settings: Settings) -> str | None:
    """Why GCP calls cannot be made, or None when they can. Never prompts, never reads the key."""
    if settings.gcp_is_local:
        return None
    try:
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError
    except ImportError:
        return "the google-auth package is not installed"
    try:
        google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    except DefaultCredentialsError:
        return "no Application Default Credentials"
    return None


def _client_kwargs(settings: Settings) -> dict[str, Any]:
    from google.api_core.client_options import ClientOptions

    kwargs: dict[str, Any] = {"transport": "rest"}
    if settings.gcp_endpoint:
        kwargs["client_options"] = ClientOptions(api_endpoint=settings.gcp_endpoint)
    if settings.gcp_is_local:
        from google.auth.credentials import AnonymousCredentials

        kwargs["credentials"] = AnonymousCredentials()
    return kwargs


class GcpProbe:
    """The three GCP reads the checks need; blocking (run them in threads), counted, each with the run's timeout."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.sent = 0

    def billing_info(self) -> dict[str, Any]:
        from google.cloud import billing_v1

        self.sent += 1
        client = billing_v1.CloudBillingClient(**_client_kwargs(self.settings))
        info = client.get_project_billing_info(
            name=f"projects/{self.settings.project}", retry=None, timeout=self.settings.timeout
        )
        return {"billing_enabled": bool(info.billing_enabled), "billing_account": info.billing_account_name or None}

    def service_state(self) -> str:
        from google.cloud import service_usage_v1

        self.sent += 1
        client = service_usage_v1.ServiceUsageClient(**_client_kwargs(self.settings))
        name = f"projects/{self.settings.project}/services/{SERVICE}"
        service = client.get_service(request={"name": name}, retry=None, timeout=self.settings.timeout)
        return service_usage_v1.State(service.state).name

    def quota_infos(self) -> list[dict[str, Any]]:
        from google.cloud import cloudquotas_v1

        client = cloudquotas_v1.CloudQuotasClient(**_client_kwargs(self.settings))
        parent = f"projects/{self.settings.project}/locations/global/services/{SERVICE}"
        found = []
        self.sent += 1  # the first page
        pager = client.list_quota_infos(parent=parent, retry=None, timeout=self.settings.timeout)
        for number, page in enumerate(pager.pages, 1):
            if number > 1:
                self.sent += 1
            for info in page.quota_infos:
                for dimensions in info.dimensions_infos:
                    found.append(
                        {
                            "quota_id": info.quota_id,
                            "metric": info.metric,
                            "refresh": info.refresh_interval,
                            "dimensions": dict(dimensions.dimensions),
                            "value": int(dimensions.details.value),
                        }
                    )
            if number >= MAX_QUOTA_PAGES:
                break
        return found


def describe_gcp_error(error: BaseException) -> str:
    """One line for a failed GCP call, with the role that usually fixes a 403."""
    detail = str(error).strip() or "no answer in time"
    text = f"{type(error).__name__}: {detail}".splitlines()[0][:300]
    if "403" in text or "PermissionDenied" in text or "Forbidden" in text:
        text += " (the caller needs roles/viewer, or the specific viewer role of that API)"
    return text
