"""lint under attack (issue 9, point 11): nothing it could not read passes as green, no file encoding is skipped
silently, and no symbolic link, named pipe or device makes it walk the whole disk or block."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gemini_doctor.lint.render import FORMATS, render_lint
from tests.conftest import doctor_command, doctor_env, timeout_bound

TRAP = 'cfg = {"imageConfig": {"imageSize": "2k"}}\n'  # GD009 on line 1
# Root reads any file whatever its mode: dropping these two capabilities from the bounding set before exec makes
# the mode bits bind it, as they bind everyone else (CAP_DAC_OVERRIDE = 1, CAP_DAC_READ_SEARCH = 2).
UNPRIVILEGED = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for capability in (1, 2):
    if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
        sys.exit(f"cannot drop capability {capability}: errno {ctypes.get_errno()}")
os.execv(sys.argv[1], sys.argv[1:])
"""


def lint_as_a_user(*args: str, cwd: Path) -> tuple[int, str, str]:
    """`gemini-doctor lint ARGS` for whom file modes count: as it is when not root, without the file-access
    capabilities when root."""
    command = [*doctor_command(), "lint", *args]
    if os.geteuid() == 0:
        command = [sys.executable, "-c", UNPRIVILEGED, *command]
    result = subprocess.run(
        command, cwd=cwd, env=doctor_env(), capture_output=True, text=True, timeout=timeout_bound(10)
    )
    return result.returncode, result.stdout, result.stderr


@pytest.fixture
def locked_tree(tmp_path: Path):
    """A clean file, a file and a folder nobody may read (mode 000), the folder holding a trap."""
    (tmp_path / "ok.py").write_text("print('hello')\n")
    (tmp_path / "secret.py").write_text(TRAP)
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.py").write_text(TRAP)
    os.chmod(tmp_path / "secret.py", 0)
    os.chmod(tmp_path / "locked", 0)
    yield tmp_path
    os.chmod(tmp_path / "locked", 0o755)
    os.chmod(tmp_path / "secret.py", 0o644)


def test_an_unreadable_file_or_folder_is_listed_and_fails_the_run(locked_tree):
    code, out, err = lint_as_a_user(".", "--format", "json", cwd=locked_tree)
    assert code == 1, (out, err)  # as ruff's E902: what could not be read is no green
    document = json.loads(out)
    assert document["findings"] == [] and document["exit_code"] == 1 and document["unreadable"] == 2
    skipped = {item["path"]: item for item in document["skipped"]}
    assert set(skipped) == {"locked", "secret.py"}
    assert all(item["unreadable"] and "Permission denied" in item["reason"] for item in skipped.values())
    code, rich, _ = lint_as_a_user(".", cwd=locked_tree)
    assert code == 1 and "No finding in 2 files. 2 paths could not be read." in rich
    assert "skipped locked: folder cannot be read" in rich and "skipped secret.py: cannot be read" in rich


def test_an_unreadable_path_shows_in_every_format(locked_tree):
    _code, out, _ = lint_as_a_user(".", "--format", "json", cwd=locked_tree)
    document = json.loads(out)
    texts = {fmt: render_lint(document, fmt) for fmt in FORMATS}
    for fmt, text in texts.items():
        assert "locked" in text and "secret.py" in text, fmt
        assert "Permission denied" in text, fmt
    assert "::error file=secret.py,title=gemini-doctor lint skipped it::cannot be read" in texts["github"]
    invocation = json.loads(texts["sarif"])["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert {note["level"] for note in invocation["toolExecutionNotifications"]} == {"error"}
    assert "| `locked` | folder cannot be read (Permission denied) |" in texts["markdown"]


def lint_json(run_cli, *args: str) -> tuple[int, dict]:
    code, out, _ = run_cli("lint", *args, "--format", "json")
    return code, json.loads(out)


def test_a_broken_symbolic_link_is_an_unreadable_file(run_cli, tmp_path, monkeypatch):
    (tmp_path / "ok.py").write_text("print('hello')\n")
    os.symlink(tmp_path / "gone.py", tmp_path / "app.py")
    os.symlink(tmp_path / "gone", tmp_path / "notes")  # no source extension: nothing lint would have read
    os.symlink("self.py", tmp_path / "self.py")  # a link to itself
    monkeypatch.chdir(tmp_path)
    code, document = lint_json(run_cli, ".")
    assert code == 1 and document["unreadable"] == 2
    assert {s["path"]: s["unreadable"] for s in document["skipped"]} == {"app.py": True, "self.py": True}
    code, _out, err = run_cli("lint", "app.py")  # named on the command line: bad input, one line
    assert code == 2 and "broken symbolic link" in err


def test_a_file_named_with_dots_alone_before_its_extension_is_judged_as_a_walk_would(run_cli, tmp_path, monkeypatch):
    """`..py` has no extension (os.path.splitext): named on the command line it was taken for Python, then looked
    up by its extension, and the run ended in an internal error."""
    (tmp_path / "..py").write_text("MODEL = 'gemini-3-pro-image-preview'\n")
    (tmp_path / "a..py").write_text("MODEL = 'gemini-3-pro-image-preview'\n")
    monkeypatch.chdir(tmp_path)
    walked = lint_json(run_cli, ".")[1]
    named = lint_json(run_cli, "..py", "a..py")[1]
    assert walked["files"] == named["files"] == 1
    assert [f["path"] for f in walked["findings"]] == [f["path"] for f in named["findings"]] == ["a..py"]


def test_labels_worked_out_per_folder_are_the_labels_of_each_path():
    from gemini_doctor.lint import _label, _Labels

    paths = ["a/b.py", "./a.py", "../x/y.py", "a/../b.py", "/x.py", "x.py", "a//b.py", "./././c.py", "/w/m/a.py"]
    paths += ["/w/mx/a.py", "/a.py", "../../../../a.py", "w/m/deep/er/f.ts", "/w/m", "/w/m/", "//x.py", "//w//m.py"]
    for here in ("/w", "/", "/w/m", "/tmp"):
        for base in (here, "/w/m", "/", "/w"):
            labels = _Labels(base, here)
            assert [labels(p) for p in paths] == [_label(p, base, here) for p in paths], (here, base)


BODY = '{"generationConfig": {"imageConfig": {"imageSize": "2k"}}}\n'


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_files_are_read_as_their_utf8_twins_are(run_cli, tmp_path, monkeypatch, encoding):
    """PowerShell's `>` and Windows editors write UTF-16 with a byte-order mark: the same findings, same places."""
    bom = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding]  # utf-16 writes its own
    for folder, write in (("utf8", lambda text: text.encode()), ("utf16", lambda text: bom + text.encode(encoding))):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "body.json").write_bytes(write(BODY))
        (tmp_path / folder / "app.js").write_bytes(write("// é\n" + TRAP))
    monkeypatch.chdir(tmp_path / "utf8")
    _code, plain = lint_json(run_cli, ".")
    monkeypatch.chdir(tmp_path / "utf16")
    code, document = lint_json(run_cli, ".")
    assert code == 1 and document["skipped"] == []
    found = [(f["path"], f["line"], f["column"], f["code"]) for f in document["findings"]]
    assert found == [(f["path"], f["line"], f["column"], f["code"]) for f in plain["findings"]]
    assert [(path, line, code) for path, line, _, code in found] == [("app.js", 2, "GD009"), ("body.json", 1, "GD009")]


def test_a_link_to_the_root_or_into_proc_is_not_followed(run_cli, tmp_path, monkeypatch):
    (tmp_path / "app.py").write_text(TRAP)
    os.symlink("/", tmp_path / "root")
    os.symlink("/proc/self", tmp_path / "me")
    os.symlink("/dev/zero", tmp_path / "zero.py")
    os.symlink("/proc/self/environ", tmp_path / "environ.json")
    monkeypatch.chdir(tmp_path)
    code, document = lint_json(run_cli, ".")
    assert code == 1 and [f["path"] for f in document["findings"]] == ["app.py"] and document["files"] == 1
    reasons = {s["path"]: s["reason"] for s in document["skipped"]}
    assert set(reasons) == {"root", "me", "zero.py", "environ.json"} and document["unreadable"] == 0
    assert "outside the linted folders" in reasons["root"] and "/proc" in reasons["me"]


def test_proc_sys_and_dev_named_on_the_command_line_are_not_read(run_cli):
    code, document = lint_json(run_cli, "/proc/self", "/sys", "/dev/zero", "/dev")
    assert code == 0 and document["files"] == 0
    assert [s["path"] for s in document["skipped"]] == ["/dev", "/dev/zero", "/proc/self", "/sys"]


def test_a_named_pipe_never_blocks_lint(tmp_path):
    (tmp_path / "app.py").write_text(TRAP)
    os.mkfifo(tmp_path / "pipe.py")  # nothing ever writes to it: opening it to read would block forever
    os.mkfifo(tmp_path / "other")
    for args in ([".", "--format", "json"], ["pipe.py", "app.py", "--format", "json"]):
        result = subprocess.run(
            [*doctor_command(), "lint", *args],
            cwd=tmp_path,
            env=doctor_env(),
            capture_output=True,
            text=True,
            timeout=timeout_bound(10),  # a block would hang here
        )
        document = json.loads(result.stdout)
        assert result.returncode == 1 and [f["path"] for f in document["findings"]] == ["app.py"], args
        assert document["skipped"] == [
            {"path": "pipe.py", "reason": "a named pipe, not a file: not read", "unreadable": False}
        ], args
