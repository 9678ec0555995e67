"""The doctor's model table (knowledge/models.toml) against the emulator's own (emulator/api.toml).

The two are written separately from the sources; the emulator does not import the doctor's. So a doctor table that
disagrees with the API (a size, a ratio, a pixel size, a shut-down date turned into "served") fails here, and the
scenario tests cannot be passed by a wrong table on both sides.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from gemini_doctor.emulator.tables import VERSIONS, ApiModel, api_models, version_info
from gemini_doctor.knowledge import Model, models

EMULATOR = Path(__file__).resolve().parent.parent / "gemini_doctor" / "emulator"


def disagreements(doctor: tuple[Model, ...], api: tuple[ApiModel, ...]) -> list[str]:
    """Every fact the two tables state differently, one line each."""
    by_id = {m.id: m for m in api}
    found = [f"{m.id}: not in the emulator's table" for m in doctor if m.id not in by_id]
    found += [
        f"{m.id}: an image model only the emulator knows"
        for m in api
        if m.makes_images and m.id not in {d.id for d in doctor}
    ]
    for model in doctor:
        if model.id in by_id:
            found += _model_disagreements(model, by_id[model.id])
    return found


def _model_disagreements(doctor: Model, api: ApiModel) -> list[str]:
    pairs = {
        "served": (not doctor.is_shut_down, api.served),
        "image_sizes": (doctor.image_sizes, api.image_sizes),
        "default_size": (doctor.default_size, api.default_size),
        "unsupported_size": (doctor.unsupported_size, api.unsupported_size),
        "aspect_ratios": (doctor.aspect_ratios, api.aspect_ratios),
        "output_format": (doctor.output_format, api.output_format),
        "openai_images": (doctor.openai_images, api.openai_images),
        "requires_text_modality": (doctor.requires_text_modality, api.requires_text_modality),
        "aliases": (doctor.aliases, api.aliases),
        "image_tokens": (doctor.image_tokens, {s: api.image_tokens[s] for s in doctor.image_tokens}),
        "image fields on": (
            tuple(sorted(doctor.image_config_versions)),
            tuple(sorted(v for v in VERSIONS if version_info(v)["image_fields_documented"])),
        ),
    }
    found = [f"{doctor.id}: {name} {a!r} (doctor) != {b!r} (emulator)" for name, (a, b) in pairs.items() if a != b]
    for size in doctor.image_sizes:
        for ratio in doctor.aspect_ratios:
            expected, served = doctor.expected_size(size, ratio), api.pixels.get(size, {}).get(ratio)
            if expected != served:
                found.append(f"{doctor.id}: {size} {ratio} is {expected} (doctor) but {served} (emulator)")
    return found


def test_the_doctors_table_agrees_with_the_emulators():
    assert disagreements(models(), api_models()) == []


MUTATIONS = {
    "a size": ("image_sizes", lambda m: (*m.image_sizes, "8K")),
    "a ratio": ("aspect_ratios", lambda m: m.aspect_ratios[:-1]),
    "the format": ("output_format", lambda m: "png" if m.output_format == "jpeg" else "jpeg"),
    "the status": ("status", lambda m: "shut-down"),
    "a pixel size": ("pixels", lambda m: {**m.pixels, "1K": {**m.pixels.get("1K", {}), "1:1": (1000, 1000)}}),
    "the versions": ("image_config_versions", lambda m: ("v1beta", "v1")),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_a_change_on_the_doctors_side_alone_is_caught(name):
    attribute, change = MUTATIONS[name]
    doctor = list(models())
    target = next(i for i, m in enumerate(doctor) if m.id == "gemini-3-pro-image")
    doctor[target] = dataclasses.replace(doctor[target], **{attribute: change(doctor[target])})
    assert disagreements(tuple(doctor), api_models()), name


def test_a_change_on_the_emulators_side_alone_is_caught():
    api = list(api_models())
    target = next(i for i, m in enumerate(api) if m.id == "gemini-2.5-flash-image")
    api[target] = dataclasses.replace(api[target], aspect_ratios=("1:1",))
    assert disagreements(models(), tuple(api))


def test_every_image_model_has_a_literal_pixel_size_and_token_count_for_all_it_takes():
    for model in api_models():
        if not model.makes_images:
            continue
        assert set(model.image_tokens) == set(model.image_sizes), model.id
        for size in model.image_sizes:
            assert set(model.pixels[size]) == set(model.aspect_ratios), (model.id, size)


def test_every_model_has_a_source_and_text_models_are_served():
    assert all(m.source for m in api_models())
    text = [m for m in api_models() if m.kind == "text"]
    assert text and all(m.served and m.output_modalities == ("TEXT",) for m in text)


def test_the_emulator_reads_nothing_of_the_doctors():
    for path in EMULATOR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                assert not name.startswith(("gemini_doctor.knowledge", "gemini_doctor.diagnosis")), (path.name, name)
