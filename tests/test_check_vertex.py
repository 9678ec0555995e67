"""`check` against Vertex AI: the real CLI (in-process) over real HTTP on loopback against the emulator's Vertex
routes and Google's own GCP clients; the backend chosen as google-genai chooses it."""

from __future__ import annotations

import json
import socket

import pytest

from gemini_doctor.emulator.scenarios import find_scenario

VERTEX = {"GOOGLE_GENAI_USE_VERTEXAI": "true"}


def check_json(run_cli, *args: str) -> tuple[int, dict]:
    code, out, _ = run_cli("check", *args, "--format", "json")
    return code, json.loads(out)


def by_id(document: dict) -> dict[str, dict]:
    return {c["id"]: c for c in document["checks"]}


def slugs(document: dict) -> list[str]:
    return [d["slug"] for d in document["diagnosis"]]


def no_adc(monkeypatch, tmp_path) -> None:
    """No Application Default Credentials anywhere, and no metadata server asked."""
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))


def test_healthy_in_a_vertex_environment_passes_and_names_what_it_read(run_cli, monkeypatch):
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    code, document = check_json(run_cli, "--emulator", "healthy", "--verbose")
    checks = by_id(document)
    assert code == 0 and document["diagnosis"] == []
    assert [c["status"] for c in document["checks"]] == ["pass"] * 5, [c["summary"] for c in document["checks"]]
    assert document["target"]["backend"] == "vertex" and document["target"]["location"] == "global"
    assert "aiplatform.googleapis.com" in checks["quota"]["summary"]
    assert "Service Usage: aiplatform.googleapis.com is ENABLED" in checks["quota"]["evidence"]
    assert "generateContent: 200" in " ".join(checks["parameters"]["evidence"])  # the one image, from Vertex
    assert set(document["requests_sent"]) == {"vertex", "gcp"} and document["requests_sent"]["vertex"] == 3
    assert any("GOOGLE_GENAI_USE_VERTEXAI" in note for note in document["notes"])


def test_the_flag_beats_the_environment_both_ways(run_cli, monkeypatch):
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "false")
    args = ("--backend", "vertex", "--location", "us-central1", "--model", "gemini-2.5-flash-image")
    code, document = check_json(run_cli, "--emulator", "healthy", *args)
    assert code == 0 and document["target"]["backend"] == "vertex"
    assert document["target"]["location"] == "us-central1"
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    code, document = check_json(run_cli, "--emulator", "healthy", "--backend", "gemini")
    assert code == 0 and document["target"]["backend"] == "gemini" and "gemini" in document["requests_sent"]


# The Vertex scenarios `check` reproduces (the emulator's `call`: model and location), each named by its slug.
# vertex-predict-api (the app calls :predict) and vertex-provisioned-throughput (the app's dedicated-only header)
# are causes in how the app calls, which the doctor's own calls do not repeat: `explain` names them.
REPRODUCED = [
    "vertex-base-model-quota",
    "vertex-model-not-in-region",
    "vertex-permission-denied",
    "vertex-api-disabled",
    "vertex-billing-disabled",
    "vertex-location-unsupported",
]


@pytest.mark.parametrize("slug", REPRODUCED)
def test_each_vertex_scenario_is_named_by_its_slug(run_cli, slug):
    scenario = find_scenario(slug)
    assert scenario is not None and scenario.backend == "vertex"
    code, document = check_json(run_cli, "--emulator", slug)  # a Vertex scenario selects Vertex AI itself
    assert document["target"]["backend"] == "vertex" and document["target"]["location"] == scenario.call["location"]
    assert slugs(document)[0] == slug, (slugs(document), [d.get("note") for d in document["diagnosis"]])
    assert code == 1


def test_shared_capacity_429_on_vertex_is_dynamic_shared_quota(run_cli):
    code, document = check_json(run_cli, "--emulator", "dynamic-shared-quota", "--backend", "vertex")
    assert slugs(document)[0] == "dynamic-shared-quota" and code == 1
    assert by_id(document)["quota"]["status"] == "fail"  # the paid image met it; reported where quotas are


def test_an_unlisted_location_is_named_before_any_request_to_it(run_cli):
    code, document = check_json(run_cli, "--emulator", "healthy", "--backend", "vertex", "--location", "us-central1-a")
    assert slugs(document) == ["vertex-location-unsupported"] and code == 1
    assert "us-central1" in " ".join(document["diagnosis"][0]["evidence"])  # the closest listed one
    assert document["requests_sent"]["vertex"] == 0
    assert by_id(document)["model"]["status"] == "skip"


def test_no_credentials_is_named_with_the_gcloud_fix_and_nothing_is_sent(run_cli, monkeypatch, tmp_path):
    no_adc(monkeypatch, tmp_path)
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "my-project")
    code, document = check_json(run_cli, "--timeout", "5")
    assert slugs(document) == ["vertex-credentials-missing"] and code == 1
    assert any("gcloud auth application-default login" in step for step in document["diagnosis"][0]["fix"])
    assert document["requests_sent"] == {"vertex": 0, "gcp": 0}
    assert by_id(document)["billing"]["status"] == by_id(document)["quota"]["status"] == "skip"


def test_a_host_that_does_not_resolve_is_vertex_host_not_found(run_cli, monkeypatch):
    """Express mode (an API key, no project): nothing to find but the host, whose lookup fails (no DNS is asked:
    the lookup is answered here as a resolver answers a name that does not exist)."""
    real = socket.getaddrinfo

    def lookup(host, *args, **kwargs):
        if str(host).endswith("googleapis.com"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setenv("GOOGLE_API_KEY", "AQ.Ab8RN6Jexpress-mode-key-000000000")
    args = ("--backend", "vertex", "--base-url", "https://us-central9-aiplatform.googleapis.com", "--timeout", "5")
    code, document = check_json(run_cli, *args)
    assert slugs(document)[0] == "vertex-host-not-found" and code == 1
    assert "AQ.Ab8RN6Jexpress" not in json.dumps(document)


def test_developer_api_traps_are_not_reported_on_vertex(run_cli):
    """v1 is one of Vertex's versions (image fields included), not the Developer API's v1 trap."""
    code, document = check_json(run_cli, "--emulator", "healthy", "--backend", "vertex", "--api-version", "v1")
    assert code == 0 and document["diagnosis"] == [] and document["target"]["api_version"] == "v1"


def test_vertex_image_fields_are_right_there_and_a_trap_on_the_developer_api(run_cli, tmp_path):
    body = {"generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"personGeneration": "ALLOW_ALL"}}}
    request = tmp_path / "body.json"
    request.write_text(json.dumps(body))
    _code, vertex = check_json(run_cli, "--emulator", "healthy", "--backend", "vertex", "--request", str(request))
    assert by_id(vertex)["parameters"]["status"] == "pass", by_id(vertex)["parameters"]
    _code, gemini = check_json(run_cli, "--emulator", "healthy", "--only", "parameters", "--request", str(request))
    assert by_id(gemini)["parameters"]["status"] == "fail"


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('base_url = "http://127.0.0.1:9"', "GOOGLE_VERTEX_BASE_URL"),
        ('location = "evil.example.com/x"', "not a location name"),
    ],
)
def test_a_config_file_cannot_move_vertex_requests_or_the_token(run_cli, monkeypatch, tmp_path, line, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(f'[tool.gemini-doctor]\nbackend = "vertex"\n{line}\n')
    code, _out, err = run_cli("check", "--project", "p")
    assert code == 2 and words in err


def test_express_mode_sends_the_key_in_its_header_on_unscoped_paths(run_cli, emulator, monkeypatch):
    """An API key and no project or location: google-genai's express mode (no project in the path)."""
    server = emulator("healthy")
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_API_KEY", "express-key")
    code, document = check_json(run_cli, "--base-url", server.url, "--only", "endpoint", "--only", "model")
    assert code == 0 and document["target"]["api_key"] == "set (GOOGLE_API_KEY)", document["checks"]
    sent = server.recorder.requests
    model = f"/v1beta1/publishers/google/models/{document['target']['model']}"
    assert {r.path for r in sent} == {f"{model}:generateContent", model}
    assert all(r.key_in_header and not r.key_in_query for r in sent)


def test_the_emulators_reproduce_line_for_a_vertex_scenario_names_it(run_cli, emulator):
    """The `reproduce:` line `emulate` prints for a Vertex scenario: its backend, location and model, no key."""
    import shlex

    from gemini_doctor.emulate import reproduce_command

    scenario = find_scenario("vertex-api-disabled")
    server = emulator(scenario.slug)
    line = reproduce_command(server.url, scenario.check_args, scenario.call)
    assert "--backend vertex" in line and "--api-key" not in line and f"--location {scenario.call['location']}" in line
    code, document = check_json(run_cli, *shlex.split(line)[2:])
    assert slugs(document)[0] == scenario.slug and code == 1
