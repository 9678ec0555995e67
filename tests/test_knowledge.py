"""The knowledge files: complete, sourced, dated, and internally consistent."""

from __future__ import annotations

import datetime as dt

from gemini_doctor.images import aspect_matches, size_bucket
from gemini_doctor.knowledge import (
    CATEGORIES,
    ESTABLISHED,
    MODEL_STATUSES,
    error_types,
    find_error,
    find_model,
    models,
    recommended_model,
)

FIXED_CODES = {
    "GD001": "billing-limit-zero",
    "GD002": "ipm-exceeded",
    "GD003": "ghost-429",
    "GD004": "dynamic-shared-quota",
    "GD005": "wrong-response-modalities",
    "GD006": "wrong-endpoint",
    "GD007": "wrong-model-name",
    "GD008": "billing-not-enabled",
    "GD009": "image-size-case",
    "GD010": "image-config-stripped",
    "GD011": "missing-text-modality",
}
REQUIRED_ADDED_SLUGS = {
    "api-key-invalid",
    "api-key-missing",
    "service-disabled",
    "permission-denied",
    "location-unsupported",
    "prepay-depleted",
    "daily-quota-exhausted",
    "model-overloaded",
    "server-error",
    "deadline-exceeded",
    "safety-blocked",
    "no-image-returned",
    "invalid-argument",
    "model-deprecated",
    "network-unreachable",
    "unknown",
}


def test_the_eleven_article_codes_keep_their_slugs():
    assert {e.code: e.slug for e in error_types() if e.code.startswith("GD0")} == FIXED_CODES


def test_added_types_exist_with_gd1_codes():
    added = {e.slug: e.code for e in error_types() if e.code.startswith("GD1")}
    assert set(added) >= REQUIRED_ADDED_SLUGS
    assert all(code[2:].isdigit() and len(code) == 5 for code in added.values())


def test_codes_and_slugs_are_unique_and_findable():
    entries = error_types()
    assert len({e.code for e in entries}) == len(entries) == len({e.slug for e in entries})
    for entry in entries:
        assert find_error(entry.code.lower()) is entry
        assert find_error(entry.slug) is entry


def test_every_catalog_entry_is_sourced_dated_and_complete():
    for entry in error_types():
        assert entry.source.strip(), entry.code
        assert isinstance(entry.checked, dt.date), entry.code
        assert entry.category in CATEGORIES, entry.code
        assert entry.established in ESTABLISHED, entry.code
        assert entry.fix and all(step.strip() for step in entry.fix), entry.code
        assert entry.docs.startswith("https://"), entry.code
        assert entry.symptom and entry.cause and entry.applies_when and entry.retry_advice, entry.code
        if entry.code.startswith("GD0"):
            assert entry.article, f"{entry.code} must say what the article claimed and the verdict"


def test_every_model_entry_is_sourced_dated_and_consistent():
    ids = {m.id for m in models()}
    for model in models():
        assert model.source.strip() and isinstance(model.checked, dt.date), model.id
        assert model.status in MODEL_STATUSES, model.id
        assert model.default_size in model.image_sizes, model.id
        assert model.unsupported_size in ("ignore", "reject"), model.id
        assert model.output_format in ("png", "jpeg"), model.id
        assert model.replacement is None or model.replacement in ids, model.id
        if model.status == "shut-down":
            assert model.shutdown is not None, model.id
        if model.price_usd:
            assert model.price_source, model.id
        if model.pixels:
            assert model.pixels_source, model.id


def test_pixel_tables_agree_with_their_ratios():
    for model in models():
        for size, table in model.pixels.items():
            for ratio, (width, height) in table.items():
                assert aspect_matches(width, height, ratio, tolerance=0.06), (model.id, size, ratio)


def test_every_supported_size_and_ratio_of_a_current_model_has_an_expected_size():
    for model in models():
        if model.is_shut_down:
            continue
        for size in model.image_sizes:
            for ratio in model.aspect_ratios:
                width, height = model.expected_size(size, ratio)
                assert aspect_matches(width, height, ratio, tolerance=0.06), (model.id, size, ratio)
                assert size_bucket(width, height) == size, (model.id, size, ratio, width, height)


def test_documented_sizes_win_over_derived_ones():
    model = find_model("gemini-3.1-flash-image")
    assert model.expected_size("512", "16:9") == (704, 384)  # observed, not half of 1376x768
    assert model.expected_size("2K", "1:4") == (1024, 4128)  # derived: twice the 1K row


def test_exactly_one_recommended_model_and_it_is_current():
    recommended = [m for m in models() if m.recommended]
    assert len(recommended) == 1
    assert recommended_model().status in ("ga", "preview")


def test_aliases_resolve_to_their_model():
    assert find_model("gemini-2.5-flash-preview-image").id == "gemini-2.5-flash-image"
    assert find_model("models/gemini-3-pro-image").id == "gemini-3-pro-image"
    assert find_model("no-such-model") is None


def test_no_catalog_page_quotes_the_projects_internal_notes():
    from gemini_doctor.explain import catalog_document, rule_document
    from gemini_doctor.knowledge import error_types
    from tests.test_check import assert_nothing_internal

    assert_nothing_internal(catalog_document())
    for entry in error_types():
        assert_nothing_internal(rule_document(entry.code))


def test_the_internal_marker_check_catches_what_it_must():
    from tests.test_check import INTERNAL

    for text in ("as the article said", "seed-claims.md claims 7, 9", "a field report [spike]", "claim 3"):
        assert INTERNAL.search(text), text
