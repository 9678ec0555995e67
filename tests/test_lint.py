"""`gemini-doctor lint`: every trap in every language found at its line and column, clean files left alone.

The fixtures are fixtures/lint/{python,javascript,json}; fixtures/lint/expected.toml lists every finding each must
give, and an empty list for the files that must stay clean (correct spellings, look-alikes from other APIs).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gemini_doctor.lint as lint_package
from gemini_doctor.diagnosis.request import read_request, request_findings
from gemini_doctor.lint import lint_paths, lint_source
from gemini_doctor.lint.javascript import scan_javascript
from gemini_doctor.lint.python import scan_python
from gemini_doctor.lint.rules import find
from tests.conftest import FIXTURES, ROOT

LINT = FIXTURES / "lint"
EXPECTED: dict[str, list[str]] = tomllib.loads((LINT / "expected.toml").read_text(encoding="utf-8"))["files"]
LANGUAGE_DIRS = ("python", "javascript", "json")


def described(path: Path) -> list[str]:
    result = lint_paths([str(path)], cwd=LINT)
    return [f"{f.line}:{f.column} {f.code} {f.diagnosis.error.slug} {f.diagnosis.severity}" for f in result.findings]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_gives_exactly_its_expected_findings(name):
    assert described(LINT / name) == EXPECTED[name]


def test_every_fixture_file_is_in_the_manifest():
    on_disk = {p.relative_to(LINT).as_posix() for d in LANGUAGE_DIRS for p in (LINT / d).iterdir() if p.is_file()}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("language", LANGUAGE_DIRS)
def test_each_trap_is_caught_in_each_language(language):
    found = lint_paths([str(LINT / language)], cwd=LINT).findings
    slugs = {f.diagnosis.error.slug for f in found}
    evidence = " ".join(f.message for f in found)
    assert "wrong-response-modalities" in slugs  # modalities without IMAGE
    assert "image-size-case" in slugs  # "1k"
    assert "aspectRatio" in evidence and "not one" in evidence  # a ratio the model (or every model) does not take
    assert "imageConfig sits at the top level" in evidence or "misspelling of imageConfig" in evidence
    assert slugs & {"wrong-model-name", "model-deprecated"}  # unknown or retired model name
    assert "wrong-endpoint" in slugs  # /v1/ or the OpenAI-compatible route


def test_clean_files_raise_no_false_alarm(run_cli, monkeypatch):
    monkeypatch.chdir(LINT)
    clean = [name for name, findings in EXPECTED.items() if not findings]
    assert len(clean) >= 4
    code, out, _ = run_cli("lint", *clean, "--format", "json")
    document = json.loads(out)
    assert code == 0 and document["findings"] == [] and document["files"] == len(clean)


def test_image_alone_and_either_order_are_valid():
    for modalities in ('["IMAGE"]', '["TEXT", "IMAGE"]', '["IMAGE", "TEXT"]', "[Modality.IMAGE]", '["Image"]'):
        for size in ("512", "1K", "2K", "4K"):
            source = f"config = GenerateContentConfig(response_modalities={modalities}, image_size_x=1)\n"
            source += f'image = ImageConfig(image_size="{size}", aspect_ratio="16:9")\n'
            assert lint_source(source, "python") == [], (modalities, size)
            js = f'const c = {{ responseModalities: {modalities}, imageConfig: {{ imageSize: "{size}" }} }};'
            assert lint_source(js, "typescript") == [], (modalities, size)


def test_text_only_modalities_are_a_warning_and_text_models_are_left_alone():
    image_call = 'generate_content(model="gemini-3-pro-image", config={"response_modalities": ["TEXT"]})'
    (finding,) = lint_source(image_call, "python")
    assert (finding.code, finding.diagnosis.severity, finding.diagnosis.confidence) == ("GD005", "warning", "likely")
    text_call = 'generate_content(model="gemini-2.5-flash", config={"response_modalities": ["TEXT"]})'
    assert lint_source(text_call, "python") == []


def test_missing_text_modality_only_for_a_model_the_table_marks():
    marked = 'generate_content(model="gemini-2.0-flash-exp-image-generation", config={"responseModalities": ["IMAGE"]})'
    assert {f.code for f in lint_source(marked, "python")} == {"GD011", "GD114"}
    current = 'generate_content(model="gemini-3-pro-image", config={"response_modalities": ["IMAGE"]})'
    assert lint_source(current, "python") == []


def test_sizes_and_ratios_follow_the_model_table():
    call = 'generate_content(model="{m}", config={{"image_config": {{"image_size": "{s}", "aspect_ratio": "{r}"}}}})'
    assert lint_source(call.format(m="gemini-3.1-flash-lite-image", s="1K", r="1:1"), "python") == []
    (size,) = lint_source(call.format(m="gemini-3.1-flash-lite-image", s="2K", r="1:1"), "python")
    assert size.code == "GD113" and "not supported for gemini-3.1-flash-lite-image" in size.message
    (ratio,) = lint_source(call.format(m="gemini-3-pro-image", s="1K", r="8:1"), "python")
    assert ratio.code == "GD113" and "8:1" in ratio.message
    # Model unknown: a ratio some model takes passes, one no model takes does not.
    assert lint_source('ImageConfig(aspect_ratio="8:1")', "python") == []
    (nowhere,) = lint_source('ImageConfig(aspect_ratio="16:10")', "python")
    assert nowhere.code == "GD113" and nowhere.diagnosis.severity == "error"


def test_model_names_are_checked_against_the_table():
    for typo in ("gemini-3.1-flash-imagee-preview", "gemini-3-pro-imag", "gemini-2.5-flash-img"):
        (unknown,) = lint_source(f'MODEL = "{typo}"', "python")
        assert unknown.code == "GD007" and "Closest image models" in unknown.diagnosis.fix[0], typo
    for text_model in ("gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-3.1-flash-lite-preview", "gemini-3-pro"):
        assert lint_source(f'MODEL = "{text_model}"', "python") == [], text_model
    in_image_call = 'generate_content(model="gemini-2.5-flash", config={"response_modalities": ["IMAGE"]})'
    (text_for_images,) = lint_source(in_image_call, "python")
    assert text_for_images.code == "GD007" and "makes images" in text_for_images.message
    (shut,) = lint_source('MODEL = "gemini-3-pro-image-preview"', "python")
    assert (shut.code, shut.diagnosis.severity) == ("GD114", "error") and "gemini-3-pro-image" in shut.diagnosis.fix[0]
    (old,) = lint_source('MODEL = "gemini-3.1-flash-image"', "python")
    assert (old.code, old.diagnosis.severity) == ("GD114", "warning")
    assert lint_source('MODEL = "gemini-nano-banana-2.1"', "python") == []


def test_json_request_body_agrees_with_request_findings():
    """lint reads a JSON body as `explain --request` does: every finding of request_findings is among lint's."""
    path = LINT / "json" / "request_traps.json"
    expected = {(d.error.slug, d.evidence) for d in request_findings(read_request(json.loads(path.read_text())), None)}
    found = {(f.diagnosis.error.slug, f.diagnosis.evidence) for f in lint_paths([str(path)]).findings}
    assert expected and expected <= found


def test_columns_count_characters_not_bytes():
    python = '# déjà vu\nx = "é"; c = ImageConfig(image_size="1k")\n'
    (finding,) = lint_source(python, "python")
    assert (finding.line, finding.column) == (2, python.splitlines()[1].index('"1k"') + 1)
    script = 'const é = "ü"; const c = { imageConfig: { imageSize: "2k" } };'
    (finding,) = lint_source(script, "javascript")
    assert (finding.line, finding.column) == (1, script.index('"2k"') + 1)


def test_inline_comments_and_ignore_codes():
    source = 'a = ImageConfig(image_size="1k")  # gemini-doctor: ignore[GD009]\nb = ImageConfig(image_size="2k")\n'
    assert [f.line for f in lint_source(source, "python")] == [2]
    assert lint_source(source, "python", ignore={"GD009"}) == []
    script = 'const c = { imageConfig: { imageSize: "1k" } }; // gemini-doctor: ignore[image-size-case]'
    assert lint_source(script, "typescript") == []


def test_cli_ignore_option_and_exit_codes(run_cli, monkeypatch):
    monkeypatch.chdir(LINT)
    code, out, _ = run_cli("lint", "python/sdk_traps.py", "--format", "json")
    all_codes = {f["code"] for f in json.loads(out)["findings"]}
    assert code == 1 and {"GD113", "GD114"} <= all_codes
    code, out, _ = run_cli("lint", "python/sdk_traps.py", "--format", "json", "--ignore", "GD113,model-deprecated")
    document = json.loads(out)
    left = {f["code"] for f in document["findings"]}
    assert code == 1 and left == all_codes - {"GD113", "GD114"} and document["ignore"] == ["GD113", "GD114"]
    ignore_all = [arg for c in sorted(all_codes) for arg in ("--ignore", c)]
    code, out, _ = run_cli("lint", "python/sdk_traps.py", "--format", "json", *ignore_all)
    assert code == 0 and json.loads(out)["findings"] == [] and json.loads(out)["ignored"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no/such/path"], "does not exist"),
        (["--ignore", "GD999", "."], "not a code or slug"),
        (["--format", "xml", "."], "xml"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_cli, args, message, monkeypatch):
    monkeypatch.chdir(LINT)
    code, out, err = run_cli("lint", *args)
    assert code == 2 and message in err and "Traceback" not in err + out


def test_walk_skips_git_virtual_environments_and_node_modules(tmp_path):
    trap = 'c = ImageConfig(image_size="1k")\n'
    for folder in (".git", "node_modules/pkg", ".venv/lib", "venv", "env-any-name", "src/app", "build"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "m.py").write_text(trap)
    (tmp_path / "env-any-name" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "src" / "app" / "notes.txt").write_text(trap)  # not a language lint reads
    result = lint_paths([str(tmp_path)], cwd=tmp_path)
    assert [f.path for f in result.findings] == ["src/app/m.py"] and result.files == 1
    explicit = lint_paths([str(tmp_path / "node_modules" / "pkg" / "m.py")], cwd=tmp_path)
    assert len(explicit.findings) == 1  # a file named on the command line is always read


def test_unreadable_and_broken_files_are_skipped_with_a_reason(tmp_path, run_cli, monkeypatch):
    (tmp_path / "broken.py").write_text("def gemini(:\n    image_config = 1\n")
    (tmp_path / "binary.py").write_bytes(b"gemini\x00\x01\x02")
    (tmp_path / "cp1252.js").write_bytes(b'const caf\xe9 = { imageConfig: { imageSize: "2k" } };')  # read as Windows
    (tmp_path / "ok.ts").write_text('const c = { imageConfig: { imageSize: "1k" } };')
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli("lint", ".", "--format", "json")
    document = json.loads(out)
    assert code == 1 and [(f["path"], f["column"]) for f in document["findings"]] == [("cp1252.js", 42), ("ok.ts", 39)]
    reasons = {s["path"]: s["reason"] for s in document["skipped"]}
    assert set(reasons) == {"broken.py", "binary.py"} and "not valid Python" in reasons["broken.py"]
    assert "binary" in reasons["binary.py"]


def test_prefilter_never_hides_a_finding(monkeypatch):
    """Files without any of the words the rules need are not parsed; parsing everything must find the same."""
    corpus = [str(ROOT / name) for name in ("gemini_doctor", "tests", "bench", "fixtures")]
    fast = lint_paths(corpus, cwd=ROOT)
    monkeypatch.setattr(lint_package, "RELEVANT", {b"": None})
    slow = lint_paths(corpus, cwd=ROOT)
    assert [f.to_dict() for f in fast.findings] == [f.to_dict() for f in slow.findings]
    assert slow.parsed == slow.files > fast.parsed


def test_worker_processes_give_the_same_result(monkeypatch):
    corpus = [str(ROOT / name) for name in ("gemini_doctor", "tests", "fixtures")]
    serial = lint_paths(corpus, cwd=ROOT, jobs=1)
    monkeypatch.setattr(lint_package, "PARALLEL_FROM", 0)
    parallel = lint_paths(corpus, cwd=ROOT, jobs=2)
    assert [f.to_dict() for f in serial.findings] == [f.to_dict() for f in parallel.findings]
    assert (serial.files, serial.parsed, serial.skipped) == (parallel.files, parallel.parsed, parallel.skipped)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("{}[]()'\"`/\\*:,;.$ \nabcIMAGE1k=<>#-")), max_size=200))
def test_front_ends_never_crash(text):
    """The tokenizer is tolerant: any text gives a scan, and the rules run on it."""
    for scan in (scan_javascript(text), scan_javascript(text, "json"), scan_python(text)):
        find(scan)
