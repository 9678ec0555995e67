"""Every route of the emulator driven by the real Python clients, over real HTTP on 127.0.0.1 only.

google-genai (sync, async, streaming, count_tokens, models.list paging) in its default configuration, the openai SDK
against /v1beta/openai/, the google-cloud clients against the GCP routes; and each scenario's client-visible result
pinned in a table.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json

import httpx
import openai
import pytest
from google.genai import Client, errors, types
from PIL import Image

from gemini_doctor.emulator.scenarios import find_scenario, scenarios
from gemini_doctor.emulator.tables import api_model, api_models, paging
from tests.conftest import loopback_tls

KEY = "emulated-key"
PROJECT = "emulated-project"
QUOTA_PARENT = f"projects/{PROJECT}/locations/global/services/generativelanguage.googleapis.com"
IMAGE_MODEL = "gemini-nano-banana-2.1"
TEXT_MODEL = "gemini-2.5-flash"


def default_client(server, monkeypatch) -> Client:
    """google-genai as a new user runs it: the two environment variables the banner prints, nothing else."""
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.url)
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    return Client()


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def images(response: types.GenerateContentResponse) -> list[bytes]:
    parts = (response.candidates[0].content.parts or []) if response.candidates[0].content else []
    return [p.inline_data.data for p in parts if p.inline_data]


def assert_usage_adds_up(usage: types.GenerateContentResponseUsageMetadata) -> None:
    candidates = usage.candidates_token_count or 0
    assert usage.prompt_token_count + candidates + (usage.thoughts_token_count or 0) == usage.total_token_count
    assert sum(d.token_count for d in usage.prompt_tokens_details or []) == usage.prompt_token_count
    assert sum(d.token_count for d in usage.candidates_tokens_details or []) == candidates


IMAGE_CONFIG = types.GenerateContentConfig(
    response_modalities=["IMAGE"], image_config=types.ImageConfig(aspect_ratio="16:9", image_size="2K")
)


# ============================================================================ google-genai, default configuration
def test_sync_default_config_gets_the_image(emulator, monkeypatch):
    server = emulator("healthy")
    client = default_client(server, monkeypatch)  # held: google-genai closes its HTTP client when it is collected
    response = client.models.generate_content(model=IMAGE_MODEL, contents="a banana", config=IMAGE_CONFIG)
    assert [size_of(d) for d in images(response)] == [api_model(IMAGE_MODEL).pixel_size("2K", "16:9")]
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert_usage_adds_up(response.usage_metadata)
    assert server.recorder.count("/v1/models/") == 1


def test_async_default_config_gets_the_image(emulator, monkeypatch):
    server = emulator("healthy")
    client = default_client(server, monkeypatch)

    async def run() -> types.GenerateContentResponse:
        return await client.aio.models.generate_content(model=IMAGE_MODEL, contents="a banana", config=IMAGE_CONFIG)

    response = asyncio.run(run())
    assert [size_of(d) for d in images(response)] == [api_model(IMAGE_MODEL).pixel_size("2K", "16:9")]


def test_stream_default_config_text_then_image(emulator, monkeypatch):
    server = emulator("healthy")
    config = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"])
    client = default_client(server, monkeypatch)
    chunks = list(client.models.generate_content_stream(model=IMAGE_MODEL, contents="a banana", config=config))
    assert len(chunks) == 2
    assert chunks[0].text and not images(chunks[0])
    assert [size_of(d) for d in images(chunks[1])] == [api_model(IMAGE_MODEL).pixel_size("1K", "1:1")]
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert_usage_adds_up(chunks[-1].usage_metadata)
    assert server.recorder.count(":streamGenerateContent") == 1


def test_async_stream_of_a_text_model(emulator, monkeypatch):
    server = emulator("healthy")
    client = default_client(server, monkeypatch)

    async def run() -> list[types.GenerateContentResponse]:
        stream = await client.aio.models.generate_content_stream(model=TEXT_MODEL, contents="hello")
        return [chunk async for chunk in stream]

    chunks = asyncio.run(run())
    assert "".join(c.text or "" for c in chunks)
    assert_usage_adds_up(chunks[-1].usage_metadata)


@pytest.mark.parametrize("version", ["v1beta", "v1"])
def test_count_tokens(emulator, version):
    server = emulator("healthy")
    client = Client(api_key=KEY, http_options=types.HttpOptions(base_url=server.url, api_version=version))
    short = client.models.count_tokens(model=IMAGE_MODEL, contents="a banana").total_tokens
    long = client.models.count_tokens(model=IMAGE_MODEL, contents="a banana " * 40).total_tokens
    assert 0 < short < long
    assert server.recorder.count(f"/{version}/models/{IMAGE_MODEL}:countTokens") == 2


def test_models_list_pages_through_the_sdk_with_text_models(emulator, monkeypatch):
    server = emulator("healthy")
    client = default_client(server, monkeypatch)
    listed = [m.name for m in client.models.list(config={"page_size": 3})]
    served = [m.id for m in api_models() if m.served]
    assert listed == [f"models/{m}" for m in served]
    assert f"models/{TEXT_MODEL}" in listed
    assert server.recorder.count("/v1/models") == -(-len(served) // 3)


def test_a_text_model_refuses_image_output(emulator, monkeypatch):
    server = emulator("healthy")
    client = default_client(server, monkeypatch)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(
            model=TEXT_MODEL, contents="a banana", config=types.GenerateContentConfig(response_modalities=["IMAGE"])
        )
    assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")
    assert caught.value.message == "Model does not support the requested response modalities: image"


# ============================================================================ paging as Google pages
def get(server, path: str, **params) -> httpx.Response:
    with httpx.Client(
        base_url=server.url, headers={"x-goog-api-key": KEY}, timeout=30, trust_env=False, verify=loopback_tls()
    ) as client:
        return client.get(path, params=params)


def test_models_list_default_and_max_page_size(emulator):
    server = emulator("healthy")
    rules = paging("models")
    assert (rules.default_page_size, rules.max_page_size) == (50, 1000)  # as the proto documents
    served = len([m for m in api_models() if m.served])
    for params in ({}, {"pageSize": 0}, {"pageSize": 5000}):
        body = get(server, "/v1beta/models", **params).json()
        assert len(body["models"]) == min(served, rules.default_page_size) and "nextPageToken" not in body


@pytest.mark.parametrize("token", ["-1", "2", "bm90LWEtdG9rZW4", "x" * 300])
def test_a_page_token_this_server_did_not_issue_is_400(emulator, token):
    server = emulator("healthy")
    answer = get(server, "/v1beta/models", pageSize=2, pageToken=token)
    assert answer.status_code == 400 and answer.json()["error"]["status"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize("size", ["-1", "abc"])
def test_a_bad_page_size_is_400(emulator, size):
    answer = get(emulator("healthy"), "/v1beta/models", pageSize=size)
    assert answer.status_code == 400 and answer.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_a_quota_token_is_no_models_token(emulator):
    server = emulator("healthy")
    token = get(server, f"/v1/{QUOTA_PARENT}/quotaInfos", pageSize=1).json()["nextPageToken"]
    assert get(server, "/v1beta/models", pageToken=token).status_code == 400


# ============================================================================ raw HTTP: stream without SSE
def test_stream_without_alt_sse_is_a_json_array(emulator):
    server = emulator("healthy")
    body = {
        "contents": [{"parts": [{"text": "a banana"}]}],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]},
    }
    with httpx.Client(
        base_url=server.url, headers={"x-goog-api-key": KEY}, timeout=30, trust_env=False, verify=loopback_tls()
    ) as client:
        plain = client.post(f"/v1beta/models/{IMAGE_MODEL}:streamGenerateContent", json=body)
        sse = client.post(f"/v1beta/models/{IMAGE_MODEL}:streamGenerateContent", params={"alt": "sse"}, json=body)
    assert plain.headers["content-type"].startswith("application/json")
    array = plain.json()
    assert isinstance(array, list) and len(array) == 2
    assert sse.headers["content-type"].startswith("text/event-stream")
    events = [e for e in sse.text.split("\r\n\r\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert [json.loads(e[6:])["candidates"][0]["content"]["parts"][0].keys() for e in events] == [
        c["candidates"][0]["content"]["parts"][0].keys() for c in array
    ]


# ============================================================================ the openai SDK
def openai_client(server, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1beta/openai/", api_key=key, max_retries=0, timeout=30)


def test_openai_chat_completion_with_a_text_model(emulator):
    server = emulator("healthy")
    completion = openai_client(server).chat.completions.create(
        model=TEXT_MODEL, messages=[{"role": "user", "content": "hello"}]
    )
    assert completion.choices[0].message.content and completion.choices[0].finish_reason == "stop"
    assert completion.usage.prompt_tokens + completion.usage.completion_tokens == completion.usage.total_tokens


def test_openai_chat_completion_with_an_image_model(emulator):
    server = emulator("healthy")
    completion = openai_client(server).chat.completions.create(
        model="gemini-2.5-flash-image", messages=[{"role": "user", "content": "a banana"}]
    )
    extra = completion.choices[0].message.model_extra or {}
    url = extra["images"][0]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert size_of(base64.b64decode(url.split(",", 1)[1])) == (1024, 1024)


def test_openai_images_generate(emulator):
    server = emulator("healthy")
    result = openai_client(server).images.generate(model="gemini-2.5-flash-image", prompt="a banana")
    assert size_of(base64.b64decode(result.data[0].b64_json)) == (1024, 1024)


def test_openai_images_refuses_the_models_google_refuses(emulator):
    server = emulator("healthy")
    assert not api_model("gemini-3-pro-image").openai_images
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client(server).images.generate(model="gemini-3-pro-image", prompt="a banana")
    body = caught.value.response.json()  # a list: the SDK's message shows only the code
    assert "not supported for predict" in body[0]["error"]["message"]


def test_openai_routes_want_a_key(emulator):
    server = emulator("healthy")
    with httpx.Client(base_url=server.url, trust_env=False, timeout=30, verify=loopback_tls()) as client:
        for route in ("chat/completions", "images/generations"):
            answer = client.post(f"/v1beta/openai/{route}", json={"model": TEXT_MODEL})
            assert answer.status_code == 403 and answer.json()["error"]["status"] == "PERMISSION_DENIED"


def test_a_bearer_api_key_on_a_native_route_is_401(emulator):
    server = emulator("healthy")
    with httpx.Client(base_url=server.url, trust_env=False, timeout=30, verify=loopback_tls()) as client:
        answer = client.get("/v1beta/models", headers={"authorization": f"Bearer {KEY}"})
    assert answer.status_code == 401 and answer.json()["error"]["status"] == "UNAUTHENTICATED"


# ============================================================================ the google-cloud clients
def gcp_options(server) -> dict:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    return {
        "transport": "rest",
        "credentials": AnonymousCredentials(),
        "client_options": ClientOptions(api_endpoint=server.url),
    }


def test_cloud_quotas_pages_with_page_size(emulator):
    from google.cloud import cloudquotas_v1

    server = emulator("healthy")
    client = cloudquotas_v1.CloudQuotasClient(**gcp_options(server))
    expected = [q.quota_id for q in find_scenario("healthy").quotas]
    listed = [i.quota_id for i in client.list_quota_infos(request={"parent": QUOTA_PARENT, "page_size": 1})]
    assert listed == expected
    assert server.recorder.count("/quotaInfos") == len(expected)
    first = client.list_quota_infos(parent=QUOTA_PARENT)
    assert not first.next_page_token  # the default page holds them all (what the doctor reads)


def test_service_usage_and_billing_clients(emulator):
    from google.cloud import billing_v1, service_usage_v1

    server = emulator("service-disabled")
    service = service_usage_v1.ServiceUsageClient(**gcp_options(server)).get_service(
        request={"name": f"projects/{PROJECT}/services/generativelanguage.googleapis.com"}
    )
    assert service.state == service_usage_v1.State.DISABLED
    info = billing_v1.CloudBillingClient(**gcp_options(server)).get_project_billing_info(name=f"projects/{PROJECT}")
    assert info.billing_enabled is True


# ============================================================================ every scenario, pinned
# What google-genai (default configuration, the scenario's own check arguments) sees: an exception (class, code,
# status), or a 200's finish reason and image pixel size (None: no image).
PINNED = {
    "healthy": ("ok", "STOP", (1024, 1024)),
    "billing-limit-zero": ("ClientError", 429, "RESOURCE_EXHAUSTED"),
    "ipm-exceeded": ("ClientError", 429, "RESOURCE_EXHAUSTED"),
    "ghost-429": ("ClientError", 429, "RESOURCE_EXHAUSTED"),
    "dynamic-shared-quota": ("ClientError", 429, "RESOURCE_EXHAUSTED"),
    "wrong-response-modalities": ("ok", "STOP", None),
    "wrong-endpoint": ("ClientError", 400, "INVALID_ARGUMENT"),
    "wrong-model-name": ("ClientError", 404, "NOT_FOUND"),
    "billing-not-enabled": ("ClientError", 400, "FAILED_PRECONDITION"),
    "image-size-case": ("ok", "STOP", (1024, 1024)),
    "image-config-stripped": ("ok", "STOP", (1024, 1024)),
    "missing-text-modality": ("ok", "STOP", None),
    "api-key-invalid": ("ClientError", 400, "INVALID_ARGUMENT"),
    "service-disabled": ("ClientError", 403, "PERMISSION_DENIED"),
    "api-key-restricted": ("ClientError", 403, "PERMISSION_DENIED"),
    "permission-denied": ("ClientError", 403, "PERMISSION_DENIED"),
    "location-unsupported": ("ClientError", 400, "FAILED_PRECONDITION"),
    "prepay-depleted": ("ClientError", 402, "RESOURCE_EXHAUSTED"),
    "daily-quota-exhausted": ("ClientError", 429, "RESOURCE_EXHAUSTED"),
    "model-overloaded": ("ServerError", 503, "UNAVAILABLE"),
    "server-error": ("ServerError", 500, "INTERNAL"),
    "deadline-exceeded": ("ServerError", 504, "DEADLINE_EXCEEDED"),
    "safety-blocked": ("ok", "IMAGE_SAFETY", None),
    "no-image-returned": ("ok", "NO_IMAGE", None),
    "model-deprecated": ("ClientError", 404, "NOT_FOUND"),
}
# The same scenarios through the openai SDK's chat.completions (an image model): exception class and status code.
PINNED_OPENAI = {
    "billing-limit-zero": ("RateLimitError", 429),
    "ipm-exceeded": ("RateLimitError", 429),
    "api-key-invalid": ("BadRequestError", 400),
    "service-disabled": ("PermissionDeniedError", 403),
    "prepay-depleted": ("APIStatusError", 402),
    "model-overloaded": ("InternalServerError", 503),
    "safety-blocked": ("ok", "content_filter"),
    "healthy": ("ok", "stop"),
}


def scenario_call(slug: str) -> dict:
    """The request the scenario's reproducing `check` arguments describe."""
    args = list(find_scenario(slug).check_args)

    def flag(name: str, default=None):
        return args[args.index(name) + 1] if name in args else default

    modalities = flag("--modalities", "IMAGE").split(",")
    ratio, size = flag("--aspect-ratio"), flag("--image-size")
    image = types.ImageConfig(aspect_ratio=ratio, image_size=size) if ratio or size else None
    return {
        "model": flag("--model", IMAGE_MODEL),
        "version": flag("--api-version"),
        "config": types.GenerateContentConfig(response_modalities=modalities, image_config=image),
    }


def test_every_scenario_is_pinned():
    assert set(PINNED) == {s.slug for s in scenarios() if s.backend == "gemini"}  # Vertex's: test_emulator_vertex.py


@pytest.mark.parametrize("slug", PINNED)
def test_scenario_as_google_genai_sees_it(emulator, monkeypatch, slug):
    server = emulator(slug)
    call = scenario_call(slug)
    if call["version"]:
        monkeypatch.setenv("GOOGLE_GENAI_API_VERSION", call["version"])
    client = default_client(server, monkeypatch)
    try:
        response = client.models.generate_content(model=call["model"], contents="a banana", config=call["config"])
    except errors.APIError as error:
        assert (type(error).__name__, error.code, error.status) == PINNED[slug]
        return
    found = images(response)
    reason = response.candidates[0].finish_reason
    seen = ("ok", getattr(reason, "value", reason), size_of(found[0]) if found else None)
    assert seen == PINNED[slug]
    assert_usage_adds_up(response.usage_metadata)


@pytest.mark.parametrize("slug", PINNED_OPENAI)
def test_scenario_as_the_openai_sdk_sees_it(emulator, slug):
    server = emulator(slug)
    try:
        completion = openai_client(server).chat.completions.create(
            model="gemini-2.5-flash-image", messages=[{"role": "user", "content": "a banana"}]
        )
    except openai.APIStatusError as error:
        assert (type(error).__name__, error.status_code) == PINNED_OPENAI[slug]
        body = error.response.json()
        assert isinstance(body, list) and body[0]["error"]["code"] == error.status_code
        return
    assert ("ok", completion.choices[0].finish_reason) == PINNED_OPENAI[slug]
