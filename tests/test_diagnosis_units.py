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
