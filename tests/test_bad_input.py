"""Bad input gets one clear line and exit 2, never a traceback (the installed CLI, as users run it)."""

from __future__ import annotations

import pytest

from tests.conftest import run_installed


def assert_clean_failure(code: int, out: str, err: str, *words: str) -> None:
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("gemini-doctor: error:"), err
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize(
    "content,words",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ("binary",)),
        (b"", ("empty",)),
        (b"   \n\t  ", ("empty",)),
    ],
    ids=["binary", "empty", "blank"],  # an HTML page or a cut-off body is read, not refused: tests/test_reading.py
)
def test_bad_files(tmp_path, content, words):
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    assert_clean_failure(*run_installed("explain", str(path)), *words)


def test_huge_file(tmp_path):
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.write(b'{"error": {"message": "' + b"x" * (20 * 1024 * 1024) + b'"}}')
    assert_clean_failure(*run_installed("explain", str(path)), "20.0 MiB")


def test_huge_stdin():
    assert_clean_failure(*run_installed("explain", "-", input=b"x" * (11 * 1024 * 1024)), "larger than")


def test_missing_file():
    assert_clean_failure(*run_installed("explain", "no/such/file.json"), "does not exist")


def test_directory(tmp_path):
    assert_clean_failure(*run_installed("explain", str(tmp_path)), "directory")


def test_unknown_code():
    assert_clean_failure(*run_installed("explain", "GD999"), "unknown error code")


def test_bad_request_file(tmp_path):
    error = tmp_path / "e.json"
    error.write_text('{"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}')
    request = tmp_path / "r.json"
    request.write_text("[1, 2]")
    assert_clean_failure(*run_installed("explain", str(error), "--request", str(request)), "JSON object")


def test_bad_flags_are_usage_errors():
    code, _out, err = run_installed("explain", "--format", "yaml", "x")
    assert code == 2 and "Traceback" not in err and "yaml" in err
    code, _out, err = run_installed("explain", "--no-such-flag")
    assert code == 2 and "Traceback" not in err


def test_unplaceable_error_is_unknown_with_a_next_step(tmp_path):
    path = tmp_path / "e.txt"
    path.write_text("something went wrong in my app")
    code, out, _err = run_installed("explain", str(path), "--format", "json")
    assert code == 1
    import json

    first = json.loads(out)["diagnosis"][0]
    assert first["slug"] == "unknown" and first["fix"]


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16-le", "utf-16"])
def test_windows_encodings_are_read_not_refused(tmp_path, encoding):
    body = '{"error": {"code": 503, "message": "The model is overloaded – réessayez", "status": "UNAVAILABLE"}}'
    path = tmp_path / "error.json"
    path.write_bytes(body.encode(encoding))
    code, out, err = run_installed("explain", str(path), "--format", "json")
    import json

    assert code == 1 and json.loads(out)["diagnosis"][0]["slug"] == "model-overloaded", err
