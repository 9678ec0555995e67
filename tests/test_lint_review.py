"""lint cases found in review: false alarms on text-only code, pathological files, key stubs, odd line breaks,
Vertex AI files, files that could not be read, symlinks, model names inside URLs."""

from __future__ import annotations

import json
import os

import pytest


def lint_json(run_cli, *args: str) -> tuple[int, dict]:
    code, out, _ = run_cli("lint", *args, "--format", "json")
    return code, json.loads(out)


def codes_at(document: dict) -> list[tuple[str, int, str]]:
    return [(f["path"], f["line"], f["code"]) for f in document["findings"]]


def test_text_only_requests_are_not_flagged(run_cli, tmp_path, monkeypatch):
    (tmp_path / "chat.py").write_text(
        'cfg = {"response_modalities": ["TEXT"], "temperature": 0.2}\n'
        "reply = client.models.generate_content(model=settings.model, contents=q, config=cfg)\n"
    )
    (tmp_path / "lc.py").write_text(
        'llm = ChatGoogleGenerativeAI(model="gemini-2.0-flash", response_modalities=["TEXT"])\n'
    )
    monkeypatch.chdir(tmp_path)
    code, document = lint_json(run_cli, ".")
    assert code == 0 and document["findings"] == []


def test_text_only_modalities_next_to_an_image_model_are_still_flagged(run_cli, tmp_path, monkeypatch):
    (tmp_path / "img.py").write_text(
        'r = client.models.generate_content(model="gemini-3-pro-image", contents=p,\n'
        '    config={"response_modalities": ["TEXT"]})\n'
    )
    monkeypatch.chdir(tmp_path)
    code, document = lint_json(run_cli, ".")
    assert code == 1 and [f["code"] for f in document["findings"]] == ["GD005"]


def test_a_pathologically_nested_file_is_skipped_and_the_others_still_reported(run_cli, tmp_path, monkeypatch):
    (tmp_path / "deep.json").write_text('{"imageConfig": ' + '{"a": ' * 2000 + "1" + "}" * 2001)
    (tmp_path / "ok.py").write_text('cfg = {"imageConfig": {"imageSize": "2k"}}\n')
    monkeypatch.chdir(tmp_path)
    code, document = lint_json(run_cli, ".")
    assert code == 1 and codes_at(document) == [("ok.py", 1, "GD009")]
    assert [s["path"] for s in document["skipped"]] == ["deep.json"]


def test_a_key_in_a_long_url_is_not_printed_even_in_part(run_cli, tmp_path, monkeypatch):
    key = "AIzaSyD" + "abcDEF123_" * 3 + "zz"
    url = "https://generativelanguage.googleapis.com/v1beta/openai/images/generations?padding=xxxxxxxxxx&xk=" + key
    (tmp_path / "app.js").write_text(f'const URL = "{url}";\nconst c = {{ model: "gemini-3-pro-image" }};\n')
    monkeypatch.chdir(tmp_path)
    for fmt in ("rich", "json", "sarif", "github", "markdown"):
        _, out, err = run_cli("lint", ".", "--format", fmt)
        assert key[:12] not in out + err, fmt


@pytest.mark.parametrize("separator", ["\u2028", "\x0c"])
def test_inline_ignore_lines_up_after_unusual_line_separators(run_cli, tmp_path, monkeypatch, separator):
    (tmp_path / "odd.py").write_text(
        f'note = "a{separator}b"\n'
        'cfg = {"imageConfig": {"imageSize": "2k"}}  # gemini-doctor: ignore[GD009]\n'
        'cfg2 = {"imageConfig": {"imageSize": "4k"}}\n'
    )
    monkeypatch.chdir(tmp_path)
    _code, document = lint_json(run_cli, ".")
    assert codes_at(document) == [("odd.py", 3, "GD009")]


def test_vertex_ai_files_may_use_vertex_fields(run_cli, tmp_path, monkeypatch):
    body = '    config={"image_config": {"output_mime_type": "image/jpeg", "aspect_ratio": "16:9"}})\n'
    (tmp_path / "vertex.py").write_text(
        'client = genai.Client(vertexai=True, project="p", location="global")\n'
        'r = client.models.generate_content(model="gemini-3-pro-image", contents=x,\n' + body
    )
    (tmp_path / "dev.py").write_text(
        'r = client.models.generate_content(model="gemini-3-pro-image", contents=x,\n' + body
    )
    monkeypatch.chdir(tmp_path)
    _code, document = lint_json(run_cli, ".")
    assert [f["path"] for f in document["findings"]] == ["dev.py"]


def test_a_file_that_could_not_be_read_is_visible_in_ci_formats(run_cli, tmp_path, monkeypatch):
    (tmp_path / "bad.py").write_text('config = {"imageConfig": {\n')
    monkeypatch.chdir(tmp_path)
    _, out, _ = run_cli("lint", ".", "--format", "github")
    assert out.startswith("::warning file=bad.py")
    _, out, _ = run_cli("lint", ".", "--format", "sarif")
    notes = json.loads(out)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes and "not valid Python" in notes[0]["message"]["text"]


def test_symlinks_are_linted_once_and_followed_only_inside_the_linted_folders(run_cli, tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.py").write_text('cfg = {"imageConfig": {"imageSize": "2k"}}\n')
    os.symlink(real / "a.py", tmp_path / "link.py")
    os.symlink(real, tmp_path / "alias")  # a folder linked inside the tree: its files are linted once
    outside = tmp_path.parent / (tmp_path.name + "-linked")
    outside.mkdir()
    (outside / "b.py").write_text('cfg = {"imageConfig": {"imageSize": "4k"}}\n')
    os.symlink(outside, tmp_path / "src")
    os.symlink(outside / "b.py", tmp_path / "b.py")
    os.symlink(tmp_path, real / "loop")  # a loop back up the tree must not hang the walk
    monkeypatch.chdir(tmp_path)
    code, document = lint_json(run_cli, ".")
    assert code == 1 and [(f["path"], f["line"]) for f in document["findings"]] == [("link.py", 1)]  # once
    reasons = {s["path"]: s["reason"] for s in document["skipped"]}
    assert set(reasons) == {"src", "b.py"} and "outside the linted folders" in reasons["src"]
    assert document["unreadable"] == 0  # left on purpose, not an error
    _code, named = lint_json(run_cli, "src")  # named on the command line: walked
    assert [(f["path"], f["line"]) for f in named["findings"]] == [("src/b.py", 1)]


def test_a_misspelled_model_inside_a_url_string_is_found(run_cli, tmp_path, monkeypatch):
    (tmp_path / "k.js").write_text(
        'const u = base + "models/gemini-3-pro-imag:generateContent";\nconst v = "models/gemini-3-pro-imag?alt=sse";\n'
    )
    monkeypatch.chdir(tmp_path)
    _code, document = lint_json(run_cli, ".")
    assert [(f["line"], f["code"]) for f in document["findings"]] == [(1, "GD007"), (2, "GD007")]


def test_the_openai_route_is_quiet_for_a_model_served_there_and_for_chat_only_base_urls(run_cli, tmp_path, monkeypatch):
    (tmp_path / "served.py").write_text(
        'client = OpenAI(base_url="https://generativelanguage.googleapis.com/v1beta/openai/images/generations")\n'
        'img = client.images.generate(model="gemini-2.5-flash-image", prompt=p)\n'
    )
    (tmp_path / "chat.ts").write_text(
        'const openai = new OpenAI({ baseURL: "https://generativelanguage.googleapis.com/v1beta/openai/" });\n'
        'const IMAGE_MODEL = "gemini-3-pro-image";\n'
    )
    (tmp_path / "unserved.py").write_text(
        'URL = "https://generativelanguage.googleapis.com/v1beta/openai/images/generations"\n'
        'MODEL = "gemini-3-pro-image"\n'
    )
    monkeypatch.chdir(tmp_path)
    _, document = lint_json(run_cli, ".")
    endpoint = [(f["path"], f["severity"]) for f in document["findings"] if f["code"] == "GD006"]
    assert endpoint == [("unserved.py", "error")]
