"""Node's @google/genai with `vertexai: true` (express mode: an API key, no project, no ADC) against the emulator's
Vertex routes: one Node process for every call, as tests/test_node_client.py runs it."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gemini_doctor.emulator.tables import api_model
from gemini_doctor.images import sniff
from tests.test_node_client import KEY, emulators, error_of, run_node

MODEL = "gemini-2.5-flash-image"
EXPRESS = f"/v1beta1/publishers/google/models/{MODEL}"
KINDS = ("generate", "stream", "count_tokens", "get_model")


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    with emulators(["healthy", "vertex-api-disabled"]) as servers:
        call = {"model": MODEL, "modalities": ["IMAGE"], "aspect_ratio": "16:9", "vertexai": True, "api_key": KEY}
        calls = [{**call, "kind": kind, "base_url": servers["healthy"].url} for kind in KINDS]
        calls.append({**call, "kind": "generate", "base_url": servers["vertex-api-disabled"].url})
        lines = run_node(calls)
        paths = [r.path for r in servers["healthy"].recorder.requests]
        keys = [(r.key_in_header, r.key_in_query) for r in servers["healthy"].recorder.requests]
    return {**dict(zip(KINDS, lines, strict=False)), "disabled": lines[-1], "paths": paths, "keys": keys}


def test_express_mode_generate_and_stream_get_the_image(results):
    for kind in ("generate", "stream"):
        line = results[kind]
        assert line["ok"] and line["finish_reason"] == "STOP", line
        [image] = line["images"]
        info = sniff(base64.b64decode(image["data"]))
        assert (info.format, info.size) == (api_model(MODEL).output_format, api_model(MODEL).pixel_size("1K", "16:9"))
        assert line["usage"]["trafficType"] == "ON_DEMAND"


def test_express_mode_goes_to_the_vertex_routes_with_the_key_in_a_header(results):
    assert results["paths"] == [
        f"{EXPRESS}:generateContent",
        f"{EXPRESS}:streamGenerateContent",
        f"{EXPRESS}:countTokens",
        EXPRESS,
    ]
    assert set(results["keys"]) == {(True, False)}
    assert results["count_tokens"]["total_tokens"] > 0
    assert results["get_model"]["name"] == f"publishers/google/models/{MODEL}"


def test_vertex_api_disabled_as_node_sees_it(results):
    error = error_of(results["disabled"])
    assert (results["disabled"]["status"], error["status"]) == (403, "PERMISSION_DENIED")
    assert error["message"].startswith("Vertex AI API has not been used in project")
    assert [d.get("reason") for d in error["details"] if "reason" in d] == ["SERVICE_DISABLED"]
