"""The Python API against the real google-genai client and the emulator, for every scenario.

One loopback server serves every scenario at once (`/s/{slug}/…` goes to that scenario's emulator app), so the
module starts one uvicorn thread, not one per scenario. For each scenario, through google-genai in its default
configuration (API version v1): the guarded client raises the named `GeminiImageError` subclass or returns the
image (sync for every scenario; stream, async and async-stream too for one scenario of each outcome), the original
exception kept as `__cause__`, with no request of its own; `diagnose` names the scenario's cause first from the
unguarded exception or answer; and each `Diagnosis.to_dict()` is what `explain --format json` prints for the same
paste."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import requests
from google.genai import Client, errors, types

from gemini_doctor import api as gd
from gemini_doctor.api import diagnose, guard
from gemini_doctor.emulator.app import create_app
from gemini_doctor.emulator.recorder import Recorder
from gemini_doctor.emulator.scenarios import scenarios
from gemini_doctor.images import sniff
from gemini_doctor.knowledge import find_model
from gemini_doctor.serving import SocketServer
from tests.test_emulator_clients import IMAGE_MODEL, KEY, PINNED, TEXT_MODEL, scenario_call

# What the guard raises for each scenario, and the cause it names first. From the client side a ghost-429 reads
# as billing-limit-zero: the 429 is the same (a free-tier quota of 0); only billing being on tells them apart,
# which the app must say (`billing_enabled=True`, tested below).
EXPECTED: dict[str, tuple[type[gd.GeminiImageError] | None, str | None]] = {
    "healthy": (None, None),
    "billing-limit-zero": (gd.BillingError, "billing-limit-zero"),
    "ipm-exceeded": (gd.QuotaError, "ipm-exceeded"),
    "ghost-429": (gd.BillingError, "billing-limit-zero"),
    "dynamic-shared-quota": (gd.QuotaError, "dynamic-shared-quota"),
    "wrong-response-modalities": (gd.NoImageError, "wrong-response-modalities"),
    "wrong-endpoint": (gd.ModelError, "wrong-endpoint"),
    "wrong-model-name": (gd.ModelError, "wrong-model-name"),
    "billing-not-enabled": (gd.BillingError, "billing-not-enabled"),
    "image-size-case": (gd.ImageMismatchError, "image-size-case"),
    "image-config-stripped": (gd.ImageMismatchError, "image-config-stripped"),
    "missing-text-modality": (gd.NoImageError, "missing-text-modality"),
    "api-key-invalid": (gd.AuthError, "api-key-invalid"),
    "service-disabled": (gd.AuthError, "service-disabled"),
    "api-key-restricted": (gd.AuthError, "api-key-restricted"),
    "permission-denied": (gd.AuthError, "permission-denied"),
    "location-unsupported": (gd.AuthError, "location-unsupported"),
    "prepay-depleted": (gd.BillingError, "prepay-depleted"),
    "daily-quota-exhausted": (gd.QuotaError, "daily-quota-exhausted"),
    "model-overloaded": (gd.TransientError, "model-overloaded"),
    "server-error": (gd.TransientError, "server-error"),
    "deadline-exceeded": (gd.TransientError, "deadline-exceeded"),
    "safety-blocked": (gd.NoImageError, "safety-blocked"),
    "no-image-returned": (gd.NoImageError, "no-image-returned"),
    "model-deprecated": (gd.ModelError, "model-deprecated"),
}
MODES = ("sync", "stream", "async", "async-stream")
# Every scenario is called in the sync style; the three others share its checks (`_Call` in guard.py) and only
# wrap differently, so they are called for the first scenario of each outcome (healthy and each exception class).
ALL_STYLES = {next(slug for slug, (kind, _) in EXPECTED.items() if kind is k) for k, _ in EXPECTED.values()}


class AllScenarios(SocketServer):
    """Every scenario's emulator app behind one socket: `/s/{slug}/v1/models/…` is `/v1/models/…` of `slug`."""

    name = "emulators"

    def __init__(self) -> None:
        super().__init__()
        self.recorders = {s.slug: Recorder() for s in scenarios()}
        self.apps = {s.slug: create_app(s, recorder=self.recorders[s.slug]) for s in scenarios()}
        self.serve_app(
            self.dispatch, interface="asgi3", log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )

    async def dispatch(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        _, _, slug, rest = scope["path"].split("/", 3)
        path = "/" + rest
        await self.apps[slug]({**scope, "path": path, "raw_path": path.encode()}, receive, send)

    def base_url(self, slug: str) -> str:
        return f"{self.url}/s/{slug}/"


@pytest.fixture(scope="module")
def server() -> Iterator[AllScenarios]:
    with AllScenarios() as started:
        yield started


def new_client(base_url: str) -> Client:
    """google-genai in its default configuration (API version v1), pointed at the emulator."""
    return Client(api_key=KEY, http_options=types.HttpOptions(base_url=base_url))


@pytest.fixture(scope="module")
def raw(server: AllScenarios) -> Client:
    """One client for the module (making one costs about 0.15 s); each call names its scenario's base URL."""
    return new_client(server.base_url("healthy"))


@pytest.fixture(scope="module")
def guarded(server: AllScenarios) -> Client:
    return guard(new_client(server.base_url("healthy")))


def routed(config: types.GenerateContentConfig, base_url: str) -> types.GenerateContentConfig:
    """The config with a per-request base URL (google-genai's `http_options` in the call's config)."""
    return config.model_copy(update={"http_options": types.HttpOptions(base_url=base_url)})


def call(client: Client, mode: str, slug: str, base_url: str) -> Any:
    """One generateContent in the given style, with the scenario's own model and config."""
    request = scenario_call(slug)
    kwargs = {"model": request["model"], "contents": "a banana", "config": routed(request["config"], base_url)}
    if mode == "sync":
        return client.models.generate_content(**kwargs)
    if mode == "stream":
        return list(client.models.generate_content_stream(**kwargs))

    async def run() -> Any:
        if mode == "async":
            return await client.aio.models.generate_content(**kwargs)
        return [chunk async for chunk in await client.aio.models.generate_content_stream(**kwargs)]

    return asyncio.run(run())


def last_image(answer: Any) -> bytes:
    chunks = answer if isinstance(answer, list) else [answer]
    parts = [p for c in chunks for p in (c.candidates[0].content.parts or [])]
    return [p.inline_data.data for p in parts if p.inline_data][-1]


def test_every_scenario_is_expected():
    assert set(EXPECTED) == {s.slug for s in scenarios() if s.backend == "gemini"}
    assert set(VERTEX_EXPECTED) == {s.slug for s in scenarios() if s.backend == "vertex"}


# The Vertex scenarios, through google-genai with vertexai=True: the guard is the same for both backends. The
# predict scenario is an app calling :predict, a route the guard does not wrap (it wraps generateContent): its
# text is named from the SDK's own exception instead.
VERTEX_EXPECTED: dict[str, tuple[type[gd.GeminiImageError] | None, str]] = {
    "vertex-base-model-quota": (gd.QuotaError, "vertex-base-model-quota"),
    "vertex-provisioned-throughput": (gd.QuotaError, "vertex-provisioned-throughput"),
    "vertex-model-not-in-region": (gd.ModelError, "vertex-model-not-in-region"),
    "vertex-predict-api": (None, "vertex-predict-api"),
    "vertex-permission-denied": (gd.AuthError, "vertex-permission-denied"),
    "vertex-api-disabled": (gd.AuthError, "vertex-api-disabled"),
    "vertex-billing-disabled": (gd.BillingError, "vertex-billing-disabled"),
    "vertex-location-unsupported": (gd.ParameterError, "vertex-location-unsupported"),  # the client's setup
}


def vertex_client(base_url: str, location: str, headers: dict[str, str]) -> Client:
    from google.oauth2.credentials import Credentials

    options = types.HttpOptions(base_url=base_url, headers=headers)
    return Client(vertexai=True, project="p", location=location, credentials=Credentials("t"), http_options=options)


@pytest.mark.parametrize("slug", VERTEX_EXPECTED)
def test_the_guard_names_each_vertex_scenario(server, slug):
    expected, named = VERTEX_EXPECTED[slug]
    scenario = next(s for s in scenarios() if s.slug == slug)
    call_ = scenario.call
    client = vertex_client(server.base_url(slug), call_["location"], dict(call_.get("headers", {})))
    config = types.GenerateContentConfig(response_modalities=["IMAGE"])
    if expected is None:  # :predict, outside the guard: the SDK's exception, diagnosed
        with pytest.raises(errors.APIError) as raised:
            client.models.generate_images(model=call_["model"], prompt="a banana")
        assert diagnose(raised.value)[0].slug == named
        return
    with pytest.raises(expected) as caught:
        guard(client).models.generate_content(model=call_["model"], contents="a banana", config=config)
    assert isinstance(caught.value.__cause__, errors.APIError)
    assert caught.value.diagnoses[0].slug == named


@pytest.mark.parametrize("slug", EXPECTED)
def test_the_guard_names_each_scenario(server, guarded, slug):
    expected, named = EXPECTED[slug]
    for mode in MODES if slug in ALL_STYLES else MODES[:1]:
        before = server.recorders[slug].count(":")
        if expected is None:
            answer = call(guarded, mode, slug, server.base_url(slug))
            assert sniff(last_image(answer)).size == (1024, 1024), mode  # the default 1K 1:1
        else:
            with pytest.raises(expected) as caught:
                call(guarded, mode, slug, server.base_url(slug))
            error = caught.value
            assert type(error) is expected, (mode, str(error))
            assert error.diagnoses[0].slug == named, (mode, [d.slug for d in error.diagnoses])
            assert named in str(error)
            assert_cause(error, slug)
        assert server.recorders[slug].count(":") == before + 1, f"{mode}: the guard sent a request of its own"


def assert_cause(error: gd.GeminiImageError, slug: str) -> None:
    """The exception google-genai raised is the `__cause__`; a 200 raised nothing: the guard read the answer."""
    cause = error.__cause__
    if PINNED[slug][0] == "ok":
        assert cause is None
    else:
        assert isinstance(cause, errors.APIError) and type(cause).__name__ == PINNED[slug][0]


def paste_of(answer: Any) -> str:
    """What a user would paste: google-genai's exception text, or the answer's JSON."""
    if isinstance(answer, BaseException):
        return str(answer)
    return answer.model_dump_json(by_alias=True, exclude_none=True)


def unguarded(client: Client, server: AllScenarios, slug: str) -> Any:
    try:
        return call(client, "sync", slug, server.base_url(slug))
    except errors.APIError as error:
        return error


@pytest.mark.parametrize("slug", EXPECTED)
def test_diagnose_names_the_scenario_and_matches_explain(server, raw, slug, run_cli, tmp_path):
    """`diagnose` on what the unguarded client raised or returned: the scenario's cause first, and each
    diagnosis exactly as `explain --format json` prints it for the paste of the same thing."""
    request = scenario_call(slug)
    config = request["config"].model_dump(mode="json", exclude_none=True)
    answer = unguarded(raw, server, slug)
    found = diagnose(answer, request=request["config"], model=request["model"])
    assert [d.slug for d in found[:1]] == ([EXPECTED[slug][1]] if EXPECTED[slug][1] else [])
    body = tmp_path / "request.json"
    body.write_text(json.dumps({"config": config}))
    args = ["explain", "-", "--format", "json", "--model", request["model"], "--request", str(body)]
    _, out, _ = run_cli(*args, input=paste_of(answer))
    assert [d.to_dict() for d in found] == json.loads(out)["diagnosis"]


@pytest.mark.parametrize("slug", ["image-size-case", "image-config-stripped"])
def test_an_ignored_setting_needs_the_request(server, raw, slug):
    """The answer alone is a good 1K square image: only the request says another size or ratio was asked."""
    answer = unguarded(raw, server, slug)
    assert diagnose(answer) == []
    assert diagnose(answer, request=scenario_call(slug)["config"])[0].slug == slug


def test_ghost_429_is_named_when_the_app_knows_billing_is_on(server, raw):
    error = unguarded(raw, server, "ghost-429")
    assert diagnose(error, billing_enabled=True)[0].slug == "ghost-429"
    assert diagnose(error, billing_enabled=False)[0].slug == "billing-limit-zero"


def test_no_image_error_carries_the_finish_reason(server, guarded):
    reasons = {}
    for slug in ("safety-blocked", "no-image-returned", "wrong-response-modalities"):
        with pytest.raises(gd.NoImageError) as caught:
            call(guarded, "sync", slug, server.base_url(slug))
        reasons[slug] = caught.value.finish_reason
    assert reasons == {
        "safety-blocked": "IMAGE_SAFETY",
        "no-image-returned": "NO_IMAGE",
        "wrong-response-modalities": "STOP",
    }


def test_image_mismatch_error_carries_the_sizes(server, guarded):
    with pytest.raises(gd.ImageMismatchError) as caught:
        call(guarded, "sync", "image-config-stripped", server.base_url("image-config-stripped"))
    error = caught.value
    assert error.size == (1024, 1024)
    assert error.asked == {"aspect_ratio": "16:9"}
    assert error.expected == find_model(IMAGE_MODEL).expected_size("1K", "16:9") != error.size
    as_dict = {"response_modalities": ["IMAGE"], "image_config": {"aspect_ratio": "16:9"}}  # a config dict
    config = {**as_dict, "http_options": {"base_url": server.base_url("image-config-stripped")}}
    with pytest.raises(gd.ImageMismatchError):
        guarded.models.generate_content(model=IMAGE_MODEL, contents="a banana", config=config)


def test_the_guarded_image_is_the_one_asked_for(guarded):
    config = types.GenerateContentConfig(
        response_modalities=["IMAGE"], image_config=types.ImageConfig(aspect_ratio="16:9", image_size="2K")
    )
    response = guarded.models.generate_content(model=IMAGE_MODEL, contents="a banana", config=config)
    data = response.candidates[0].content.parts[-1].inline_data.data
    assert sniff(data).size == find_model(IMAGE_MODEL).pixel_size("2K", "16:9")


def test_text_calls_pass_through_untouched(server, guarded):
    failing = types.GenerateContentConfig(http_options=types.HttpOptions(base_url=server.base_url("server-error")))
    with pytest.raises(errors.ServerError) as caught:  # not a gd.GeminiImageError: no image was asked for
        guarded.models.generate_content(model=TEXT_MODEL, contents="hello", config=failing)
    assert not isinstance(caught.value, gd.GeminiImageError)
    assert guarded.models.generate_content(model=TEXT_MODEL, contents="hello").text


def test_guard_returns_the_same_client_once(server):
    client = new_client(server.base_url("healthy"))
    assert guard(client) is client
    wrapped = client.models.generate_content
    assert guard(client) is client and client.models.generate_content is wrapped


def test_a_network_failure_is_a_network_error(guarded):
    with pytest.raises(gd.NetworkError) as caught:
        call(guarded, "sync", "healthy", "http://127.0.0.1:9/")  # nothing listens on the discard port
    assert caught.value.diagnoses[0].slug == "network-unreachable"
    assert type(caught.value.__cause__).__name__ == "ConnectError"  # httpx's (google-genai may bundle httpx2)


@pytest.mark.parametrize("client_name", ["httpx", "requests"])
def test_raw_http_answers_from_the_emulator(server, client_name):
    """An app that calls the REST API itself: its httpx or requests Response, as received."""
    url = f"{server.base_url('ipm-exceeded')}v1beta/models/{IMAGE_MODEL}:generateContent"
    body = {"contents": [{"parts": [{"text": "a banana"}]}]}
    post = httpx.post if client_name == "httpx" else requests.post
    response = post(url, json=body, headers={"x-goog-api-key": KEY}, timeout=10)
    found = diagnose(response)
    assert found[0].slug == "ipm-exceeded" and found[0].retryable
    healthy = post(url.replace("ipm-exceeded", "healthy"), json=body, headers={"x-goog-api-key": KEY}, timeout=10)
    assert diagnose(healthy) == []


def readme_example() -> str:
    """The example app of the README's Python API section, as printed there."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    return next(b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "tenacity.retry" in b)


@pytest.mark.parametrize(
    ("slug", "outcome"),
    [("healthy", "image"), ("billing-limit-zero", "alert"), ("no-image-returned", "warning")],
)
def test_the_readme_example_runs(server, monkeypatch, slug, outcome):
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.base_url(slug))
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    seen: dict[str, list[str]] = {"alert": [], "warning": [], "error": []}
    log = SimpleNamespace(
        warning=lambda text, *args: seen["warning"].append(text % args),
        error=lambda text, *args, **_: seen["error"].append(text % args),
    )
    namespace: dict[str, Any] = {"alert": seen["alert"].append, "log": log}
    exec(compile(readme_example(), "README.md", "exec"), namespace)
    if outcome == "image":
        assert sniff(namespace["image"]).size == find_model("gemini-3-pro-image").pixel_size("2K", "16:9")
        assert not any(seen.values())
    else:
        assert len(seen[outcome]) == 1 and slug in seen[outcome][0] and "image" not in namespace
