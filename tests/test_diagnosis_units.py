"""Plain unit tests of the pure diagnosis functions: ranking, request reading, evidence reading."""

from __future__ import annotations

from gemini_doctor.diagnosis import Diagnosis, rank
from gemini_doctor.diagnosis.evidence import read_evidence
from gemini_doctor.diagnosis.request import read_request, request_findings
from gemini_doctor.knowledge import find_model


def test_rank_puts_failures_first_then_confidence():
    ranked = rank(
        [
            Diagnosis.of("image-size-case", "certain", ["w"], severity="warning"),
            Diagnosis.of("dynamic-shared-quota", "possible", ["p"]),
            Diagnosis.of("ipm-exceeded", "certain", ["c"]),
        ]
    )
    assert [d.error.slug for d in ranked] == ["ipm-exceeded", "dynamic-shared-quota", "image-size-case"]


def test_rank_merges_one_slug_keeping_every_piece_of_evidence():
    ranked = rank(
        [
            Diagnosis.of("invalid-argument", "likely", ["candidateCount is 2"], hints=["drop candidateCount"]),
            Diagnosis.of(
                "invalid-argument", "certain", ["imageSize '8K' is not one of the API's values"], hints=["use 1K"]
            ),
        ]
    )
    assert len(ranked) == 1 and ranked[0].confidence == "certain"
    assert ranked[0].evidence == ("imageSize '8K' is not one of the API's values", "candidateCount is 2")
    assert ranked[0].hints == ("use 1K", "drop candidateCount")


def test_imagen_fields_inside_image_config_are_reported_once():
    settings = read_request({"generationConfig": {"imageConfig": {"numberOfImages": 4}}})
    assert settings.imagen_fields == ("numberOfImages",) and settings.unknown_image_fields == ()
    findings = request_findings(settings, find_model("gemini-3-pro-image"))
    assert sum("Imagen" in line for d in findings for line in d.evidence) == 1


def test_image_only_modalities_are_never_an_error_on_current_models():
    for modalities in (["IMAGE"], ["TEXT", "IMAGE"], ["IMAGE", "TEXT"], ["Image"]):
        settings = read_request({"generationConfig": {"responseModalities": modalities}})
        assert request_findings(settings, find_model("gemini-3.1-flash-image")) == []


def test_status_words_in_a_model_answer_are_not_statuses():
    evidence = read_evidence(
        '{"candidates": [{"content": {"parts": [{"text": "The sign reads NOT_FOUND 404"}]}, "finishReason": "STOP"}]}'
    )
    assert evidence.status is None and evidence.http_status == 200 and evidence.is_response


def _first(text: str, **context):
    from gemini_doctor.diagnosis import Context
    from gemini_doctor.diagnosis.rules import diagnose

    return diagnose(read_evidence(text), Context(**context))


def test_a_paid_quota_of_zero_is_not_called_the_free_tier():
    body = (
        '{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "x", "details": [{"@type": '
        '"type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": '
        '"GenerateRequestsPerMinutePerProjectPerModel", "quotaValue": "0"}]}]}}'
    )
    found = _first(body)
    assert found[0].error.slug == "billing-limit-zero" and found[0].confidence == "possible"
    assert "paid (not free-tier)" in found[0].evidence[0]


def test_ghost_429_is_likely_only_with_a_non_zero_paid_quota():
    body = (
        '{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "x", "details": [{"@type": '
        '"type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": '
        '"generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaValue": "0"}]}]}}'
    )
    assert _first(body, billing_enabled=True)[0].confidence == "possible"
    ghost = _first(body, billing_enabled=True, paid_quota=500)[0]
    assert ghost.error.slug == "ghost-429" and ghost.confidence == "likely"


def test_failed_precondition_without_billing_words_is_not_billing_not_enabled():
    found = _first('{"error": {"code": 400, "message": "Precondition check failed.", "status": "FAILED_PRECONDITION"}}')
    assert found[0].error.slug == "unknown" and any("GD008" in hint for hint in found[0].fix)


def test_deep_or_unbalanced_nesting_is_refused_or_read_never_a_crash():
    import pytest

    from gemini_doctor.input_error import InputError

    deep = read_evidence('{"error": [' * 20000 + "]" * 20000 + "}")  # read as text, never a RecursionError
    assert deep.kind.startswith("text") and any("does not parse" in note for note in deep.notes)
    with pytest.raises(InputError, match="empty"):
        read_evidence(" \n ")
    evidence = read_evidence("log line: " + '{"error": [' * 20000)  # each candidate is tried a few times at most
    assert evidence.kind.startswith("text")


def test_a_check_summary_says_what_was_found_not_the_catalog_title():
    from gemini_doctor.engine import CheckResult

    result = CheckResult.from_diagnoses(
        [Diagnosis.of("invalid-argument", "likely", ["imageSize '2K' is not supported"], severity="warning")], "ok"
    )
    assert result.status == "warn" and result.summary == "GD113 invalid-argument: imageSize '2K' is not supported"


def test_an_imagen_id_on_generate_content_is_the_wrong_route_with_or_without_models_prefix():
    """The model name as the SDK sends it (`models/imagen-…`) is judged as the bare id is."""
    import json

    from gemini_doctor.diagnosis import Context
    from gemini_doctor.diagnosis.evidence import read_http_answer
    from gemini_doctor.diagnosis.rules import diagnose

    message = (
        "models/imagen-4.0-generate-001 is not found for API version v1beta, or is not supported for "
        "generateContent. Call ListModels to see the list of available models and their supported methods."
    )
    body = json.dumps({"error": {"code": 404, "message": message, "status": "NOT_FOUND"}})
    url = "https://generativelanguage.googleapis.com/v1beta/models/imagen-4.0-generate-001:generateContent"
    for name in ("imagen-4.0-generate-001", "models/imagen-4.0-generate-001"):
        found = diagnose(read_http_answer(404, body, url), Context(model=name))
        assert found[0].error.slug == "wrong-endpoint", (name, [d.error.slug for d in found])


def test_the_haystack_follows_the_raw_text_and_the_message_as_they_change():
    from gemini_doctor.diagnosis.facts import Evidence

    evidence = Evidence(kind="text", message="first words", raw="the raw text")
    assert evidence.haystack == "first words\nthe raw text"
    assert evidence.haystack is evidence.haystack  # made once while nothing changed
    evidence.message = "a message now cut off"
    assert evidence.haystack.startswith("a message now cut off\n")
    evidence.raw = "other raw text holding a message now cut off"
    assert evidence.haystack == "other raw text holding a message now cut off"
