"""Vertex AI's REST API over httpx, held to the Gemini path's rules (one deadline, bodies capped, nothing retried,
no redirect followed), with its own paths and authorisation.

Paths as google-genai builds them: a method call (`…:generateContent`) is scoped to
`projects/{project}/locations/{location}/` unless in express mode (an API key, no project or location); the publisher
model itself is read unscoped (`GET publishers/google/models/{model}`, as google-genai reads base models). Requests
wait for the authorisation (probes/adc.py); with none, nothing is sent and the failure says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gemini_doctor.probes.adc import EXPRESS, LOOPBACK, VertexAuth, adc_auth
from gemini_doctor.probes.gemini import Answer, GeminiProbe, NetworkFailure
from gemini_doctor.probes.limits import Deadline

if TYPE_CHECKING:
    from gemini_doctor.probes.gcp import GcpProbe
    from gemini_doctor.settings import Settings


class NotAuthorised(PermissionError):
    """No credentials for Vertex AI: the request was not sent."""


class VertexProbe(GeminiProbe):
    def __init__(self, settings: Settings, gcp: GcpProbe, deadline: Deadline | None = None):
        super().__init__(settings, deadline)
        self.gcp = gcp
        self.auth: VertexAuth | None = None
        self._auth_task: asyncio.Future[VertexAuth] | None = None

    def authorise(self) -> Awaitable[VertexAuth]:
        """How requests are authorised, found once per run (every request waits for it)."""
        if self._auth_task is None:
            self._auth_task = asyncio.ensure_future(self._authorise())
        return asyncio.shield(self._auth_task)

    async def _authorise(self) -> VertexAuth:
        if self.settings.base_is_local:
            auth = LOOPBACK
        elif self.settings.vertex_express:
            auth = EXPRESS
        else:
            self.gcp.deadline = self.deadline
            auth = await adc_auth(self.gcp)
        self.client.headers.update(auth.headers)
        if auth.secret:
            self.secrets = (*self.secrets, auth.secret)
        self.auth = auth
        return auth

    @property
    def project(self) -> str | None:
        return self.settings.project or (self.auth.project if self.auth else None)

    @staticmethod
    def model_path(model: str, method: str | None = None) -> str:
        """`publishers/google/models/{model}[:method]`, the name quoted; `url` adds the project scope."""
        path = f"publishers/google/models/{quote(model, safe='')}"
        return f"{path}:{method}" if method else path

    def scope(self) -> str:
        """`projects/{p}/locations/{l}/`, or "" in express mode (no project, no location), as google-genai."""
        if not self.project and not self.settings.location:
            return ""
        project, location = quote(self.project or "", safe=""), quote(self.settings.location or "", safe="")
        return f"projects/{project}/locations/{location}/"

    def url(self, path: str) -> str:
        path = path.lstrip("/")
        if ":" in path and not path.startswith("projects/"):
            path = self.scope() + path
        return super().url(path)

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Answer | NetworkFailure:
        return await self._authorised("GET", path, params=params)

    async def post(self, path: str, body: dict[str, Any]) -> Answer | NetworkFailure:
        return await self._authorised("POST", path, json=body)

    async def _authorised(self, method: str, path: str, **kwargs: Any) -> Answer | NetworkFailure:
        auth = await self.authorise()
        url = self.url(path)
        if auth.problem:
            return NetworkFailure(NotAuthorised(f"not sent: {auth.problem}"), url)
        if self.settings.location and not self.project and ":" in path:
            return NetworkFailure(NotAuthorised("not sent: no project (--project or GOOGLE_CLOUD_PROJECT)"), url)
        return await self.request(method, url, **kwargs)
