"""The Vertex AI backend's units: the backend choice and target as google-genai itself decides them (its client is
built with the same environment and compared), hosts, the locations table, and the authorisation paths."""

from __future__ import annotations

import asyncio
import http.server
import json
import sys
import threading
from typing import ClassVar

import pytest

from gemini_doctor.backend import (
    Backend,
    choose_backend,
    known_locations,
    location_problem,
    model_served,
    vertex_api_version,
    vertex_host,
    vertex_target,
)


@pytest.mark.parametrize(
    ("environ", "flag", "expected", "source"),
    [
        ({}, None, Backend.GEMINI, "default"),
        ({"GOOGLE_GENAI_USE_VERTEXAI": "true"}, None, Backend.VERTEX, "GOOGLE_GENAI_USE_VERTEXAI"),
        ({"GOOGLE_GENAI_USE_VERTEXAI": "1"}, None, Backend.VERTEX, "GOOGLE_GENAI_USE_VERTEXAI"),
        ({"GOOGLE_GENAI_USE_VERTEXAI": "TRUE"}, None, Backend.VERTEX, "GOOGLE_GENAI_USE_VERTEXAI"),
        ({"GOOGLE_GENAI_USE_VERTEXAI": "yes"}, None, Backend.GEMINI, "GOOGLE_GENAI_USE_VERTEXAI"),
        ({"GOOGLE_GENAI_USE_VERTEXAI": "false"}, None, Backend.GEMINI, "GOOGLE_GENAI_USE_VERTEXAI"),
        (
            {"GOOGLE_GENAI_USE_VERTEXAI": "true", "GOOGLE_GENAI_USE_ENTERPRISE": "false"},
            None,
            Backend.GEMINI,
            "GOOGLE_GENAI_USE_ENTERPRISE",
        ),
        ({"GOOGLE_GENAI_USE_VERTEXAI": "true"}, "gemini", Backend.GEMINI, "--backend"),
        ({}, "vertex", Backend.VERTEX, "--backend"),
    ],
)
def test_the_backend_is_chosen_as_google_genai_chooses_it_and_the_flag_wins(environ, flag, expected, source):
    choice = choose_backend(flag, environ)
    assert (choice.backend, choice.source) == (expected, source)


def _genai_client(monkeypatch, environ: dict[str, str]):
    """google-genai's own client built from this environment alone (vertexai left to the variables)."""
    import warnings

    from google.genai import _api_client

    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _api_client.BaseApiClient()


GENAI_CASES = [
    {"GOOGLE_GENAI_USE_VERTEXAI": "true", "GOOGLE_CLOUD_PROJECT": "p-1", "GOOGLE_CLOUD_LOCATION": "us-central1"},
    {"GOOGLE_GENAI_USE_VERTEXAI": "true", "GOOGLE_CLOUD_PROJECT": "p-1"},
    {"GOOGLE_GENAI_USE_VERTEXAI": "true", "GOOGLE_CLOUD_PROJECT": "p-1", "GOOGLE_CLOUD_LOCATION": "eu"},
    {"GOOGLE_GENAI_USE_VERTEXAI": "1", "GOOGLE_API_KEY": "AQ.express-key-000"},
    {
        "GOOGLE_GENAI_USE_VERTEXAI": "true",
        "GOOGLE_CLOUD_PROJECT": "p-1",
        "GOOGLE_CLOUD_LOCATION": "europe-west4",
        "GEMINI_API_KEY": "AQ.env-key-000",
        "GOOGLE_GENAI_API_VERSION": "v1",
    },
]


@pytest.mark.parametrize("environ", GENAI_CASES)
def test_project_location_key_host_and_version_match_google_genai(monkeypatch, environ):
    client = _genai_client(monkeypatch, environ)
    has_key = bool(environ.get("GOOGLE_API_KEY") or environ.get("GEMINI_API_KEY"))
    project, location = environ.get("GOOGLE_CLOUD_PROJECT"), environ.get("GOOGLE_CLOUD_LOCATION")
    target = vertex_target(project, location, explicit_place=False, has_key=has_key, explicit_key=False)
    assert (target.project, target.location) == (client.project, client.location)
    assert target.keep_key == bool(client.api_key)
    assert client._http_options.base_url == f"https://{vertex_host(target.location)}/"
    assert client._http_options.api_version == vertex_api_version(environ)


def test_explicit_arguments_beat_the_environment_as_in_google_genai(monkeypatch):
    """A key given as a flag beats the environment's project (express); a project flag beats the environment's key;
    both given as flags are both kept. The same three with google-genai's own client."""
    from google.genai import _api_client

    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    cases = [
        ({"GOOGLE_CLOUD_PROJECT": "p-1", "GOOGLE_CLOUD_LOCATION": "us-central1"}, {"api_key": "AQ.flag-key"}),
        ({"GEMINI_API_KEY": "AQ.env-key"}, {"project": "p-2"}),
        ({}, {"project": "p-3", "location": "europe-west4", "api_key": "AQ.flag-key"}),
    ]
    for environ, explicit in cases:
        with monkeypatch.context() as patch:
            for name, value in environ.items():
                patch.setenv(name, value)
            client = _api_client.BaseApiClient(**explicit)
        project = explicit.get("project") or environ.get("GOOGLE_CLOUD_PROJECT")
        location = explicit.get("location") or environ.get("GOOGLE_CLOUD_LOCATION")
        has_key = bool(explicit.get("api_key") or environ.get("GEMINI_API_KEY"))
        place = bool(explicit.get("project") or explicit.get("location"))
        target = vertex_target(project, location, place, has_key, explicit_key="api_key" in explicit)
        ours = (target.project, target.location, target.keep_key)
        assert ours == (client.project, client.location, bool(client.api_key))


def test_hosts_for_global_multi_region_and_region():
    assert vertex_host("global") == "aiplatform.googleapis.com"
    assert vertex_host(None) == "aiplatform.googleapis.com"
    assert vertex_host("us") == "aiplatform.us.rep.googleapis.com"
    assert vertex_host("asia-northeast1") == "asia-northeast1-aiplatform.googleapis.com"


def test_an_unlisted_location_is_named_with_the_closest_listed_ones():
    assert location_problem("us-central1") is None and location_problem("global") is None
    problem = location_problem("us-central1-a")  # a zone, not a region
    assert problem is not None and "us-central1" in problem
    assert location_problem("mars-north1") is not None
    assert len(set(known_locations())) == len(known_locations())


def test_which_models_a_location_serves_comes_from_the_table_or_is_left_open():
    assert model_served("gemini-3-pro-image-preview", "us-central1", preview=True).served is False
    assert model_served("gemini-3-pro-image-preview", "global", preview=True).served is True
    assert model_served("gemini-2.5-flash-image", "us-central1", preview=False).served is True
    assert model_served("gemini-2.5-flash-image", "asia-south1", preview=False).served is None  # not judged
    assert model_served("some-preview-image", "europe-west4", preview=True).served is False
    assert model_served("some-ga-image", "europe-west4", preview=False).served is None
    assert "https://" in model_served("gemini-3-pro-image-preview", "global", preview=True).source


LOOPBACK_RUN = """
import asyncio, sys
from types import SimpleNamespace
from gemini_doctor.probes.adc import LOOPBACK
from gemini_doctor.probes.vertex import VertexProbe

settings = SimpleNamespace(
    api_key=None, secrets=(), timeout=5.0, base_url="http://127.0.0.1:1", api_version="v1beta1",
    base_is_local=True, vertex_express=False, project="p", location="global",
)

async def go():
    probe = VertexProbe(settings, gcp=None)
    try:
        return await probe.authorise(), probe.url(probe.model_path("m", "generateContent")), probe.sent
    finally:
        await probe.close()

auth, url, sent = asyncio.run(go())
assert auth is LOOPBACK and sent == 0, (auth, sent)
print(url)
print(sorted(name for name in sys.modules if name.startswith("google.auth")))
"""


def test_the_loopback_authorisation_imports_no_google_auth_and_sends_nothing():
    """The --emulator path: the probe authorises without google-auth and without a request."""
    import subprocess

    from tests.conftest import doctor_env

    result = subprocess.run([sys.executable, "-c", LOOPBACK_RUN], capture_output=True, text=True, env=doctor_env())
    assert result.returncode == 0, result.stderr
    url, imported = result.stdout.splitlines()
    assert url == "http://127.0.0.1:1/v1beta1/projects/p/locations/global/publishers/google/models/m:generateContent"
    assert imported == "[]"


TOKEN = "tok-0123456789abcdef-not-key-shaped"  # no known token shape: only the run's own secrets can mask it


class _Google(http.server.BaseHTTPRequestHandler):
    """A token endpoint and a Vertex route on loopback; the route echoes the Authorization it got."""

    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path == "/token":
            body = {"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"}
            status = 200
        else:
            self.seen.append(f"{self.path} {self.headers.get('authorization')}")
            echoed = f"Permission denied for {self.headers.get('authorization')}"
            body, status = {"error": {"code": 403, "status": "PERMISSION_DENIED", "message": echoed}}, 403
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def _service_account(token_uri: str) -> dict[str, str]:
    """A service-account key of a fresh RSA key (google-auth honours a service account's token_uri; an
    authorized_user file's it always replaces with Google's)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return {
        "type": "service_account",
        "project_id": "adc-project",
        "private_key_id": "0",
        "private_key": pem.decode(),
        "client_email": "doctor@adc-project.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }


def test_adc_gives_a_bearer_token_through_the_bounded_transport_and_the_token_never_shows(tmp_path, monkeypatch):
    """Real google-auth (a service-account ADC file whose token endpoint is on loopback): one token request within
    the auth budget, ADC's project used when none was set (as google-genai does), the token in the Authorization
    header of the Vertex request, and masked in what the server echoes back."""
    from types import SimpleNamespace

    from gemini_doctor.probes.gcp import GcpProbe
    from gemini_doctor.probes.vertex import VertexProbe

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Google)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    adc = tmp_path / "adc.json"
    adc.write_text(json.dumps(_service_account(f"{url}/token")))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    settings = SimpleNamespace(
        api_key=None, secrets=(), timeout=10.0, base_url=url, api_version="v1beta1", gcp_endpoint=None,
        gcp_is_local=False, base_is_local=False, vertex=True, vertex_express=False, project=None, location="global",
    )  # fmt: skip

    async def go():
        probe = VertexProbe(settings, GcpProbe(settings))  # type: ignore[arg-type]
        try:
            answer = await probe.post(probe.model_path("m", "generateContent"), {"contents": []})
            return probe, answer
        finally:
            await probe.close()

    try:
        probe, answer = asyncio.run(go())
    finally:
        server.shutdown()
    path = "/v1beta1/projects/adc-project/locations/global/publishers/google/models/m:generateContent"
    assert _Google.seen == [f"{path} Bearer {TOKEN}"], probe.auth
    assert probe.auth.source == "Application Default Credentials (service_account)"
    assert probe.gcp.auth_budget.sent == 1 and probe.sent == 1
    assert answer.status == 403 and TOKEN in answer.body
    assert TOKEN not in answer.evidence().message and TOKEN not in repr(probe.auth)


def test_gemini_base_url_under_an_environment_chosen_vertex_is_said_as_google_genai_uses_it(monkeypatch, tmp_path):
    """google-genai's Client() with only GOOGLE_GENAI_USE_VERTEXAI sends Vertex requests to GOOGLE_GEMINI_BASE_URL
    (vertexai=True reads GOOGLE_VERTEX_BASE_URL): the doctor checks the Vertex host and says so."""
    from google import genai

    from gemini_doctor.settings import resolve

    environ = {
        "GOOGLE_GENAI_USE_VERTEXAI": "true",
        "GOOGLE_CLOUD_PROJECT": "p",
        "GOOGLE_GEMINI_BASE_URL": "https://gemini-gateway.example",
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert genai.Client()._api_client._http_options.base_url == "https://gemini-gateway.example"
    settings = resolve({}, environ, tmp_path)
    assert settings.base_url == "https://aiplatform.googleapis.com"
    assert any("GOOGLE_GEMINI_BASE_URL is set" in note for note in settings.notes)
    assert not any("GOOGLE_GEMINI_BASE_URL" in note for note in resolve({"backend": "vertex"}, environ, tmp_path).notes)


def test_the_per_base_model_quota_that_applies_here_and_none_is_dynamic_shared_quota():
    """The model's own entry at this location wins over the default; a 0 there is a refusal before any call."""
    from types import SimpleNamespace

    from gemini_doctor.checks.vertex_steps import base_model_quotas, quota_judgement

    metric = "aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model"
    regional = "GenerateContentRequestsPerMinutePerProjectPerRegionPerBaseModel"

    def entry(value: int, **dimensions: str) -> dict:
        return {"quota_id": regional, "metric": metric, "refresh": "minute", "dimensions": dimensions, "value": value}

    entries = [entry(0, base_model="m", region="us-central1"), entry(60), entry(7, base_model="m", region="eu")]
    assert [q["value"] for q in base_model_quotas(entries, "m", "us-central1")] == [0]
    assert [q["value"] for q in base_model_quotas(entries, "other", "us-central1")] == [60]
    settings = SimpleNamespace(model="m", location="us-central1")
    result = quota_judgement(entries, settings, [])
    assert result.status == "fail" and result.diagnoses[0].error.slug == "vertex-base-model-quota"
    result = quota_judgement([], SimpleNamespace(model="m", location="global"), [])
    assert result.status == "pass" and "Dynamic Shared Quota" in result.summary
