"""The emulator's Vertex AI routes driven by the real clients, over real HTTP on 127.0.0.1 only.

google-genai with vertexai=True (project, location, credentials; and express mode with an API key) against the
emulator's base URL, as an app would point it; the google-cloud clients reading aiplatform's state; every scenario's
client-visible result on the Vertex routes pinned in a table. One emulator per scenario for the whole module.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from google.genai import Client, errors, types
from google.oauth2.credentials import Credentials
from PIL import Image

from gemini_doctor.emulator.scenarios import Scenario, find_scenario, scenarios
from gemini_doctor.emulator.server import EmulatorServer
from gemini_doctor.emulator.tables import api_model, api_models, vertex_info, vertex_locations
from tests.conftest import loopback_tls

PROJECT = "emulated-project"
KEY = "emulated-key"
IMAGE_MODEL = "gemini-2.5-flash-image"
GLOBAL_ONLY = "gemini-3-pro-image"
VERTEX = "aiplatform.googleapis.com"
RATIO_CONFIG = types.GenerateContentConfig(
    response_modalities=["IMAGE"], image_config=types.ImageConfig(aspect_ratio="16:9")
)


@pytest.fixture(scope="module")
def servers() -> Iterator:
    """`servers(slug)`: the module's one emulator of that scenario, started on first use."""
    started: dict[str, EmulatorServer] = {}

    def get(slug: str = "healthy") -> EmulatorServer:
        if slug not in started:
            scenario = find_scenario(slug)
            assert scenario is not None
            started[slug] = EmulatorServer(scenario).start()
        return started[slug]

    yield get
    with ThreadPoolExecutor(max_workers=8) as pool:  # each stop waits on its server's loop: together, not in turn
        list(pool.map(EmulatorServer.stop, started.values()))


def vertex_client(server, location: str = "global", **options) -> Client:
    """google-genai on Vertex as an app configures it, its base URL pointed at the emulator; the credentials are
    an OAuth token, so no Application Default Credentials lookup happens."""
    http = types.HttpOptions(base_url=server.url, **options)
    return Client(
        vertexai=True, project=PROJECT, location=location, credentials=Credentials(token="t"), http_options=http
    )


def size_of(response: types.GenerateContentResponse) -> tuple[int, int] | None:
    parts = response.candidates[0].content.parts or [] if response.candidates[0].content else []
    found = [p.inline_data.data for p in parts if p.inline_data]
    if not found:
        return None
    with Image.open(io.BytesIO(found[-1])) as image:
        return image.size


def vertex_path(location: str = "global", model: str = IMAGE_MODEL, version: str = "v1beta1") -> str:
    return f"/{version}/projects/{PROJECT}/locations/{location}/publishers/google/models/{model}"


def raw_post(server, path: str, body: dict, headers: dict | None = None) -> httpx.Response:
    with httpx.Client(base_url=server.url, trust_env=False, timeout=30, verify=loopback_tls()) as client:
        return client.post(path, json=body, headers=headers if headers is not None else {"authorization": "Bearer t"})


def image_body(**image_config) -> dict:
    config = {"responseModalities": ["IMAGE"], "imageConfig": image_config}
    return {"contents": [{"role": "user", "parts": [{"text": "a banana"}]}], "generationConfig": config}


# ============================================================================ healthy, through google-genai
def test_sync_generate_returns_the_image_at_the_ratio_in_vertex_shape(servers):
    server = servers("healthy")
    client = vertex_client(server)
    response = client.models.generate_content(model=IMAGE_MODEL, contents="a banana", config=RATIO_CONFIG)
    assert size_of(response) == api_model(IMAGE_MODEL).pixel_size("1K", "16:9")
    assert response.create_time is not None and response.response_id and response.model_version == IMAGE_MODEL
    usage = response.usage_metadata
    assert usage.traffic_type == types.TrafficType.ON_DEMAND
    assert usage.prompt_token_count + usage.candidates_token_count == usage.total_token_count
    assert server.recorder.count(vertex_path() + ":generateContent") >= 1


def test_async_generate_in_a_region(servers):
    client = vertex_client(servers("healthy"), location="us-central1")

    async def run() -> types.GenerateContentResponse:
        return await client.aio.models.generate_content(model=IMAGE_MODEL, contents="a banana", config=RATIO_CONFIG)

    assert size_of(asyncio.run(run())) == api_model(IMAGE_MODEL).pixel_size("1K", "16:9")


def test_stream_text_then_image_over_sse(servers):
    server = servers("healthy")
    config = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"])
    client = vertex_client(server)  # held: google-genai closes its HTTP client when it is collected
    chunks = list(client.models.generate_content_stream(model=GLOBAL_ONLY, contents="a", config=config))
    assert len(chunks) == 2 and chunks[0].text and size_of(chunks[0]) is None
    assert size_of(chunks[1]) == api_model(GLOBAL_ONLY).pixel_size("1K", "1:1")
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert all(c.create_time is not None for c in chunks)
    assert server.recorder.count(vertex_path(model=GLOBAL_ONLY) + ":streamGenerateContent") == 1


def test_count_tokens_and_v1(servers):
    server = servers("healthy")
    for client in (vertex_client(server), vertex_client(server, api_version="v1")):
        short = client.models.count_tokens(model=IMAGE_MODEL, contents="a banana").total_tokens
        long = client.models.count_tokens(model=IMAGE_MODEL, contents="a banana " * 40).total_tokens
        assert 0 < short < long
    assert server.recorder.count(vertex_path(version="v1") + ":countTokens") == 2


def test_models_get_and_list_are_publisher_models(servers):
    client = vertex_client(servers("healthy"))
    model = client.models.get(model=IMAGE_MODEL)
    assert model.name == f"publishers/google/models/{IMAGE_MODEL}" and model.version
    listed = [m.name for m in client.models.list(config={"page_size": 2})]
    served = [f"publishers/google/models/{m.id}" for m in api_models() if m.served]
    assert listed == served
    with pytest.raises(errors.ClientError) as caught:
        client.models.get(model="gemini-no-such-model")
    assert caught.value.code == 404 and "was not found or your project does not have access" in caught.value.message


def test_express_mode_with_an_api_key(servers):
    server = servers("healthy")
    client = Client(vertexai=True, api_key=KEY, http_options=types.HttpOptions(base_url=server.url))
    response = client.models.generate_content(model=IMAGE_MODEL, contents="a banana", config=RATIO_CONFIG)
    assert size_of(response) == api_model(IMAGE_MODEL).pixel_size("1K", "16:9")
    express = [
        r
        for r in server.recorder.requests
        if r.path == f"/v1beta1/publishers/google/models/{IMAGE_MODEL}:generateContent"
    ]
    assert express and all(r.key_in_header and not r.key_in_query for r in express)


def test_no_credentials_is_401_unauthenticated(servers):
    answer = raw_post(servers("healthy"), vertex_path() + ":generateContent", image_body(), headers={})
    error = answer.json()["error"]
    assert answer.status_code == 401 and error["status"] == "UNAUTHENTICATED"
    assert error["message"] == vertex_info()["messages"]["unauthenticated"]
    empty = raw_post(servers("healthy"), vertex_path() + ":generateContent", image_body(), {"authorization": "Bearer"})
    assert empty.status_code == 401


# ============================================================================ where models are served
def test_a_global_only_model_is_404_in_a_region_and_served_on_global(servers):
    server = servers("healthy")
    assert vertex_locations(GLOBAL_ONLY) == ("global",)
    regional, on_global = vertex_client(server, "us-central1"), vertex_client(server)
    with pytest.raises(errors.ClientError) as caught:
        regional.models.generate_content(model=GLOBAL_ONLY, contents="a", config=RATIO_CONFIG)
    resource = f"projects/{PROJECT}/locations/us-central1/publishers/google/models/{GLOBAL_ONLY}"
    assert (caught.value.code, caught.value.status) == (404, "NOT_FOUND")
    assert caught.value.message == f"Publisher Model `{resource}` not found."
    response = on_global.models.generate_content(model=GLOBAL_ONLY, contents="a", config=RATIO_CONFIG)
    assert size_of(response) == api_model(GLOBAL_ONLY).pixel_size("1K", "16:9")


def test_a_location_without_gemini_is_404_for_every_model(servers):
    client = vertex_client(servers("healthy"), "us-west2")
    for model in (IMAGE_MODEL, GLOBAL_ONLY):
        with pytest.raises(errors.ClientError) as caught:
            client.models.generate_content(model=model, contents="a", config=RATIO_CONFIG)
        assert caught.value.code == 404 and "locations/us-west2/publishers/google/models" in caught.value.message


# ============================================================================ Vertex's own request fields
VERTEX_ONLY_IMAGE = types.ImageConfig(
    aspect_ratio="16:9",
    person_generation="ALLOW_ADULT",
    prominent_people=types.ProminentPeople.BLOCK_PROMINENT_PEOPLE,
    output_mime_type="image/jpeg",
    output_compression_quality=80,
)


def test_vertex_only_image_fields_are_accepted_on_vertex(servers):
    config = types.GenerateContentConfig(response_modalities=["IMAGE"], image_config=VERTEX_ONLY_IMAGE)
    client = vertex_client(servers("healthy"))
    response = client.models.generate_content(model=IMAGE_MODEL, contents="a banana", config=config)
    assert size_of(response) == api_model(IMAGE_MODEL).pixel_size("1K", "16:9")
    part = response.candidates[0].content.parts[-1]
    assert api_model(IMAGE_MODEL).output_format == "png"  # the model's own format; Vertex was asked for JPEG
    assert part.inline_data.mime_type == "image/jpeg" and part.inline_data.data.startswith(b"\xff\xd8")


def test_vertex_only_image_fields_are_refused_for_the_developer_api(servers):
    server = servers("healthy")
    developer = Client(api_key=KEY, http_options=types.HttpOptions(base_url=server.url))
    config = types.GenerateContentConfig(response_modalities=["IMAGE"], image_config=VERTEX_ONLY_IMAGE)
    with pytest.raises(ValueError, match="only supported in Gemini Enterprise Agent Platform mode"):
        developer.models.generate_content(model=IMAGE_MODEL, contents="a banana", config=config)
    body = image_body(personGeneration="ALLOW_ADULT", imageOutputOptions={"mimeType": "image/jpeg"})
    answer = raw_post(server, f"/v1beta/models/{IMAGE_MODEL}:generateContent", body, {"x-goog-api-key": KEY})
    assert answer.status_code == 400
    message = answer.json()["error"]["message"]
    assert "Unknown name \"personGeneration\" at 'generation_config.image_config': Cannot find field." in message
    assert 'Unknown name "imageOutputOptions"' in message
    vertex = raw_post(server, vertex_path() + ":generateContent", body)
    assert vertex.status_code == 200


def test_vertex_errors_name_vertex_types(servers):
    body = {"contents": [{"role": "user", "parts": [{"text": "a"}]}], "generationConfig": {"candidateCount": "x"}}
    answer = raw_post(servers("healthy"), vertex_path() + ":generateContent", body)
    assert answer.status_code == 400
    assert (
        answer.json()["error"]["message"] == "Invalid value at 'generation_config.candidate_count' (TYPE_INT32), \"x\""
    )
    bad_enum = image_body() | {"generationConfig": {"responseModalities": ["VIDEO"]}}
    message = raw_post(servers("healthy"), vertex_path() + ":generateContent", bad_enum).json()["error"]["message"]
    assert "type.googleapis.com/google.cloud.aiplatform.v1beta1.GenerationConfig.Modality" in message


# ============================================================================ the Predict API
def test_generate_images_on_a_gemini_model_is_the_predict_refusal(servers):
    """google-genai's generate_images calls :predict (the Imagen route): a Gemini model refuses it."""
    client = vertex_client(servers("healthy"), "us-central1")
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_images(model=IMAGE_MODEL, prompt="a banana")
    assert (caught.value.code, caught.value.status) == (400, "FAILED_PRECONDITION")
    assert caught.value.message.startswith("Gemini cannot be accessed through Vertex Predict/RawPredict API.")
    raw = raw_post(servers("healthy"), vertex_path("us-central1") + ":rawPredict", {"instances": []})
    assert raw.status_code == 400 and raw.json()["error"]["message"] == caught.value.message


# ============================================================================ every scenario on the Vertex routes
# What google-genai (vertexai=True) sees for the scenario's Vertex call (scenario.call, else global and the
# model its check arguments name): exception class, code, status and a phrase of the message; or "ok" and the
# image's pixel size (None: no image).
PINNED = {
    "healthy": ("ok", (1024, 1024)),
    "billing-limit-zero": ("ClientError", 403, "PERMISSION_DENIED", "requires billing to be enabled"),
    "ipm-exceeded": ("ok", (1024, 1024)),
    "ghost-429": ("ok", (1024, 1024)),
    "dynamic-shared-quota": ("ClientError", 429, "RESOURCE_EXHAUSTED", "Resource exhausted. Please try again later."),
    "wrong-response-modalities": ("ok", None),
    "wrong-endpoint": ("ok", (1024, 1024)),
    "wrong-model-name": ("ClientError", 404, "NOT_FOUND", "was not found or your project does not have access"),
    "billing-not-enabled": ("ClientError", 403, "PERMISSION_DENIED", "requires billing to be enabled"),
    "image-size-case": ("ok", (1024, 1024)),
    "image-config-stripped": ("ok", (1024, 1024)),
    "missing-text-modality": ("ok", None),
    "api-key-invalid": ("ok", (1024, 1024)),
    "service-disabled": ("ok", (1024, 1024)),
    "api-key-restricted": ("ok", (1024, 1024)),
    "permission-denied": ("ok", (1024, 1024)),
    "location-unsupported": ("ok", (1024, 1024)),
    "prepay-depleted": ("ok", (1024, 1024)),
    "daily-quota-exhausted": ("ok", (1024, 1024)),
    "model-overloaded": ("ServerError", 503, "UNAVAILABLE", "overloaded"),
    "server-error": ("ServerError", 500, "INTERNAL", "internal error"),
    "deadline-exceeded": ("ServerError", 504, "DEADLINE_EXCEEDED", "Deadline expired"),
    "safety-blocked": ("ok", None),
    "no-image-returned": ("ok", None),
    "model-deprecated": ("ClientError", 404, "NOT_FOUND", "was not found or your project does not have access"),
    "vertex-base-model-quota": (
        "ClientError",
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model"
        f" with base model: {IMAGE_MODEL}.",
    ),
    "vertex-provisioned-throughput": (
        "ClientError",
        429,
        "RESOURCE_EXHAUSTED",
        "Too many requests. Exceeded the Provisioned Throughput.",
    ),
    "vertex-model-not-in-region": (
        "ClientError",
        404,
        "NOT_FOUND",
        f"Publisher Model `projects/{PROJECT}/locations/us-central1/publishers/google/models/{GLOBAL_ONLY}` not found.",
    ),
    "vertex-predict-api": (
        "ClientError",
        400,
        "FAILED_PRECONDITION",
        "Gemini cannot be accessed through Vertex Predict/RawPredict API.",
    ),
    "vertex-permission-denied": (
        "ClientError",
        403,
        "PERMISSION_DENIED",
        "Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/"
        f"{PROJECT}/locations/us-central1/publishers/google/models/{IMAGE_MODEL}' (or it may not exist).",
    ),
    "vertex-api-disabled": ("ClientError", 403, "PERMISSION_DENIED", "Vertex AI API has not been used in project"),
    "vertex-billing-disabled": ("ClientError", 403, "PERMISSION_DENIED", "requires billing to be enabled"),
    "vertex-location-unsupported": (
        "ClientError",
        404,
        "NOT_FOUND",
        f"`projects/{PROJECT}/locations/us-west2/publishers/google/models/{IMAGE_MODEL}` was not found",
    ),
}


def call_of(scenario: Scenario) -> dict:
    """The scenario's Vertex call: its `call`, else what its check arguments say, on global."""
    args = list(scenario.check_args)

    def flag(name: str, default=None):
        return args[args.index(name) + 1] if name in args else default

    ratio, size = flag("--aspect-ratio"), flag("--image-size")
    return {
        "model": scenario.call.get("model", flag("--model", IMAGE_MODEL)),
        "location": scenario.call.get("location", "global"),
        "method": scenario.call.get("method", "generateContent"),
        "headers": scenario.call.get("headers"),
        "config": types.GenerateContentConfig(
            response_modalities=flag("--modalities", "IMAGE").split(","),
            image_config=types.ImageConfig(aspect_ratio=ratio, image_size=size) if ratio or size else None,
        ),
    }


def test_every_scenario_is_pinned_and_every_vertex_scenario_has_its_call():
    assert set(PINNED) == {s.slug for s in scenarios()}
    for scenario in scenarios():
        assert scenario.on("vertex").vertex == "same" and scenario.on("gemini").developer == "same"  # no chains
        assert scenario.on("gemini").backend == "gemini"
        if scenario.backend == "vertex":
            assert scenario.developer != "same" and scenario.call.get("model") and scenario.call.get("location")
            assert scenario.source and scenario.checked and "seed-claims" not in scenario.source


@pytest.mark.parametrize("slug", PINNED)
def test_scenario_as_google_genai_on_vertex_sees_it(servers, slug):
    call = call_of(find_scenario(slug))
    client = vertex_client(servers(slug), call["location"], headers=call["headers"])
    try:
        if call["method"] == "predict":
            client.models.generate_images(model=call["model"], prompt="a banana")
            raise AssertionError("a Gemini model answered :predict")
        response = client.models.generate_content(model=call["model"], contents="a banana", config=call["config"])
    except errors.APIError as error:
        kind, code, status, phrase = PINNED[slug]
        assert (type(error).__name__, error.code, error.status) == (kind, code, status)
        assert phrase in error.message
        return
    assert ("ok", size_of(response)) == PINNED[slug]


def test_provisioned_throughput_overage_without_the_header_is_served_on_demand(servers):
    client = vertex_client(servers("vertex-provisioned-throughput"), "us-central1")
    response = client.models.generate_content(model=IMAGE_MODEL, contents="a banana", config=RATIO_CONFIG)
    assert size_of(response) is not None and response.usage_metadata.traffic_type == types.TrafficType.ON_DEMAND


@pytest.mark.parametrize(
    ("slug", "developer_status"),
    [("vertex-api-disabled", 200), ("vertex-permission-denied", 200), ("vertex-billing-disabled", 429)],
)
def test_vertex_scenarios_on_the_developer_routes_answer_as_their_data_says(servers, slug, developer_status):
    answer = raw_post(
        servers(slug), f"/v1beta/models/{IMAGE_MODEL}:generateContent", image_body(), {"x-goog-api-key": KEY}
    )
    assert answer.status_code == developer_status
    assert find_scenario(slug).on("gemini").slug == ("billing-limit-zero" if developer_status == 429 else "healthy")


# ============================================================================ aiplatform in the GCP APIs
def gcp_options(server) -> dict:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    return {
        "transport": "rest",
        "credentials": AnonymousCredentials(),
        "client_options": ClientOptions(api_endpoint=server.url),
    }


@pytest.mark.parametrize(
    ("slug", "aiplatform", "generativelanguage"),
    [
        ("healthy", "ENABLED", "ENABLED"),
        ("vertex-api-disabled", "DISABLED", "ENABLED"),
        ("service-disabled", "ENABLED", "DISABLED"),
    ],
)
def test_service_usage_reads_aiplatform(servers, slug, aiplatform, generativelanguage):
    from google.cloud import service_usage_v1

    client = service_usage_v1.ServiceUsageClient(**gcp_options(servers(slug)))
    for service, state in ((VERTEX, aiplatform), ("generativelanguage.googleapis.com", generativelanguage)):
        found = client.get_service(request={"name": f"projects/{PROJECT}/services/{service}"})
        assert found.state == service_usage_v1.State[state]
    assert client.get_service(request={"name": f"projects/{PROJECT}/services/{VERTEX}"}).config.title == "Vertex AI API"


def test_cloud_quotas_reads_aiplatform_per_base_model(servers):
    from google.cloud import cloudquotas_v1

    server = servers("healthy")
    client = cloudquotas_v1.CloudQuotasClient(**gcp_options(server))
    parent = f"projects/{PROJECT}/locations/global/services/{VERTEX}"
    infos = {i.quota_id: i for i in client.list_quota_infos(parent=parent)}
    names = vertex_info()["quotas"]
    assert set(infos) == {names["global_quota_id"], names["regional_quota_id"]}
    for info in infos.values():
        assert info.metric == names["metric"] and list(info.dimensions) == ["region", "base_model"]
    on_global = {d.dimensions["base_model"] for d in infos[names["global_quota_id"]].dimensions_infos}
    regional = {
        (d.dimensions["base_model"], d.dimensions["region"]) for d in infos[names["regional_quota_id"]].dimensions_infos
    }
    assert GLOBAL_ONLY in on_global and not any(model == GLOBAL_ONLY for model, _ in regional)
    assert (IMAGE_MODEL, "us-central1") in regional
    one = client.get_quota_info(name=f"{parent}/quotaInfos/{names['regional_quota_id']}")
    assert one.quota_id == names["regional_quota_id"]


def test_base_model_quota_scenario_shows_its_small_quota_and_billing_reads_false(servers):
    from google.cloud import billing_v1, cloudquotas_v1

    quota_client = cloudquotas_v1.CloudQuotasClient(**gcp_options(servers("vertex-base-model-quota")))
    parent = f"projects/{PROJECT}/locations/global/services/{VERTEX}"
    values = {d.details.value for i in quota_client.list_quota_infos(parent=parent) for d in i.dimensions_infos}
    assert values == {5}
    billing = billing_v1.CloudBillingClient(**gcp_options(servers("vertex-billing-disabled")))
    assert billing.get_project_billing_info(name=f"projects/{PROJECT}").billing_enabled is False


# ============================================================================ configured by the environment alone
def test_env_only_vertex_reads_the_gemini_base_url_and_vertexai_true_reads_the_vertex_one(servers, monkeypatch):
    """google-genai 3.6.1 resolves the base URL before it reads GOOGLE_GENAI_USE_VERTEXAI: an app that turns Vertex
    on in the environment alone goes to GOOGLE_GEMINI_BASE_URL (the emulator still answers it as Vertex)."""
    server = servers("healthy")
    express = f"/v1beta1/publishers/google/models/{IMAGE_MODEL}:generateContent"
    before = server.recorder.count(express)
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.url)
    env_only = Client()
    assert size_of(env_only.models.generate_content(model=IMAGE_MODEL, contents="a", config=RATIO_CONFIG))
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL")
    monkeypatch.setenv("GOOGLE_VERTEX_BASE_URL", server.url)
    explicit = Client(vertexai=True)
    assert size_of(explicit.models.generate_content(model=IMAGE_MODEL, contents="a", config=RATIO_CONFIG))
    assert server.recorder.count(express) == before + 2
