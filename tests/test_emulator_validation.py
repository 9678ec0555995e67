"""Requests read as Google's proto-JSON front end reads them, on every route; never a plain-text 500."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemini_doctor.emulator.scenarios import find_scenario
from gemini_doctor.emulator.server import EmulatorServer
from tests.conftest import loopback_tls

KEY = "emulated-key"
MODEL = "gemini-3-pro-image"
GENERATE = f"/v1beta/models/{MODEL}:generateContent"
CONTENTS = [{"parts": [{"text": "a banana"}]}]
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


def post(server, path: str, body: object, **params) -> httpx.Response:
    with httpx.Client(
        base_url=server.url, headers={"x-goog-api-key": KEY}, timeout=30, trust_env=False, verify=loopback_tls()
    ) as client:
        return client.post(path, json=body, params=params)


def error_of(answer: httpx.Response, code: int = 400) -> dict:
    assert answer.status_code == code, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and error["status"] == "INVALID_ARGUMENT"
    return error


CASES = {
    "unknown field": (
        {"contents": CONTENTS, "generationConfig": {"responseModality": ["IMAGE"]}},
        "Invalid JSON payload received. Unknown name \"responseModality\" at 'generation_config': Cannot find field.",
        "generation_config",
    ),
    "unknown top-level field": (
        {"contents": CONTENTS, "generation": {}},
        'Invalid JSON payload received. Unknown name "generation": Cannot find field.',
        "",
    ),
    "bad enum": (
        {"contents": CONTENTS, "generationConfig": {"responseModalities": ["VIDEO"]}},
        "Invalid value at 'generation_config.response_modalities[0]' "
        '(type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality), "VIDEO"',
        "generation_config.response_modalities[0]",
    ),
    "image config as a string": (
        {"contents": CONTENTS, "generationConfig": {"imageConfig": "16:9"}},
        "Invalid value at 'generation_config.image_config' "
        '(type.googleapis.com/google.ai.generativelanguage.v1beta.ImageConfig), "16:9"',
        "generation_config.image_config",
    ),
    "contents a number": (
        {"contents": 5},
        "Invalid value at 'contents' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), 5",
        "contents",
    ),
    "int32 not a number": (
        {"contents": CONTENTS, "generationConfig": {"candidateCount": "two"}},
        "Invalid value at 'generation_config.candidate_count' (TYPE_INT32), \"two\"",
        "generation_config.candidate_count",
    ),
    "a list where one value goes": (
        {"contents": CONTENTS, "generationConfig": {"temperature": [1]}},
        "Invalid JSON payload received. Unknown name \"temperature\" at 'generation_config': Proto field is not "
        "repeating, cannot start list.",
        "generation_config",
    ),
    "modalities a number": (
        {"contents": CONTENTS, "generationConfig": {"responseModalities": 5}},
        "Invalid value at 'generation_config.response_modalities' "
        "(type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality), 5",
        "generation_config.response_modalities",
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_googles_400_for_each_kind_of_bad_request(emulator, name):
    body, message, field = CASES[name]
    error = error_of(post(emulator("healthy"), GENERATE, body))
    assert error["message"] == message
    assert error["details"] == [{"@type": BAD_REQUEST, "fieldViolations": [{"field": field, "description": message}]}]


def test_every_violation_is_reported(emulator):
    body = {"contents": CONTENTS, "generationConfig": {"a": 1, "b": 2, "topK": "x"}}
    error = error_of(post(emulator("healthy"), GENERATE, body))
    assert len(error["details"][0]["fieldViolations"]) == 3 and len(error["message"].splitlines()) == 3


def test_snake_case_and_camel_case_and_enum_case_are_all_accepted(emulator):
    server = emulator("healthy")
    snake = {
        "contents": CONTENTS,
        "generation_config": {"response_modalities": ["Image"], "image_config": {"aspect_ratio": "16:9"}},
    }
    camel = {
        "contents": CONTENTS,
        "generationConfig": {"responseModalities": [2], "imageConfig": {"aspectRatio": "16:9"}},
    }
    for body in (snake, camel):
        answer = post(server, GENERATE, body)
        assert answer.status_code == 200, answer.text
        parts = answer.json()["candidates"][0]["content"]["parts"]
        assert [p for p in parts if "inlineData" in p]


def test_candidate_count_as_a_decimal_string_is_read_as_a_number(emulator):
    """Proto JSON takes int32 as a string: "2" is 2, and 2 candidates are refused (not silently accepted)."""
    body = {"contents": CONTENTS, "generationConfig": {"candidateCount": "2"}}
    error = error_of(post(emulator("healthy"), GENERATE, body))
    assert error["message"].startswith("Multiple candidates is not enabled")


def test_audio_on_an_image_model_is_refused_not_answered_with_text(emulator):
    body = {"contents": CONTENTS, "generationConfig": {"responseModalities": ["AUDIO"]}}
    error = error_of(post(emulator("healthy"), GENERATE, body))
    assert error["message"] == "Model does not support the requested response modalities: audio"


def test_v1_in_wrong_endpoint_refuses_image_fields_and_healthy_takes_them(emulator):
    body = {"contents": CONTENTS, "generationConfig": {"responseModalities": ["IMAGE"]}}
    path = f"/v1/models/{MODEL}:generateContent"
    error = error_of(post(emulator("wrong-endpoint"), path, body))
    assert "Unknown name \"responseModalities\" at 'generation_config'" in error["message"]
    assert post(emulator("healthy"), path, body).status_code == 200


# ---------------------------------------------------------------------------------------------- any body, any route
LEAF = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
    | st.sampled_from(["IMAGE", "TEXT", "image", "AUDIO", "1K", "2k", "16:9", "2", "-1", "AAAA", "!!"])
)
NAMES = st.sampled_from(
    ["contents", "parts", "text", "role", "generationConfig", "generation_config", "imageConfig", "aspectRatio",
     "imageSize", "responseModalities", "candidateCount", "inlineData", "data", "mimeType", "model", "messages",
     "content", "prompt", "n", "generateContentRequest", "safetySettings", "category", "threshold"]
)  # fmt: skip
ANY = st.recursive(
    LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES | st.text(max_size=6), inner, max_size=4)
)
SHAPED = st.fixed_dictionaries(
    {"contents": st.one_of(st.just(CONTENTS), ANY)},
    optional={"generationConfig": st.dictionaries(NAMES, ANY, max_size=3), "model": ANY, "messages": ANY},
)
ROUTES = [
    "/v1beta/models/{m}:generateContent",
    "/v1/models/{m}:generateContent",
    "/v1beta/models/{m}:streamGenerateContent?alt=sse",
    "/v1beta/models/{m}:streamGenerateContent",
    "/v1/models/{m}:countTokens",
    "/v1beta/openai/chat/completions",
    "/v1beta/openai/images/generations",
]


def google_shaped(answer: httpx.Response) -> None:
    """A valid answer of the route, or Google's error (an object, or a one-element list on the OpenAI routes)."""
    assert answer.status_code != 500, answer.text
    assert answer.headers["content-type"].startswith(("application/json", "text/event-stream")), answer.text
    if answer.status_code == 200:
        return
    body = answer.json()
    error = (body[0] if isinstance(body, list) else body)["error"]
    assert error["code"] == answer.status_code and isinstance(error["message"], str) and error["status"]


def test_random_bodies_on_every_route_get_an_answer_or_googles_error():
    headers = {"x-goog-api-key": KEY, "authorization": f"Bearer {KEY}"}
    with (
        EmulatorServer(find_scenario("healthy")) as server,
        httpx.Client(
            base_url=server.url, headers=headers, timeout=60, trust_env=False, verify=loopback_tls()
        ) as client,
    ):

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            body=st.one_of(SHAPED, SHAPED, ANY),
            route=st.sampled_from(ROUTES),
            model=st.sampled_from([MODEL, "gemini-2.5-flash", "gemini-2.5-flash-image", "nope"]),
        )
        def check(body: object, route: str, model: str) -> None:
            if route.startswith("/v1beta/openai/") and isinstance(body, dict) and "model" not in body:
                body = {**body, "model": model}
            google_shaped(client.post(route.format(m=model), json=body))

        check()
