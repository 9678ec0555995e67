"""lint reads context: google-genai's own source raises only real findings, constants are followed, Live API
configs and shared options dicts are not image requests, a Vertex AI file is judged as one, and a suggested model
is one the table says is live on the day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import gemini_doctor.lint.rules as rules
from gemini_doctor.knowledge import live_on, live_successor, models
from gemini_doctor.lint import lint_paths, lint_source

GENAI = Path(__import__("google.genai", fromlist=["__file__"]).__file__).parent


def found(source: str, language: str = "python") -> list[tuple[int, str, str]]:
    return [(f.line, f.code, f.message) for f in lint_source(source, language)]


# google-genai's own tree --------------------------------------------------------------------------------------
# Each finding lint still gives on google-genai's source, and why it is real (file, code, what the message names):
REAL_IN_GENAI = {
    # tests that call models the table lists as shut down, or past their shutdown date (2026-10-02)
    ("tests/models/test_generate_content.py", "GD114", "gemini-2.5-flash-image"),
    ("tests/models/test_generate_content.py", "GD114", "gemini-2.0-flash-preview-image-generation"),
    ("tests/models/test_generate_content_image_generation.py", "GD114", "gemini-2.5-flash-image"),
    # Vertex-only imageConfig fields in tests marked exception_if_mldev: the Developer API refuses them, as lint says
    ("tests/models/test_generate_content_image_generation.py", "GD113", "output_mime_type"),
    ("tests/models/test_generate_content_image_generation.py", "GD113", "output_compression_quality"),
    # test_image_generation_wrong_config sends number_of_images on purpose and expects a ValidationError
    ("tests/models/test_generate_content_image_generation.py", "GD113", "number_of_images"),
}


def _named(message: str) -> str:
    return next(
        (word for _, _, word in REAL_IN_GENAI if word in message),
        message,
    )


@pytest.mark.skipif(not GENAI.is_dir(), reason="google-genai is a test dependency")
def test_google_genai_source_tree_gives_only_real_findings():
    result = lint_paths([str(GENAI)], cwd=GENAI, jobs=1)
    assert result.files > 300  # the whole package was read
    seen = {(f.path, f.code, _named(f.message)) for f in result.findings}
    assert seen == REAL_IN_GENAI
    live = GENAI / "tests/live/test_live.py"
    assert not [f for f in result.findings if f.path == "tests/live/test_live.py"] and live.is_file()


# what was flagged wrongly ---------------------------------------------------------------------------------------
def test_response_modalities_in_a_live_connect_config_is_not_top_level():
    source = (
        "config_dict = {'response_modalities': ['TEXT'], 'generation_config': {'temperature': 0.7}}\n"
        "config = types.LiveConnectConfig(**config_dict)\n"
        "other = types.LiveConnectConfig(response_modalities=['AUDIO'], generation_config={'temperature': 1})\n"
    )
    assert found(source) == []
    request = (
        "r = client.models.generate_content(model='gemini-3-pro-image', contents='x', response_modalities=['IMAGE'])"
    )
    assert [code for _, code, message in found(request) if "top level" in message] == ["GD113"]


def test_candidate_count_is_fine_on_a_text_model_call_even_in_a_file_naming_an_image_model():
    source = (
        "TEXT = 'gemini-2.5-flash'\nIMAGE = 'gemini-3-pro-image'\n"
        "a = client.models.generate_content(model=TEXT, contents='x', config={'candidate_count': 2})\n"
        "b = client.models.generate_content(model=IMAGE, contents='x', config={'candidate_count': 2})\n"
    )
    assert [(line, code) for line, code, _ in found(source)] == [(4, "GD113")]


def test_api_version_v1_counts_only_in_a_client_or_a_call_with_image_settings():
    shared = (
        "OPTIONS = {'api_version': 'v1', 'headers': {'x': 'y'}}\n"
        "r = client.models.generate_content(model='gemini-3-pro-image', contents='x',"
        " config={'response_modalities': ['IMAGE']})\n"
    )
    assert [code for _, code, _ in found(shared)] == []
    in_client = "client = genai.Client(http_options={'api_version': 'v1'})\n" + shared.split("\n", 1)[1]
    assert [code for _, code, _ in found(in_client)] == ["GD006"]


# what was missed --------------------------------------------------------------------------------------------------
def test_a_local_constant_is_followed_to_where_it_is_written():
    source = (
        "def draw(client):\n"
        "    size = '1k'\n"
        "    return client.models.generate_content(model='gemini-3-pro-image', contents='x',\n"
        "        config=types.GenerateContentConfig(image_config=types.ImageConfig(image_size=size)))\n"
    )
    assert [(line, code) for line, code, _ in found(source)] == [(2, "GD009")]


def test_a_name_bound_twice_or_as_a_parameter_is_not_guessed():
    call = "types.ImageConfig(image_size=size)\n"
    assert found("size = '1k'\nsize = '2K'\n" + call) == []
    assert found("size = '1k'\nsize = get_size()\ndef f():\n    return " + call) == []  # rebound in a cold statement
    assert found("size = '1k'\ndef f(size):\n    return " + call) == []
    assert found("size = '1k'\nfor size in sizes:\n    " + call) == []


def test_a_loose_person_generation_in_the_config_is_found():
    python = "c = types.GenerateContentConfig(response_modalities=['IMAGE'], person_generation='ALLOW_ALL')\n"
    javascript = 'const c = { responseModalities: ["IMAGE"], personGeneration: "ALLOW_ALL" };\n'
    for source, language in ((python, "python"), (javascript, "javascript")):
        messages = [message for _, code, message in found(source, language) if code == "GD113"]
        assert len(messages) == 1 and "directly in the generation config" in messages[0]


# backends ---------------------------------------------------------------------------------------------------------
VERTEX_SIGNS = (
    "client = genai.Client(vertexai=True, project='p', location='global')\n",
    "import os\nos.environ['GOOGLE_GENAI_USE_VERTEXAI'] = 'true'\n",
    "import vertexai\n",
    "from google.cloud import aiplatform\n",
    "URL = 'https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/l/publishers/google/models'\n",
)
IMAGE_CALL = (
    "r = client.models.generate_content(model='gemini-3-pro-image', contents='x', config=types.GenerateContentConfig("
    "response_modalities=['IMAGE'], image_config=types.ImageConfig(person_generation='ALLOW_ADULT')))\n"
    "V1 = genai.Client(http_options={'api_version': 'v1'})\n"
)


@pytest.mark.parametrize("sign", VERTEX_SIGNS)
def test_a_vertex_file_takes_vertex_fields_and_skips_developer_api_route_traps(sign, tmp_path):
    (tmp_path / "vertex.py").write_text(sign + IMAGE_CALL)
    (tmp_path / "developer.py").write_text("client = genai.Client()\n" + IMAGE_CALL)
    result = lint_paths([str(tmp_path)], cwd=tmp_path, jobs=1)
    assert result.backends == {"developer.py": "gemini-api", "vertex.py": "vertex-ai"}
    assert {(f.path, f.code) for f in result.findings} == {("developer.py", "GD113"), ("developer.py", "GD006")}


def test_javascript_vertex_sdk_import_marks_the_file():
    source = (
        'import { VertexAI } from "@google-cloud/vertexai";\n'
        'const c = { responseModalities: ["IMAGE"], imageConfig: { personGeneration: "ALLOW_ALL" } };\n'
    )
    assert found(source, "javascript") == []
    assert len(found(source.split("\n", 1)[1], "javascript")) == 1


# live successors ----------------------------------------------------------------------------------------------------
def test_suggested_models_are_live_on_the_day_checked():
    today = rules.today()
    assert today >= dt.date(2026, 12, 2)  # the machine's date; the table's dates decide what is live on it
    dead = {m.id for m in models() if not live_on(m, today)}
    assert "gemini-2.5-flash-image" in dead  # listed for shutdown on 2026-10-02
    for typo in (
        "gemini-2.5-flash-imag",
        "gemini-2.0-flash-preview-image-generation",
        "gemini-3.1-flash-image-preview",
    ):
        finding = lint_source(f"m = {typo!r}", "python")[0]
        hint = finding.diagnosis.hints[0]
        assert not [name for name in dead if name in hint.replace(typo, "")], (typo, hint)


def test_a_successor_follows_the_date(monkeypatch):
    old = next(m for m in models() if m.id == "gemini-2.0-flash-preview-image-generation")
    assert live_successor(old, dt.date(2026, 9, 1)).id == "gemini-2.5-flash-image"
    assert live_successor(old, dt.date(2026, 12, 2)) is None
    monkeypatch.setattr(rules, "today", lambda: dt.date(2026, 9, 1))
    hint = lint_source("m = 'gemini-2.0-flash-preview-image-generation'", "python")[0].diagnosis.hints[0]
    assert hint == "Use gemini-2.5-flash-image."


def test_a_setting_judged_for_one_model_is_never_reused_for_another_with_the_same_id():
    import dataclasses

    from gemini_doctor.lint.rules import _judged

    wide = next(m for m in models() if "21:9" in m.aspect_ratios)
    narrow = dataclasses.replace(wide, aspect_ratios=("1:1",))  # the same id: another table's object
    setting = (("aspect_ratio", "21:9"),)
    assert _judged(setting, wide) == ()
    assert [d.error.slug for d in _judged(setting, narrow)] == ["invalid-argument"]
    assert _judged(setting, wide) == ()
