"""The emulator against the clients people use: google-genai, the three GCP client libraries, raw HTTP and the CLI.

Expectations come from the data (emulator/scenarios.toml, knowledge/models.toml), read here with tomllib or the
knowledge loader, so a change of data moves the tests with it. Every test talks only to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import io
import re
import signal
import sys
import time
import tomllib
from importlib import resources
from typing import Any

import httpx
import pytest
from google.genai import Client, errors, types

from gemini_doctor.images import sniff
from gemini_doctor.knowledge import Model, find_model, models, recommended_model
from tests.conftest import EmulateProcess, loopback_tls, run_installed, timeout_bound

KEY = "emulated-key"
PROJECT = "emulated-project"
SERVICE = "generativelanguage.googleapis.com"
QUOTA_PARENT = f"projects/{PROJECT}/locations/global/services/{SERVICE}"


# ---------------------------------------------------------------------------------------------- the data, read raw
def _scenario_data() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    text = resources.files("gemini_doctor.emulator").joinpath("scenarios.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    defaults = {k: v for k, v in data["defaults"].items() if k != "source"}
    return defaults, [{**defaults, **raw} for raw in data["scenario"]]


DEFAULTS, SCENARIOS = _scenario_data()
BY_SLUG = {raw["slug"]: raw for raw in SCENARIOS}
# The Developer API's; Vertex's are driven through the Vertex routes in test_emulator_vertex.py.
ERROR_SCENARIOS = [raw for raw in SCENARIOS if raw["answer"] == "error" and raw["backend"] == "gemini"]
NO_IMAGE_SCENARIOS = [raw for raw in SCENARIOS if raw["answer"] == "no-image"]


def scenario_model(raw: dict[str, Any]) -> Model:
    """The model a scenario's reproducing check names, else the recommended one."""
    args = list(raw["check_args"])
    if "--model" in args:
        found = find_model(args[args.index("--model") + 1])
        assert found is not None
        return found
    return recommended_model()


def fill(value: Any, model: Model) -> Any:
    """The scenario's error text with `{alias}` / `{model}` filled the way the data's comments describe."""
    alias = model.aliases[0] if model.aliases else model.id
    if isinstance(value, str):
        return value.replace("{alias}", alias).replace("{model}", model.id)
    if isinstance(value, dict):
        return {k: fill(v, model) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, model) for v in value]
    return value


def served_ids(slug: str) -> list[str]:
    """Every model the emulator's own table serves in a scenario: image and text models."""
    from gemini_doctor.emulator.tables import api_models

    retired = BY_SLUG[slug]["serve_retired"]
    return [m.id for m in api_models() if m.served or m.id in retired]


def model(model_id: str) -> Model:
    found = find_model(model_id)
    assert found is not None and found.id == model_id
    return found


# ---------------------------------------------------------------------------------------------- clients
def sdk(server, api_version: str | None = "v1beta") -> Client:
    """google-genai pointed at the emulator (plain HTTP on loopback: the shared TLS context is never used)."""
    tls = {"client_args": {"verify": loopback_tls()}, "async_client_args": {"verify": loopback_tls()}}
    options = (
        types.HttpOptions(base_url=server.url, api_version=api_version, **tls)
        if api_version
        else types.HttpOptions(base_url=server.url, **tls)
    )
    return Client(api_key=KEY, http_options=options)


def generate(
    client: Client,
    model_id: str,
    modalities: list[str] | None = ("IMAGE",),
    ratio: str | None = None,
    size: str | None = None,
    **extra: Any,
) -> types.GenerateContentResponse:
    image_config = types.ImageConfig(aspect_ratio=ratio, image_size=size) if (ratio or size) else None
    config = types.GenerateContentConfig(
        response_modalities=list(modalities) if modalities is not None else None, image_config=image_config, **extra
    )
    return client.models.generate_content(model=model_id, contents="a banana", config=config)


def http(server) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"x-goog-api-key": KEY}, timeout=30, trust_env=False, verify=loopback_tls()
    )


def image_body(ratio: str | None = None, size: str | None = None, modalities=("IMAGE",)) -> dict[str, Any]:
    config: dict[str, Any] = {"responseModalities": list(modalities)}
    image_config = {k: v for k, v in (("aspectRatio", ratio), ("imageSize", size)) if v}
    if image_config:
        config["imageConfig"] = image_config
    return {"contents": [{"role": "user", "parts": [{"text": "a banana"}]}], "generationConfig": config}


def parts_of(response: types.GenerateContentResponse) -> list[types.Part]:
    assert response.candidates, "no candidate"
    content = response.candidates[0].content
    return list(content.parts or []) if content else []


def image_parts(response: types.GenerateContentResponse) -> list[bytes]:
    return [p.inline_data.data for p in parts_of(response) if p.inline_data and p.inline_data.data]


def text_parts(response: types.GenerateContentResponse) -> list[str]:
    return [p.text for p in parts_of(response) if p.text]


def only_image(response: types.GenerateContentResponse) -> bytes:
    images = image_parts(response)
    assert len(images) == 1, f"expected one image part, got {len(images)}"
    return images[0]


def assert_image(data: bytes, expected_model: Model, size: str, ratio: str) -> None:
    """The bytes are a decodable image in the model's format at the table's pixel size."""
    from PIL import Image

    info = sniff(data)
    assert info.format == expected_model.output_format
    assert info.size == expected_model.expected_size(size, ratio)
    with Image.open(io.BytesIO(data)) as decoded:
        decoded.load()
        assert decoded.size == expected_model.expected_size(size, ratio)
        assert decoded.format.lower() == expected_model.output_format


def api_error(call) -> errors.APIError:
    with pytest.raises(errors.APIError) as caught:
        call()
    return caught.value


# ============================================================================ 1. every error scenario through the SDK
@pytest.mark.parametrize("raw", ERROR_SCENARIOS, ids=[raw["slug"] for raw in ERROR_SCENARIOS])
def test_error_scenario_through_google_genai(emulator, raw):
    server = emulator(raw["slug"])
    used = scenario_model(raw)
    expected = raw["error"]
    error = api_error(lambda: generate(sdk(server), used.id))
    kind = errors.ClientError if expected["code"] < 500 else errors.ServerError
    assert isinstance(error, kind)
    assert error.code == expected["code"]
    assert error.status == expected["status"]
    assert error.message == fill(expected["message"], used)
    assert error.details["error"].get("details") == fill(copy.deepcopy(expected.get("details")), used)
    assert "{alias}" not in repr(error.details)


@pytest.mark.parametrize("raw", ERROR_SCENARIOS, ids=[raw["slug"] for raw in ERROR_SCENARIOS])
def test_error_on_decides_whether_models_list_fails(emulator, raw):
    server = emulator(raw["slug"])
    with http(server) as client:
        answer = client.get("/v1beta/models")
    if raw["error_on"] == "all":
        assert answer.status_code == raw["error"]["code"]
        assert answer.json()["error"]["status"] == raw["error"]["status"]
    else:
        assert answer.status_code == 200
        assert [m["name"] for m in answer.json()["models"]]


# ============================================================================ 2. healthy images
IMAGE_CASES = [
    ("gemini-2.5-flash-image", None, "16:9"),
    ("gemini-3-pro-image", "2K", "3:2"),
    ("gemini-3.1-flash-image", "512", "16:9"),
    (recommended_model().id, None, None),
]


@pytest.mark.parametrize(("model_id", "size", "ratio"), IMAGE_CASES)
def test_healthy_image_has_the_tables_size_and_format(emulator, model_id, size, ratio):
    server = emulator("healthy")
    used = model(model_id)
    response = generate(sdk(server), model_id, ["IMAGE"], ratio=ratio, size=size)
    assert_image(only_image(response), used, size or used.default_size, ratio or "1:1")
    assert text_parts(response) == []  # ["IMAGE"] alone: no text part
    assert response.candidates[0].finish_reason == types.FinishReason.STOP


def test_the_documented_example_sizes():
    # The table the healthy tests rely on says what the issue says.
    assert model("gemini-2.5-flash-image").expected_size("1K", "16:9") == (1344, 768)
    assert model("gemini-2.5-flash-image").output_format == "png"


@pytest.mark.parametrize(
    ("model_id", "size"),
    [("gemini-2.5-flash-image", "1K"), ("gemini-3-pro-image", "2K"), ("gemini-3.1-flash-image", "512")],
)
def test_usage_metadata_reports_the_tables_image_tokens(emulator, model_id, size):
    server = emulator("healthy")
    used = model(model_id)
    assert size in used.image_tokens, "the table gives no token count for this size"
    response = generate(sdk(server), model_id, ["IMAGE"], size=size)
    details = response.usage_metadata.candidates_tokens_details or []
    image_counts = [d.token_count for d in details if d.modality == types.MediaModality.IMAGE]
    assert image_counts == [used.image_tokens[size]]


def test_text_part_present_when_text_is_asked(emulator):
    server = emulator("healthy")
    used = model("gemini-2.5-flash-image")
    response = generate(sdk(server), used.id, ["TEXT", "IMAGE"], ratio="16:9")
    assert text_parts(response)
    assert_image(only_image(response), used, used.default_size, "16:9")


def test_default_sdk_version_v1_gets_an_image_in_healthy(emulator, monkeypatch):
    """Issue 11: google-genai 3.x defaults to /v1/; with only a base URL and a key it gets its image in healthy.
    (Changed behaviour: before, healthy's /v1/ refused image fields; that is now the wrong-endpoint scenario.)"""
    monkeypatch.delenv("GOOGLE_GENAI_API_VERSION", raising=False)
    server = emulator("healthy")
    used = recommended_model()
    response = generate(sdk(server, api_version=None), used.id, ["IMAGE"], ratio="16:9")
    assert_image(only_image(response), used, used.default_size, "16:9")
    assert server.recorder.count("/v1/models/") == 1  # the SDK's default is /v1/
    assert server.recorder.count("/v1beta/") == 0


def test_wrong_endpoint_scenario_reproduces_through_v1(emulator):
    raw = BY_SLUG["wrong-endpoint"]
    args = list(raw["check_args"])
    version = args[args.index("--api-version") + 1]
    server = emulator("wrong-endpoint")
    error = api_error(lambda: generate(sdk(server, api_version=version), recommended_model().id, ["IMAGE"]))
    assert (error.code, error.status) == (400, "INVALID_ARGUMENT")
    assert 'Unknown name "responseModalities"' in error.message


# ============================================================================ 3. model behaviours from models.toml
def test_shut_down_model_answers_404_no_longer_available(emulator):
    shut = model("gemini-3-pro-image-preview")
    assert shut.status == "shut-down"
    server = emulator("healthy")
    error = api_error(lambda: generate(sdk(server), shut.id))
    assert (error.code, error.status) == (404, "NOT_FOUND")
    assert "no longer available" in error.message
    assert f"models/{shut.id}" in error.message


def test_unknown_model_name_answers_404_not_found_for_v1beta(emulator):
    server = emulator("healthy")
    name = "gemini-no-such-image-model"
    assert find_model(name) is None
    error = api_error(lambda: generate(sdk(server), name))
    assert (error.code, error.status) == (404, "NOT_FOUND")
    assert "not found for API version v1beta" in error.message


def test_wrong_model_name_scenario_alias_is_not_callable(emulator):
    raw = BY_SLUG["wrong-model-name"]
    name = list(raw["check_args"])[list(raw["check_args"]).index("--model") + 1]
    target = find_model(name)
    assert target is not None and target.id != name  # an alias in the table, not a model id
    server = emulator("wrong-model-name")
    error = api_error(lambda: generate(sdk(server), name))
    assert error.code == 404
    assert "not found for API version v1beta" in error.message


def test_aspect_ratio_the_model_does_not_list_is_rejected(emulator):
    used = model("gemini-3-pro-image")
    every_ratio = {r for m in models() for r in m.aspect_ratios}
    missing = sorted(every_ratio - set(used.aspect_ratios))
    assert missing, "the table gives gemini-3-pro-image every ratio"
    server = emulator("healthy")
    error = api_error(lambda: generate(sdk(server), used.id, ratio=missing[0]))
    assert (error.code, error.status) == (400, "INVALID_ARGUMENT")


def test_unsupported_size_ignored_answers_at_default(emulator):
    used = model("gemini-2.5-flash-image")
    assert used.unsupported_size == "ignore" and "4K" not in used.image_sizes
    server = emulator("healthy")
    response = generate(sdk(server), used.id, ratio="16:9", size="4K")
    assert_image(only_image(response), used, used.default_size, "16:9")


def test_unsupported_size_rejected(emulator):
    used = model("gemini-3.1-flash-lite-image")
    assert used.unsupported_size == "reject" and "2K" not in used.image_sizes
    server = emulator("healthy")
    error = api_error(lambda: generate(sdk(server), used.id, size="2K"))
    assert (error.code, error.status) == (400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("slug", ["healthy", "image-size-case"])
def test_lowercase_size(emulator, slug):
    used = recommended_model()
    assert "2K" in used.image_sizes
    server = emulator(slug)
    if BY_SLUG[slug]["lowercase_size"] == "reject":
        error = api_error(lambda: generate(sdk(server), used.id, size="2k"))
        assert (error.code, error.status) == (400, "INVALID_ARGUMENT")
    else:
        assert BY_SLUG[slug]["lowercase_size"] == "fallback"
        response = generate(sdk(server), used.id, size="2k")
        assert_image(only_image(response), used, used.default_size, "1:1")


def test_image_config_stripped_answers_1_1(emulator):
    raw = BY_SLUG["image-config-stripped"]
    assert raw["strip_image_config"] is True
    args = list(raw["check_args"])
    ratio = args[args.index("--aspect-ratio") + 1]
    used = scenario_model(raw)
    assert used.expected_size(used.default_size, ratio) != used.expected_size(used.default_size, "1:1")
    server = emulator("image-config-stripped")
    response = generate(sdk(server), used.id, ["IMAGE"], ratio=ratio)
    assert_image(only_image(response), used, used.default_size, "1:1")


def test_missing_text_modality_old_model_gives_no_image(emulator):
    raw = BY_SLUG["missing-text-modality"]
    used = scenario_model(raw)
    assert used.requires_text_modality and used.id in raw["serve_retired"]
    server = emulator("missing-text-modality")
    client = sdk(server)
    response = generate(client, used.id, ["IMAGE"])
    assert image_parts(response) == []
    both = generate(client, used.id, ["TEXT", "IMAGE"])
    assert_image(only_image(both), used, used.default_size, "1:1")


def test_retired_model_is_404_outside_its_scenario(emulator):
    used = model("gemini-2.0-flash-exp-image-generation")
    assert used.id not in BY_SLUG["healthy"]["serve_retired"]
    server = emulator("healthy")
    error = api_error(lambda: generate(sdk(server), used.id, ["TEXT", "IMAGE"]))
    assert error.code == 404 and "no longer available" in error.message


def test_wrong_response_modalities_gives_text_only(emulator):
    raw = BY_SLUG["wrong-response-modalities"]
    args = list(raw["check_args"])
    modalities = args[args.index("--modalities") + 1].split(",")
    assert "IMAGE" not in modalities
    server = emulator("wrong-response-modalities")
    response = generate(sdk(server), scenario_model(raw).id, modalities)
    assert text_parts(response)
    assert image_parts(response) == []


@pytest.mark.parametrize("raw", NO_IMAGE_SCENARIOS, ids=[raw["slug"] for raw in NO_IMAGE_SCENARIOS])
def test_no_image_scenarios_answer_200_with_their_finish_reason(emulator, raw):
    server = emulator(raw["slug"])
    response = generate(sdk(server), scenario_model(raw).id, ["IMAGE"])
    candidate = response.candidates[0]
    assert getattr(candidate.finish_reason, "value", candidate.finish_reason) == raw["finish_reason"]
    assert image_parts(response) == []
    # google-genai drops finishMessage on the Developer API (a Vertex-only field in its converters): read it raw.
    with http(server) as client:
        answer = client.post(f"/v1beta/models/{scenario_model(raw).id}:generateContent", json=image_body())
    assert answer.status_code == 200
    body = answer.json()["candidates"][0]
    assert body["finishReason"] == raw["finish_reason"]
    assert body.get("finishMessage") == raw.get("finish_message")
    assert not any("inlineData" in part for part in body.get("content", {}).get("parts", []))


def test_candidate_count_2_is_rejected(emulator):
    server = emulator("healthy")
    error = api_error(lambda: generate(sdk(server), recommended_model().id, ["IMAGE"], candidate_count=2))
    assert (error.code, error.status) == (400, "INVALID_ARGUMENT")
    assert "Multiple candidates" in error.message


# ============================================================================ 4. models.list / models.get
@pytest.mark.parametrize("slug", ["healthy", "missing-text-modality"])
def test_models_list_pages_through_every_served_model(emulator, slug):
    server = emulator(slug)
    names: list[str] = []
    pages = 0
    token = None
    with http(server) as client:
        while True:
            params = {"pageSize": 2, **({"pageToken": token} if token else {})}
            answer = client.get("/v1beta/models", params=params)
            assert answer.status_code == 200
            body = answer.json()
            pages += 1
            assert 1 <= len(body["models"]) <= 2
            names += [m["name"] for m in body["models"]]
            token = body.get("nextPageToken")
            if not token:
                assert "nextPageToken" not in body
                break
            assert pages < 50
    expected = served_ids(slug)
    assert len(names) == len(set(names))
    assert set(names) == {f"models/{m}" for m in expected}
    assert pages == -(-len(expected) // 2)


def test_models_get(emulator):
    server = emulator("healthy")
    with http(server) as client:
        answer = client.get("/v1beta/models/gemini-2.5-flash-image")
        missing = client.get("/v1beta/models/gemini-3-pro-image-preview")
    assert answer.status_code == 200
    assert answer.json()["name"] == "models/gemini-2.5-flash-image"
    assert "generateContent" in answer.json()["supportedGenerationMethods"]
    assert missing.status_code == 404


def test_models_list_and_get_through_google_genai(emulator):
    server = emulator("healthy")
    client = sdk(server)
    listed = [m.name for m in client.models.list(config={"page_size": 2})]
    assert sorted(listed) == sorted(f"models/{m}" for m in served_ids("healthy"))
    got = client.models.get(model="gemini-3-pro-image")
    assert got.name == "models/gemini-3-pro-image"


# ============================================================================ 5. the GCP clients
def gcp_options(server) -> dict[str, Any]:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    return {
        "transport": "rest",
        "credentials": AnonymousCredentials(),
        "client_options": ClientOptions(api_endpoint=server.url),
    }


@pytest.mark.parametrize("slug", ["healthy", "service-disabled"])
def test_service_usage_state(emulator, slug):
    from google.cloud import service_usage_v1

    server = emulator(slug)
    client = service_usage_v1.ServiceUsageClient(**gcp_options(server))
    service = client.get_service(request={"name": f"projects/{PROJECT}/services/{SERVICE}"})
    expected = service_usage_v1.State.ENABLED if BY_SLUG[slug]["api_enabled"] else service_usage_v1.State.DISABLED
    assert service.state == expected
    assert service.config.name == SERVICE


@pytest.mark.parametrize("slug", ["healthy", "billing-limit-zero", "billing-not-enabled"])
def test_cloud_quotas(emulator, slug):
    from google.cloud import cloudquotas_v1

    server = emulator(slug)
    client = cloudquotas_v1.CloudQuotasClient(**gcp_options(server))
    infos = list(client.list_quota_infos(parent=QUOTA_PARENT))
    quotas = BY_SLUG[slug]["quotas"]
    assert [i.quota_id for i in infos] == [q["quota_id"] for q in quotas]
    for info, quota in zip(infos, quotas, strict=False):
        assert info.metric == quota["metric"]
        assert info.refresh_interval == quota["refresh"]
        assert info.dimensions_infos, "no dimensions info"
        assert info.dimensions_infos[0].details.value == quota["value"]
        assert info.name == f"{QUOTA_PARENT}/quotaInfos/{quota['quota_id']}"
    if quotas:
        first = quotas[0]
        one = client.get_quota_info(name=f"{QUOTA_PARENT}/quotaInfos/{first['quota_id']}")
        assert one.quota_id == first["quota_id"]
        assert one.dimensions_infos[0].details.value == first["value"]


def test_cloud_quotas_unknown_quota_is_404(emulator):
    from google.api_core import exceptions
    from google.cloud import cloudquotas_v1

    server = emulator("healthy")
    client = cloudquotas_v1.CloudQuotasClient(**gcp_options(server))
    with pytest.raises(exceptions.NotFound):
        client.get_quota_info(name=f"{QUOTA_PARENT}/quotaInfos/NoSuchQuota")


@pytest.mark.parametrize("slug", ["healthy", "billing-limit-zero"])
def test_cloud_billing(emulator, slug):
    from google.cloud import billing_v1

    server = emulator(slug)
    client = billing_v1.CloudBillingClient(**gcp_options(server))
    info = client.get_project_billing_info(name=f"projects/{PROJECT}")
    assert info.billing_enabled is BY_SLUG[slug]["billing_enabled"]
    assert info.project_id == PROJECT
    assert bool(info.billing_account_name) is BY_SLUG[slug]["billing_enabled"]


# ============================================================================ 6. protocol faithfulness (raw HTTP)
def test_unknown_path_is_404_json(emulator):
    server = emulator("healthy")
    with http(server) as client:
        answer = client.get("/no/such/path")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/json")
    error = answer.json()["error"]
    assert error["code"] == 404 and error["status"] == "NOT_FOUND" and error["message"]


def test_malformed_json_is_400(emulator):
    server = emulator("healthy")
    with http(server) as client:
        answer = client.post(
            f"/v1beta/models/{recommended_model().id}:generateContent",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert answer.json()["error"]["code"] == 400


def test_no_key_is_403_unregistered_callers(emulator):
    server = emulator("healthy")
    with httpx.Client(base_url=server.url, trust_env=False, verify=loopback_tls()) as client:
        answer = client.post(f"/v1beta/models/{recommended_model().id}:generateContent", json=image_body())
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["status"] == "PERMISSION_DENIED" and error["code"] == 403
    assert "unregistered callers" in error["message"]


def test_key_in_query_works_like_the_header(emulator):
    server = emulator("healthy")
    used = model("gemini-2.5-flash-image")
    path = f"/v1beta/models/{used.id}:generateContent"
    with httpx.Client(base_url=server.url, trust_env=False, timeout=30, verify=loopback_tls()) as client:
        by_query = client.post(path, params={"key": KEY}, json=image_body(ratio="16:9"))
        by_header = client.post(path, headers={"x-goog-api-key": KEY}, json=image_body(ratio="16:9"))
    assert by_query.status_code == by_header.status_code == 200
    data = [
        part["inlineData"]["data"]
        for part in by_query.json()["candidates"][0]["content"]["parts"]
        if "inlineData" in part
    ]
    assert len(data) == 1
    assert_image(base64.b64decode(data[0]), used, used.default_size, "16:9")
    header_data = [
        part["inlineData"]["data"]
        for part in by_header.json()["candidates"][0]["content"]["parts"]
        if "inlineData" in part
    ]
    assert header_data == data
    first, second = server.recorder.requests[-2:]
    assert (first.key_in_query, first.key_in_header) == (True, False)
    assert (second.key_in_query, second.key_in_header) == (False, True)


def test_invalid_aspect_ratio_has_bad_request_details(emulator):
    server = emulator("healthy")
    assert all("7:3" not in m.aspect_ratios for m in models())
    with http(server) as client:
        answer = client.post(f"/v1beta/models/{recommended_model().id}:generateContent", json=image_body(ratio="7:3"))
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    bad = [d for d in error.get("details", []) if d["@type"] == "type.googleapis.com/google.rpc.BadRequest"]
    assert len(bad) == 1
    assert bad[0]["fieldViolations"] and bad[0]["fieldViolations"][0]["field"]


# ============================================================================ 7. latency does not block
def test_latency_delays_each_answer_without_blocking_others(emulator):
    """Six requests at once: each answer waits the latency, and none waits for another's. Told apart by order,
    not by a speed figure: when the first answer comes back, the emulator has already taken in all six (a latency
    that blocked would hold the second request until the first was answered)."""
    latency = 1.0
    server = emulator("healthy", latency_ms=int(latency * 1000))
    path = "/v1beta/models/gemini-2.5-flash-image"

    async def one(client: httpx.AsyncClient) -> tuple[int, float, int]:
        started = time.monotonic()
        answer = await client.get(path)
        return answer.status_code, time.monotonic() - started, server.recorder.count(path)

    async def run() -> list[tuple[int, float, int]]:
        async with httpx.AsyncClient(
            base_url=server.url, headers={"x-goog-api-key": KEY}, timeout=30, trust_env=False
        ) as client:
            return list(await asyncio.gather(*(one(client) for _ in range(6))))

    results = asyncio.run(run())
    assert [status for status, _, _ in results] == [200] * 6
    assert all(elapsed >= latency for _, elapsed, _ in results), results  # a lower bound: the delay is there
    assert min(seen for _, _, seen in results) == 6, results  # every request was in before any answer went out


# ============================================================================ 8. the CLI
def test_emulate_list_prints_one_line_per_scenario():
    code, out, err = run_installed("emulate", "--list")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == len(SCENARIOS)
    assert [line.split()[0] for line in lines] == [raw["slug"] for raw in SCENARIOS]
    for line, raw in zip(lines, SCENARIOS, strict=False):
        assert raw["title"] in line


def test_emulate_unknown_scenario_exits_2_with_one_line():
    code, out, err = run_installed("emulate", "--scenario", "no-such-scenario", "--port", "0")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "no-such-scenario" in err


def _listening_addresses(port: int) -> list[str]:
    """Local addresses of LISTEN sockets on a TCP port, from /proc/net/tcp{,6} (hex, as the kernel writes them)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                rows = handle.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == "0A":
                found.append(address)
    return found


def test_emulate_serves_prints_reproduce_line_and_stops_on_sigint():
    raw = BY_SLUG["healthy"]
    with EmulateProcess("--port", "0", "--scenario", "healthy") as emulate:
        emulate.read_until("Ctrl-C")
        seen = emulate.seen
        text = "".join(seen)
        match = re.search(r"listening on (http://[^\s]+)", text)
        assert match, text
        url = match.group(1)
        parsed = httpx.URL(url)
        assert parsed.host == "127.0.0.1" and parsed.port
        reproduce = [line for line in seen if "gemini-doctor check" in line]
        assert len(reproduce) == 1
        assert f"--base-url {url}" in reproduce[0]
        assert " ".join(raw["check_args"]) in reproduce[0]

        with httpx.Client(base_url=url, headers={"x-goog-api-key": KEY}, timeout=10, trust_env=False) as client:
            answer = client.get("/v1beta/models")
        assert answer.status_code == 200
        assert {m["name"] for m in answer.json()["models"]} == {f"models/{m}" for m in served_ids("healthy")}

        if sys.platform.startswith("linux"):
            addresses = _listening_addresses(parsed.port)
            assert addresses == ["0100007F"], addresses  # 127.0.0.1 only, no wildcard, no IPv6

        emulate.process.send_signal(signal.SIGINT)
        code = emulate.process.wait(timeout=timeout_bound(1))  # uvicorn's graceful shutdown is bounded to 1 s
        assert code == 0, emulate.stderr()
