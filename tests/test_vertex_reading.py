"""Vertex AI's errors read as Vertex AI's (issue 13): each of Vertex's own causes lands on its GD2xx entry, and the
Gemini Developer API's look-alike keeps its own entry. Synthetic texts in each API's documented wording (unit
tests); the accuracy on real pastes is tests/test_accuracy.py over fixtures/corpus/found-vertex.jsonl.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from gemini_doctor.diagnosis import Context
from gemini_doctor.diagnosis.evidence import read_evidence
from gemini_doctor.diagnosis.layers import answering_google
from gemini_doctor.diagnosis.rules import diagnose
from gemini_doctor.knowledge import error_types, find_error

VERTEX_CODES = {
    "GD201": "vertex-base-model-quota",
    "GD202": "vertex-provisioned-throughput",
    "GD203": "vertex-model-not-in-region",
    "GD204": "vertex-predict-api",
    "GD205": "vertex-permission-denied",
    "GD206": "vertex-api-disabled",
    "GD207": "vertex-billing-disabled",
    "GD208": "vertex-location-unsupported",
    "GD209": "vertex-host-not-found",
    "GD210": "vertex-credentials-missing",
}


def body(code: int, status: str, message: str, *details: dict) -> str:
    return json.dumps({"error": {"code": code, "message": message, "status": status, "details": list(details)}})


def error_info(reason: str, service: str) -> dict:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": service, "consumer": "projects/123"},
    }


def first(text: str) -> str:
    return diagnose(read_evidence(text), Context())[0].error.slug


VERTEX_AND_DEVELOPER_TWINS = [
    (
        "Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model"
        " with base model: gemini-2.5-flash-image. Please submit a quota increase request.",
        "vertex-base-model-quota",
        body(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota.",
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_content_paid_tier_requests",
                        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                        "quotaValue": "500",
                    }
                ],
            },
        ),
        "ipm-exceeded",
    ),
    (
        body(403, "PERMISSION_DENIED", "Vertex AI API has not been used in project 12 before or it is disabled.",
             error_info("SERVICE_DISABLED", "aiplatform.googleapis.com")),
        "vertex-api-disabled",
        body(403, "PERMISSION_DENIED", "Generative Language API has not been used in project 12 before or it is "
             "disabled.", error_info("SERVICE_DISABLED", "generativelanguage.googleapis.com")),
        "service-disabled",
    ),
    (
        body(403, "PERMISSION_DENIED", "This API method requires billing to be enabled. Please enable billing on "
             "project #12 by visiting https://console.developers.google.com/billing/enable?project=12 then retry.",
             error_info("BILLING_DISABLED", "aiplatform.googleapis.com")),
        "vertex-billing-disabled",
        body(400, "FAILED_PRECONDITION", "Gemini API free tier is not available in your country. Please enable "
             "billing on your project in Google AI Studio."),
        "billing-not-enabled",
    ),
    (
        body(403, "PERMISSION_DENIED", "Permission 'aiplatform.endpoints.predict' denied on resource "
             "'//aiplatform.googleapis.com/projects/p/locations/us-central1/publishers/google/models/gemini-3-pro-image'"
             " (or it may not exist)."),
        "vertex-permission-denied",
        body(403, "PERMISSION_DENIED", "Requests to this API generativelanguage.googleapis.com method "
             "google.ai.generativelanguage.v1beta.GenerativeService.GenerateContent are blocked.",
             error_info("API_KEY_SERVICE_BLOCKED", "generativelanguage.googleapis.com")),
        "api-key-restricted",
    ),
    (
        "google.auth.exceptions.DefaultCredentialsError: Your default credentials were not found. To set up "
        "Application Default Credentials, see https://cloud.google.com/docs/authentication/external/set-up-adc.\n"
        '  File "litellm/llms/vertex_ai/vertex_llm_base.py", line 84, in load_auth',
        "vertex-credentials-missing",
        '  File "site-packages/google/generativeai/client.py", line 121, in make_client\n'
        "google.auth.exceptions.DefaultCredentialsError: Your default credentials were not found.",
        "api-key-missing",
    ),
    (
        "Unsupported region for Vertex AI, select from frozenset({'us-central1', 'europe-west4'})",
        "vertex-location-unsupported",
        body(400, "FAILED_PRECONDITION", "User location is not supported for the API use."),
        "location-unsupported",
    ),
    (
        "httpx.ConnectError: [Errno -2] Name or service not known (host us-centrl1-aiplatform.googleapis.com)",
        "vertex-host-not-found",
        "httpx.ConnectError: [Errno -2] Name or service not known (host generativelanguage.googleapis.com)",
        "network-unreachable",
    ),
]  # fmt: skip


@pytest.mark.parametrize("vertex, vertex_slug, developer, developer_slug", VERTEX_AND_DEVELOPER_TWINS)
def test_vertex_wording_lands_on_vertex_and_the_developer_twin_keeps_its_entry(
    vertex, vertex_slug, developer, developer_slug
):
    assert first(vertex) == vertex_slug
    assert first(developer) == developer_slug


@pytest.mark.parametrize(
    "text, slug",
    [
        (body(429, "RESOURCE_EXHAUSTED", "Resource exhausted. Please try again later. Please refer to "
              "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details."),
         "dynamic-shared-quota"),
        (body(429, "RESOURCE_EXHAUSTED", "Too many requests. Exceeded the Provisioned Throughput."),
         "vertex-provisioned-throughput"),
        (body(404, "NOT_FOUND", "Publisher Model `projects/p/locations/us-central1/publishers/google/models/"
              "gemini-3-pro-image` was not found or your project does not have access to it."),
         "vertex-model-not-in-region"),
        ("Publisher Model \n`projects/p/locations/europe-west1/publishers/google/models/gem\nini-3-pro-image` was "
         "not found or your project does not have access to it.", "vertex-model-not-in-region"),
        (body(404, "NOT_FOUND", "Publisher Model `projects/p/locations/global/publishers/google/models/"
              "gemini-3-pro-imag` not found."), "wrong-model-name"),
        (body(400, "FAILED_PRECONDITION", "Gemini cannot be accessed through Vertex Predict/RawPredict API. Please "
              "follow https://cloud.google.com/vertex-ai/docs/generative-ai/start/quickstarts/quickstart-multimodal"),
         "vertex-predict-api"),
        ('HTTP 400 {"error":{"code":400,"message":"Invalid hostname: eu-aiplatform.googleapis.com",'
         '"status":"INVALID_ARGUMENT"}}', "vertex-host-not-found"),
        ("POST https://global-aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/google/models/m:"
         "generateContent\n<!DOCTYPE html>\n<html lang=en>\n<title>Error 404 (Not Found)!!1</title>",
         "vertex-host-not-found"),
    ],
)  # fmt: skip
def test_vertex_only_causes_are_named(text, slug):
    assert first(text) == slug


def test_a_google_404_page_with_nothing_to_name_the_api_is_possible_and_says_the_rival():
    found = diagnose(
        read_evidence("<!DOCTYPE html>\n<html lang=en>\n<title>Error 404 (Not Found)!!1</title>"), Context()
    )
    assert found[0].error.slug == "vertex-host-not-found" and found[0].confidence == "possible"
    assert "wrong-endpoint" in (found[0].note or "")


def test_a_host_named_beats_words_for_which_google_api_answered():
    litellm = (
        "litellm.llms.vertex_httpx.VertexAIError: Client error '429 Too Many Requests' for url "
        "'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash-image:generateContent'"
    )
    assert answering_google(read_evidence(litellm)) == "Gemini Developer API"
    vertex = body(403, "PERMISSION_DENIED", "denied", error_info("SERVICE_DISABLED", "aiplatform.googleapis.com"))
    assert answering_google(read_evidence(vertex)) == "Vertex AI"


def test_the_vertex_entries_keep_their_fixed_codes_and_retry_advice():
    assert {e.code: e.slug for e in error_types() if e.code.startswith("GD2")} == VERTEX_CODES
    retryable = {slug for code, slug in VERTEX_CODES.items() if find_error(code).retryable}
    assert retryable == {"vertex-base-model-quota", "vertex-provisioned-throughput"}


def test_the_vertex_entries_cite_public_sources_and_say_how_to_tell_apart():
    for code in VERTEX_CODES:
        entry = find_error(code)
        assert "https://" in entry.source, code
        assert not any(
            word in entry.source.lower() for word in ("the article", "seed-claims", "[spike]", "shared/research")
        ), code
        assert "Tell apart" in entry.applies_when, code
        assert entry.signatures, code


def test_a_vertex_form_counts_for_a_general_label_only_where_the_thread_established_vertex():
    from corpus import Case, refines

    def case(text: str, note: str = "") -> Case:
        return Case("x", "s", text, "c", "permission-denied", (), "certain", None, "f.jsonl", note)

    assert refines("vertex-permission-denied", case("403 on aiplatform.googleapis.com"))
    assert refines("vertex-permission-denied", case("403 Forbidden", note="the Vertex AI service account"))
    assert not refines("vertex-permission-denied", case("403 Forbidden: API key blocked"))
    assert not refines("vertex-api-disabled", case("403 on aiplatform.googleapis.com"))
