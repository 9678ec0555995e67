"""CI integration shipped in the repo: the pre-commit hook, run for real through `pre-commit try-repo`, and the
composite GitHub Action, whose step scripts run here as a runner would run them (the check against the
embedded emulator on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import FIXTURES, ROOT

LINT = FIXTURES / "lint"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))


def test_hook_definition():
    (hook,) = HOOKS
    assert hook["id"] == "gemini-doctor-lint" and hook["language"] == "python"
    assert hook["entry"] == "gemini-doctor lint" and hook["require_serial"] is True
    for name in ("a.py", "b.pyi", "c.js", "d.mjs", "e.jsx", "f.ts", "g.tsx", "h.mts", "i.json"):
        assert __import__("re").search(hook["files"], name), name
    assert not __import__("re").search(hook["files"], "notes.md")


def test_pre_commit_try_repo_runs_the_hook(tmp_path):
    """pre-commit builds a virtualenv, pip-installs this repo into it and runs the hook on a project's files.

    try-repo takes the repository's HEAD plus its uncommitted changes to tracked files: the hook files must be
    committed (or staged). Offline, as every test: the virtualenv sees this interpreter's packages, so pip finds
    the dependencies installed and builds the doctor without fetching anything; PATH holds no other gemini-doctor,
    so the hook can only run the one pip put in the hook's environment.
    """
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(LINT / "python" / "sdk_traps.py", project / "app.py")
    shutil.copy(LINT / "javascript" / "clean.tsx", project / "clean.tsx")
    (project / "README.md").write_text("imageSize 1k is not code\n")
    env = {
        **{key: value for key, value in os.environ.items() if key != "PYTHONPATH"},  # the hook runs its own install
        "PATH": os.pathsep.join(os.path.dirname(shutil.which(tool) or tool) for tool in ("git", "bash")),
        "VIRTUALENV_SYSTEM_SITE_PACKAGES": "1",
        "PIP_NO_INDEX": "1",
        "PIP_NO_BUILD_ISOLATION": "0",  # pip's inverted spelling: build with the setuptools already installed
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "NO_COLOR": "1",
    }
    assert shutil.which("gemini-doctor", path=env["PATH"]) is None  # only the hook's environment can provide it
    subprocess.run(["git", "init", "-q", str(project)], check=True, env=env)
    subprocess.run(["git", "add", "."], cwd=project, check=True, env=env)
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "gemini-doctor-lint", "--color", "never"]
    result = subprocess.run(
        [*command, "--files", "app.py", "clean.tsx", "README.md"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "gemini-doctor lint" in out and "Failed" in out
    assert "app.py:21:51: GD009 [image-size-case]" in out and "app.py:41:11: GD114 [model-deprecated]" in out
    assert "clean.tsx" not in out.split("gemini-doctor lint", 1)[1] and "README.md:" not in out
    assert "in 2 files." in out  # the README was not handed to the hook


def step(name: str) -> dict:
    return next(s for s in ACTION["runs"]["steps"] if s.get("name") == name)


def test_action_definition():
    assert ACTION["runs"]["using"] == "composite"
    assert {"api-key", "check", "lint", "lint-paths", "sarif-file", "emulator"} <= set(ACTION["inputs"])
    assert ACTION["inputs"]["check"]["default"] == "true" and ACTION["inputs"]["lint"]["default"] == "false"
    install = step("Install gemini-doctor")
    assert "GITHUB_ACTION_PATH" in install["run"] and "pip install" in install["run"]
    for s in ACTION["runs"]["steps"]:
        assert "${{" not in s.get("run", ""), f"{s['name']}: inputs must reach scripts through env"
    assert step("gemini-doctor lint")["if"] == "${{ !cancelled() && inputs.lint == 'true' }}"


def run_step(name: str, workspace: Path, inputs: dict[str, str]) -> tuple[int, str, Path, Path]:
    summary, output = workspace / "summary.md", workspace / "output.txt"
    env = {
        **os.environ,
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "NO_COLOR": "1",
        **{key: value for key, value in inputs.items()},
    }
    for key in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
        env.pop(key, None)
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step(name)["run"]],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr, summary, output


def test_action_check_step_against_the_emulator(tmp_path):
    code, out, summary, output = run_step(
        "gemini-doctor check", tmp_path, {"INPUT_EMULATOR": "healthy", "INPUT_CHECK_ARGS": "--timeout 20"}
    )
    assert code == 0, out
    assert "## gemini-doctor check" in summary.read_text() and output.read_text() == "exit-code=0\n"
    code, out, summary, output = run_step("gemini-doctor check", tmp_path, {"INPUT_EMULATOR": "billing-limit-zero"})
    assert code == 1 and "billing-limit-zero" in summary.read_text() and output.read_text().endswith("exit-code=1\n")


def test_action_lint_step_writes_annotations_summary_and_sarif(tmp_path):
    shutil.copytree(LINT / "javascript", tmp_path / "src")
    code, out, summary, output = run_step(
        "gemini-doctor lint",
        tmp_path,
        {"INPUT_LINT_PATHS": "src", "INPUT_LINT_ARGS": "--ignore GD006", "INPUT_SARIF_FILE": "lint.sarif"},
    )
    assert code == 1, out
    assert "::error file=src/sdk_traps.ts,line=29,col=12" in out and "GD006" not in out
    assert "## gemini-doctor lint" in summary.read_text() and output.read_text() == "exit-code=1\n"
    sarif = json.loads((tmp_path / "lint.sarif").read_text())
    results = sarif["runs"][0]["results"]
    assert results and {r["ruleId"] for r in results} >= {"GD005", "GD009"} and "GD006" not in str(results)
    clean_code, _, _, output = run_step("gemini-doctor lint", tmp_path, {"INPUT_LINT_PATHS": "src/clean.tsx"})
    assert clean_code == 0 and output.read_text().endswith("exit-code=0\n")


def test_readme_shows_the_hook_the_action_and_every_lint_rule():
    from gemini_doctor.knowledge import find_error
    from gemini_doctor.lint.render import LINT_RULES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Lint and CI", 1)[1].split("\n## ", 1)[0]
    assert "id: gemini-doctor-lint" in section and "OWNER/gemini-doctor@REF" in section
    assert "sarif-file:" in section and "upload-sarif" in section
    for slug in LINT_RULES:
        entry = find_error(slug)
        assert entry is not None and f"| {entry.code} | {slug} |" in section, slug
    for name in ACTION["inputs"]:
        assert f"`{name}`" in section, name
