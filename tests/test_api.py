"""The Python API without a server: what `diagnose` reads (google.api_core exceptions, httpx and requests
responses built here, dicts, google-genai objects, text), that it answers as `explain` does, the retry help (with
the real tenacity), the exception families read from the catalog, and that importing it stays light."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import requests
import tenacity
from google.api_core import exceptions as api_core
from google.genai import errors as genai_errors
from google.genai import types
from google.rpc import error_details_pb2
from PIL import Image

import gemini_doctor
from gemini_doctor import api
from gemini_doctor.api import (
    AuthError,
    BillingError,
    Confidence,
    Diagnosis,
    GeminiImageError,
    ImageMismatchError,
    ModelError,
    NoImageError,
    ParameterError,
    QuotaError,
    diagnose,
    exception_class,
    retry_wait,
    should_retry,
    tenacity_retry,
    tenacity_wait,
    to_text,
)
from gemini_doctor.knowledge import error_types
from tests.conftest import FIXTURES

FAKE_KEY = "AIza" + "x" * 35  # obviously fake, built at run time
QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


def status_body(code: int, status: str, message: str, *details: dict) -> dict:
    return {"error": {"code": code, "message": message, "status": status, "details": list(details)}}


def per_minute_429(delay: str | None = "34s") -> dict:
    violation = {
        "quotaMetric": "generativelanguage.googleapis.com/generate_content_paid_tier_requests",
        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
        "quotaValue": "10",
    }
    details = [{"@type": QUOTA_FAILURE, "violations": [violation]}]
    details += [{"@type": RETRY_INFO, "retryDelay": delay}] if delay else []
    return status_body(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.", *details)


def free_tier_429() -> dict:
    violation = {
        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
        "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
        "quotaValue": "0",
    }
    return status_body(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota.",
        {"@type": QUOTA_FAILURE, "violations": [violation]},
    )


def overloaded_503() -> dict:
    return status_body(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 180, 40)).save(out, "PNG")
    return out.getvalue()


def image_answer(data: bytes, finish: str = "STOP") -> dict:
    part = {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(data).decode()}}
    return {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": finish}]}


def explain_json(run_cli, text: str, *args: str) -> list[dict]:
    _, out, _ = run_cli("explain", "-", "--format", "json", *args, input=text)
    return json.loads(out)["diagnosis"]


# ============================================================================ the same answer as explain
@pytest.mark.parametrize("path", sorted((FIXTURES / "explain").glob("*.json")), ids=lambda p: p.name)
def test_a_dict_is_diagnosed_as_explain_diagnoses_its_file(path: Path, run_cli):
    found = diagnose(json.loads(path.read_text()))
    _, out, _ = run_cli("explain", str(path), "--format", "json")
    assert [d.to_dict() for d in found] == json.loads(out)["diagnosis"]


@pytest.mark.parametrize(
    "thing",
    [
        httpx.Response(503, headers={"retry-after": "30"}, json=overloaded_503()),
        api_core.ResourceExhausted("Quota exceeded.", details=per_minute_429()["error"]["details"]),
        "User location is not supported for the API use.",
    ],
    ids=["httpx", "api_core", "text"],
)
def test_to_dict_is_the_element_explain_prints(thing, run_cli):
    found = diagnose(thing)
    assert found and [d.to_dict() for d in found] == explain_json(run_cli, to_text(thing))
    assert [Diagnosis.from_dict(d.to_dict()) for d in found] == found


def test_the_request_and_model_are_read_as_explain_reads_them(run_cli, tmp_path):
    answer = image_answer(png(1024, 1024))
    config = types.GenerateContentConfig(
        response_modalities=["IMAGE"], image_config=types.ImageConfig(aspect_ratio="16:9", image_size="2K")
    )
    found = diagnose(answer, request=config, model="gemini-3-pro-image")
    assert found[0].slug == "image-config-stripped"
    body = tmp_path / "request.json"
    body.write_text(
        json.dumps(
            {
                "generationConfig": {
                    "responseModalities": ["IMAGE"],
                    "imageConfig": {"aspectRatio": "16:9", "imageSize": "2K"},
                }
            }
        )
    )
    expected = explain_json(run_cli, json.dumps(answer), "--request", str(body), "--model", "gemini-3-pro-image")
    assert [d.to_dict() for d in found] == expected


# ============================================================================ what diagnose reads
def test_google_genai_api_error():
    error = genai_errors.ClientError(429, per_minute_429())
    top = diagnose(error)[0]
    assert (top.slug, top.confidence, top.retryable, top.retry_after) == (
        "ipm-exceeded",
        Confidence.CERTAIN,
        True,
        34.0,
    )


def test_api_core_exception_with_grpc_details():
    violation = error_details_pb2.QuotaFailure.Violation(
        subject="project:123", description="GenerateRequestsPerDayPerProjectPerModel"
    )
    retry = error_details_pb2.RetryInfo()
    retry.retry_delay.seconds = 20
    error = api_core.ResourceExhausted(
        "Quota exceeded for quota metric 'Generate requests' and limit 'GenerateRequestsPerDayPerProjectPerModel'",
        details=[error_details_pb2.QuotaFailure(violations=[violation]), retry],
    )
    found = diagnose(error)
    assert found[0].slug == "daily-quota-exhausted" and not should_retry(found)
    assert "RESOURCE_EXHAUSTED" in to_text(error) and "google.rpc.RetryInfo" in to_text(error)


def test_api_core_exception_from_a_rest_answer_keeps_the_answer():
    response = requests_response(
        403,
        status_body(
            403,
            "PERMISSION_DENIED",
            "Generative Language API has not been used in project 123 before or it is disabled.",
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED"},
        ),
        reason="Forbidden",
    )
    error = api_core.from_http_response(response)
    assert isinstance(error, api_core.Forbidden) and error.response is response
    found = diagnose(error)
    assert found[0].slug == "service-disabled" and exception_class(found[0].slug) is AuthError


def test_api_core_not_found_names_the_model():
    assert diagnose(api_core.NotFound("models/gemini-9-image is not found for API version v1beta"))[0].slug == (
        "wrong-model-name"
    )


def requests_response(status: int, body: dict | bytes, reason: str = "", headers: dict | None = None):
    response = requests.Response()
    response.status_code, response.reason = status, reason
    response.headers.update({"content-type": "application/json", **(headers or {})})
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    url = f"https://generativelanguage.googleapis.com/v1beta/models/gemini-3-pro-image:generateContent?key={FAKE_KEY}"
    response.request = requests.Request("POST", url).prepare()
    response.url = url
    return response


def test_requests_response_with_the_key_in_its_url_never_shows_it():
    response = requests_response(429, free_tier_429(), "Too Many Requests")
    found = diagnose(response)
    assert found[0].slug == "billing-limit-zero" and not should_retry(found)
    assert FAKE_KEY not in to_text(response) and FAKE_KEY not in json.dumps([d.to_dict() for d in found])
    assert "/v1beta/models/gemini-3-pro-image:generateContent" in to_text(response)


def test_httpx_response_headers_and_capped_body():
    response = httpx.Response(503, headers={"retry-after": "30"}, json=overloaded_503())
    top = diagnose(response)[0]
    assert top.slug == "model-overloaded" and "header retry-after: 30" in top.evidence
    huge = httpx.Response(500, text="x" * (1024 * 1024))
    assert len(to_text(huge)) < 70 * 1024
    assert diagnose(huge)[0].slug == "server-error"


def test_httpx_response_not_read_is_not_read():
    response = httpx.Response(429, stream=httpx.ByteStream(json.dumps(per_minute_429()).encode()))
    text = to_text(response)
    assert "HTTP/1.1 429" in text and "QuotaFailure" not in text  # the stream is the app's to read, not ours


def test_generate_content_response_object_and_dict_agree():
    data = png(1024, 1024)
    answer = types.GenerateContentResponse(
        candidates=[
            types.Candidate(
                content=types.Content(role="model", parts=[types.Part.from_bytes(data=data, mime_type="image/png")]),
                finish_reason=types.FinishReason.STOP,
            )
        ]
    )
    request = {"generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "16:9"}}}
    from_object = diagnose(answer, request=request, model="gemini-3-pro-image")
    from_dict = diagnose(image_answer(data), request=request, model="gemini-3-pro-image")
    assert [d.slug for d in from_object] == [d.slug for d in from_dict] == ["image-config-stripped"]
    assert len(to_text(answer)) < 100_000  # image data is cut to its header


def test_a_blocked_answer_and_a_no_image_answer():
    blocked = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}
    assert exception_class(diagnose(blocked)[0].slug) is NoImageError
    no_image = {"candidates": [{"content": {"parts": [{"text": "I cannot draw that."}]}, "finishReason": "NO_IMAGE"}]}
    assert diagnose(no_image)[0].slug == "no-image-returned"


def test_a_healthy_answer_has_no_diagnosis():
    assert diagnose(image_answer(png(1024, 1024)), request={"config": {"response_modalities": ["IMAGE"]}}) == []


def test_any_other_exception_is_read_by_its_name_and_words():
    found = diagnose(ConnectionRefusedError(111, "Connection refused"))
    assert found[0].slug == "network-unreachable"


@pytest.mark.parametrize("nothing", ["", "   ", b"\x00\x01binary"])
def test_nothing_to_read_is_a_value_error(nothing):
    with pytest.raises(ValueError, match=r"empty|binary"):
        diagnose(nothing)


def test_the_guard_fails_a_200_only_for_what_is_wrong_with_the_answer():
    from gemini_doctor.guard import _Call

    misplaced = {"generationConfig": {"responseModalities": ["IMAGE"]}, "imageConfig": {"imageSize": "2K"}}
    assert diagnose(image_answer(png(2048, 2048)), request=misplaced)[0].slug == "invalid-argument"
    _Call("gemini-3-pro-image", misplaced).check([image_answer(png(2048, 2048))])  # the image came: no raise
    with pytest.raises(NoImageError) as caught:  # a stream that ended with no chunk at all
        _Call("gemini-3-pro-image", misplaced).check([])
    assert caught.value.diagnosis.slug == "no-image-returned"


# ============================================================================ retry help
def catalog_diagnoses() -> list[Diagnosis]:
    return [Diagnosis(e.code, e.slug, e.title, Confidence.CERTAIN, (), e.fix, e.retryable, None) for e in error_types()]


def test_never_retry_daily_billing_key_or_parameter_causes():
    never = (BillingError, AuthError, ParameterError, ModelError, NoImageError, ImageMismatchError)
    checked = 0
    for diagnosis in catalog_diagnoses():
        if exception_class(diagnosis.slug) in never or diagnosis.slug == "daily-quota-exhausted":
            assert not should_retry([diagnosis]), diagnosis.slug
            checked += 1
        assert should_retry([diagnosis]) == diagnosis.retryable
    assert checked >= 25


def test_retry_wait_follows_retry_info_else_a_bounded_backoff():
    quota = diagnose(per_minute_429("34s"))
    assert retry_wait(quota, 1) == retry_wait(quota, 5) == 34.0
    overloaded = diagnose(overloaded_503())
    assert should_retry(overloaded)
    assert [retry_wait(overloaded, n) for n in (1, 2, 3, 4, 10)] == [1.0, 2.0, 4.0, 8.0, 60.0]
    assert not should_retry(diagnose(per_minute_429("86400s")))  # a one-day wait is no retry
    assert not should_retry([]) and not should_retry(diagnose(free_tier_429()))


def run_with_tenacity(failures: list[BaseException], attempts: int = 4) -> tuple[object, list[float], int]:
    """Real tenacity with the adapters; its sleep is recorded, not slept."""
    slept: list[float] = []
    calls = 0

    def flaky() -> str:
        nonlocal calls
        calls += 1
        if failures:
            raise failures.pop(0)
        return "image"

    retrying = tenacity.Retrying(
        retry=tenacity_retry,
        wait=tenacity_wait,
        stop=tenacity.stop_after_attempt(attempts),
        sleep=slept.append,
        reraise=True,
    )
    try:
        result: object = retrying(flaky)
    except BaseException as exc:
        result = exc
    return result, slept, calls


def test_tenacity_retries_a_per_minute_quota_after_retry_info():
    errors = [genai_errors.ClientError(429, per_minute_429("34s")) for _ in range(2)]
    assert run_with_tenacity(errors) == ("image", [34.0, 34.0], 3)


def test_tenacity_backs_off_an_overload_and_gives_up():
    errors = [genai_errors.ServerError(503, overloaded_503()) for _ in range(5)]
    result, slept, calls = run_with_tenacity(errors)
    assert isinstance(result, genai_errors.ServerError) and slept == [1.0, 2.0, 4.0] and calls == 4


@pytest.mark.parametrize(
    "error",
    [
        genai_errors.ClientError(429, free_tier_429()),
        genai_errors.ClientError(
            400, status_body(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        ),
        ValueError("a bug in the app"),
    ],
    ids=["billing", "key", "app-bug"],
)
def test_tenacity_never_retries_what_waiting_cannot_fix(error):
    result, slept, calls = run_with_tenacity([error])
    assert result is error and slept == [] and calls == 1


def test_tenacity_reads_a_guarded_error_without_diagnosing_again():
    carried = diagnose(per_minute_429("5s"))
    error = QuotaError("quota", carried)
    assert run_with_tenacity([error]) == ("image", [5.0], 2)
    assert error.retryable and error.retry_after == 5.0 and error.diagnosis is carried[0]
    assert diagnose(error) == carried


# ============================================================================ exception families (data)
def test_the_families_follow_the_catalog():
    families = {entry.slug: exception_class(entry.slug) for entry in error_types()}
    assert families["ipm-exceeded"] is QuotaError and families["billing-limit-zero"] is BillingError
    assert families["wrong-model-name"] is ModelError and families["api-key-invalid"] is AuthError
    assert families["image-config-stripped"] is ImageMismatchError and families["safety-blocked"] is NoImageError
    for entry in error_types():
        cls = families[entry.slug]
        assert issubclass(cls, GeminiImageError)
        if entry.grpc_status or entry.category != "hard-error":  # the catalog can tell: a family takes it
            assert cls is not GeminiImageError, entry.slug
    assert exception_class("unknown") is GeminiImageError and exception_class("no-such-slug") is GeminiImageError


def test_the_readme_table_of_exceptions_is_the_data():
    readme = (FIXTURES.parent / "README.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| (.+) \|$", readme.split("| exception | causes |", 1)[1], re.M)
    listed = {slug: name for name, causes in rows for slug in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)+", causes)}
    assert len(listed) >= 30
    assert {slug: exception_class(slug).__name__ for slug in listed} == listed


# ============================================================================ light imports
HEAVY = ("google.genai", "google.cloud", "google.api_core", "httpx", "requests", "grpc")
PROBE = f"""
import json, sys
import gemini_doctor, gemini_doctor.api
from gemini_doctor import diagnose
found = diagnose({json.dumps(json.dumps(per_minute_429()))})
found += diagnose({{"candidates": [{{"content": {{"parts": [{{"text": "no"}}]}}, "finishReason": "NO_IMAGE"}}]}})
heavy = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in {HEAVY!r}))
print(json.dumps({{"heavy": heavy, "slugs": [d.slug for d in found]}}))
"""


def test_import_and_diagnose_stay_light():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"heavy": [], "slugs": ["ipm-exceeded", "no-image-returned"]}


def test_the_package_exports_lazily():
    assert gemini_doctor.diagnose is api.diagnose and gemini_doctor.GeminiImageError is GeminiImageError
    with pytest.raises(AttributeError):
        _ = gemini_doctor.no_such_name
