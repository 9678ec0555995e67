"""Reading what users paste (issue 10): messy pastes are read, every reply says what it read, several errors in
one paste are listed once each, retry advice follows the cause. Unit tests on small texts; the accuracy on real
pastes is tests/test_accuracy.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from conftest import run_installed

from gemini_doctor.diagnosis import Context
from gemini_doctor.diagnosis.evidence import read_all, read_evidence
from gemini_doctor.diagnosis.rules import diagnose, retry_seconds
from gemini_doctor.explain import explain_document
from gemini_doctor.knowledge import error_types

GOOGLE_429 = (
    '{"error": {"code": 429, "message": "You exceeded your current quota. * Quota exceeded for metric: '
    'generativelanguage.googleapis.com/generate_content_paid_tier_requests, limit: 500", "status": '
    '"RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34s"}]}}'
)


def first(text: str, **context) -> str:
    return diagnose(read_evidence(text), Context(**context))[0].error.slug


def test_a_cut_off_body_is_read_and_the_cut_is_said(tmp_path):
    evidence = read_evidence(GOOGLE_429[:150])
    assert evidence.status == "RESOURCE_EXHAUSTED"
    assert any("cut off" in note for note in evidence.notes)
    path = tmp_path / "cut.json"
    path.write_text(GOOGLE_429[:150])
    code, out, err = run_installed("explain", str(path), "--format", "json")
    document = json.loads(out)
    assert code == 1 and not err
    assert any("cut off" in note for note in document["input"]["notes"])


def test_an_html_page_is_named_a_proxy_answer_not_refused(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<!DOCTYPE html><html><head><title>Access Denied</title></head><body>blocked</body></html>")
    code, out, _ = run_installed("explain", str(path), "--format", "json")
    document = json.loads(out)
    assert code == 1
    assert document["diagnosis"][0]["slug"] == "network-unreachable"
    assert any("Access Denied" in line for line in document["diagnosis"][0]["evidence"])


@pytest.mark.parametrize(
    "text",
    [
        "{'error': {'code': 429, 'message': 'Your prepayment credits are depleted.', 'status': 'RESOURCE_EXHAUSTED'}}",
        "{error: {code: 429, message: 'Your prepayment credits are depleted.', status: 'RESOURCE_EXHAUSTED'}}",
        '%{"error" => %{"code" => 429, "message" => "Your prepayment credits are depleted.", "status" => "RESOURCE_'
        'EXHAUSTED"}}',
        "{‘error’: {‘code’: 429, ‘message’: ‘Your prepayment credits are depleted.’, ‘status’: ‘RESOURCE_EXHAUSTED’}}",
        '│ {"error": {"code": 429, "message": "Your prepayment credits are depleted.",\n'
        '│  "status": "RESOURCE_EXHAUSTED"}}\n│ retrying',
    ],
    ids=["python-repr", "js-literal", "elixir-map", "curly-quotes", "box-borders"],
)
def test_literals_of_other_languages_are_read(text):
    evidence = read_evidence(text)
    assert evidence.http_status == 429 and evidence.status == "RESOURCE_EXHAUSTED"
    assert first(text) == "prepay-depleted"


def test_google_error_inside_a_relay_error_is_read_and_the_layers_named():
    inner = json.dumps(
        {
            "error": {
                "code": 403,
                "message": "blocked",
                "status": "PERMISSION_DENIED",
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_SERVICE_BLOCKED"}],
            }
        }
    )
    outer = json.dumps({"error": {"message": json.dumps({"error": {"message": inner}}), "code": 502}})
    text = f"litellm.APIError: {outer}"
    evidence = read_evidence(text)
    assert evidence.wrapped and evidence.status == "PERMISSION_DENIED"
    assert evidence.reasons == ["API_KEY_SERVICE_BLOCKED"]
    document = explain_document(text, "-", Context())
    assert document["diagnosis"][0]["slug"] == "api-key-restricted"
    assert "LiteLLM" in document["input"]["produced_by"] and document["input"]["produced_by"].startswith("Google")


def test_a_relay_own_error_is_said_to_be_the_relay_s():
    text = '{"error": {"message": "Too many requests from this IP, please try again after 15 minutes."}}'
    document = explain_document(f"openrouter: {text}", "-", Context())
    assert document["diagnosis"][0]["slug"] == "gateway-error"
    assert document["input"]["produced_by"].startswith("OpenRouter")


def test_several_errors_in_one_log_are_listed_once_each_with_counts():
    quota = '{"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}'
    key = (
        '{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": '
        '"INVALID_ARGUMENT"}}'
    )
    log = "\n".join([f"try 1: {quota}", f"try 2: {quota}", f"try 3: {quota}", f"giving up: {key}"])
    readings = read_all(log)
    assert sorted(r.count for r in readings) == [1, 3]
    document = explain_document(log, "-", Context())
    slugs = [d["slug"] for d in document["diagnosis"]]
    assert slugs.count("model-overloaded") == 1 and slugs.count("api-key-invalid") == 1
    by_slug = {d["slug"]: d for d in document["diagnosis"]}
    assert by_slug["model-overloaded"]["occurrences"] == 3 and "occurrences" not in by_slug["api-key-invalid"]
    assert document["input"]["errors"] == 4 and document["input"]["distinct_errors"] == 2


def test_retry_after_comes_from_retry_info_only_where_retrying_helps():
    evidence = read_evidence(GOOGLE_429)
    found = diagnose(evidence, Context())
    assert found[0].error.slug == "ipm-exceeded" and found[0].retry_after == 34
    assert found[0].to_dict()["retry_after"] == 34
    free = GOOGLE_429.replace("paid_tier_requests, limit: 500", "free_tier_requests, limit: 0")
    zero = diagnose(read_evidence(free), Context())[0]
    assert zero.error.slug == "billing-limit-zero" and zero.to_dict()["retry_after"] is None


@pytest.mark.parametrize(("delay", "seconds"), [("34s", 34), ("856.559356ms", 0.857), ("1.5s", 1.5), ("x", None)])
def test_retry_delays_in_seconds(delay, seconds):
    assert retry_seconds(delay) == seconds


NEVER_RETRYABLE = {
    # daily, billing, key and parameter causes: waiting or resending the same call cannot help
    "daily-quota-exhausted", "billing-limit-zero", "ghost-429", "billing-not-enabled", "prepay-depleted",
    "spend-cap-exceeded", "api-key-invalid", "api-key-missing", "api-key-restricted", "invalid-argument",
    "image-size-case", "wrong-response-modalities", "image-config-misplaced", "vertex-only-parameter",
    "thinking-config-unsupported", "person-generation-restricted", "missing-thought-signature", "wrong-model-name",
    "wrong-endpoint", "model-deprecated", "service-disabled", "permission-denied", "invalid-project",
    "grounding-quota", "sdk-too-old", "vertex-config-missing", "location-unsupported",
}  # fmt: skip


def test_daily_billing_key_and_parameter_causes_are_never_retryable():
    catalog = {entry.slug: entry for entry in error_types()}
    assert catalog.keys() >= NEVER_RETRYABLE
    wrong = sorted(slug for slug in NEVER_RETRYABLE if catalog[slug].retryable)
    assert not wrong, f"marked retryable: {wrong}"


def test_every_signature_names_its_source_and_date():
    for entry in error_types():
        for signature in entry.signatures:
            assert signature.source.strip() and signature.checked, f"{entry.slug}/{signature.id}"
            assert signature.confidence in ("certain", "likely", "possible"), f"{entry.slug}/{signature.id}"
            conditions = (signature.http, signature.grpc, signature.reason, signature.finish, signature.message)
            assert any(conditions) or signature.block, f"{entry.slug}/{signature.id} has no condition"


def test_words_alone_say_they_are_words(tmp_path):
    document = explain_document("User location is not supported for the API use.", "-", Context())
    assert document["diagnosis"][0]["slug"] == "location-unsupported"
    assert any("words only" in note for note in document["input"]["notes"])
    assert "by its wording" in document["input"]["produced_by"] or "words alone" in document["input"]["produced_by"]


def test_a_description_in_words_is_possible_with_the_command_that_tells_apart():
    found = diagnose(read_evidence("--aspect-ratio 16:9 always returns a 1024x1024 image"), Context())
    assert found[0].error.slug == "image-config-stripped" and found[0].confidence == "possible"
    assert any("gemini-doctor check" in step for step in found[0].fix)


def test_reading_is_linear_on_a_long_broken_log():
    import time

    def cost(n: int) -> float:
        text = ('{"error": {"code": 429, "message": "x' + "y" * 50 + '", ') * n
        start = time.perf_counter()
        read_all(text)
        return time.perf_counter() - start

    small, large = cost(200), cost(2000)  # a ratio, not a wall-clock bound: 10x the input, well under 100x the time
    assert large < small * 40 + 0.5


def test_the_prefilter_never_skips_a_signature_that_would_match():
    """`required_literal` spares compiling most patterns; it must be in every match, on every real paste."""
    import re

    from corpus import load_cases

    from gemini_doctor.diagnosis.signatures import all_signatures, required_literal

    texts = [case.text for case in load_cases()]
    checked = 0
    for signature in all_signatures():
        for pattern in signature.message:
            needle = required_literal(pattern)
            for text in texts:
                found = re.search(pattern, text, re.I)
                if found and needle is not None:
                    assert needle in found.group(0).lower(), (signature.id, pattern, needle)
                    checked += 1
    assert checked > 100
    assert required_literal(r"\bquota (?:has been |was )?exceeded\b") == "exceeded"
    assert required_literal("a|b") is None and required_literal(r"x{0,3}y") is None


def test_the_parsed_catalog_copy_is_the_toml_and_never_stale(tmp_path, monkeypatch):
    import tomllib

    from gemini_doctor import knowledge

    source = Path(knowledge.__file__).with_name("errors.toml")
    assert knowledge._read("errors.toml") == tomllib.loads(source.read_text(encoding="utf-8"))
    assert knowledge._read("errors.toml") == knowledge._read("errors.toml")  # second read: from the copy
    fake = tmp_path / "errors.toml"
    fake.write_text('[[x]]\nchecked = 2026-12-01\nname = "a"\n', encoding="utf-8")
    monkeypatch.setattr(knowledge, "__file__", str(tmp_path / "__init__.py"))
    monkeypatch.setattr(knowledge.resources, "files", lambda _package: tmp_path)
    assert knowledge._read("errors.toml")["x"][0]["name"] == "a"
    fake.write_text('[[x]]\nchecked = 2026-12-01\nname = "b"\n', encoding="utf-8")
    second = knowledge._read("errors.toml")
    assert second["x"][0]["name"] == "b" and str(second["x"][0]["checked"]) == "2026-12-01"
    assert len(list((tmp_path / "__pycache__").glob("errors.toml.*.marshal"))) == 2


@pytest.mark.parametrize(
    "metric",
    [
        "generativelanguage.googleapis.com/generate_content_paid_tier_input_token_count",
        "generativelanguage.googleapis.com/generate_requests_per_model",
    ],
)
def test_a_paid_per_minute_quota_on_any_metric_is_the_per_minute_cause(metric):
    body = {
        "error": {
            "code": 429,
            "message": "You exceeded your current quota.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {"quotaMetric": metric, "quotaId": "PerMinutePerProjectPerModel", "quotaValue": "1000000"}
                    ],
                }
            ],
        }
    }
    assert first(json.dumps(body)) == "ipm-exceeded"


def test_code_assist_and_vertex_are_named_as_such():
    vertex = (
        "Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model"
        " with base model: gemini-pro."
    )
    document = explain_document(vertex, "-", Context())
    assert document["diagnosis"][0]["slug"] == "vertex-base-model-quota"
    assert "Vertex AI" in document["input"]["produced_by"]
    assist = json.dumps(
        {
            "error": {
                "code": 429,
                "message": "No capacity available for model gemini-3-pro on the server",
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "MODEL_CAPACITY_EXHAUSTED",
                        "domain": "cloudcode-pa.googleapis.com",
                    }
                ],
            }
        }
    )
    document = explain_document(assist, "-", Context())
    assert document["diagnosis"][0]["slug"] == "model-overloaded"
    assert "Code Assist" in document["input"]["produced_by"]
