"""`gemini-doctor lint`: the parameter traps written into an app's source, found before anything is sent.

Python is read with `ast`, JavaScript/TypeScript with a tolerant tokenizer, JSON with the same tokenizer; each
front-end produces the neutral shape of `nodes.py` and `rules.py` judges it once for all. Each file is read once;
a file that mentions none of the words any rule needs is not parsed at all. No key, no request, no network.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gemini_doctor.input_error import InputError
from gemini_doctor.lint.findings import Finding, ignored_on_line
from gemini_doctor.lint.nodes import Scan

LANGUAGES = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".json": "json",
}
# Folders never walked into (as ruff's defaults); a folder holding pyvenv.cfg is a virtual environment, any name.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "node_modules",
        "bower_components",
        ".venv",
        "venv",
        "__pypackages__",
        "__pycache__",
        ".tox",
        ".nox",
        ".eggs",
        ".direnv",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".hypothesis",
        "site-packages",
        "dist",
        "build",
        "_build",
        "buck-out",
    }
)
MAX_FILE_BYTES = 2 * 1024 * 1024  # larger files are bundles or data, not code someone writes calls in
# A file none of whose bytes match cannot hold any finding: every rule needs one of these words.
RELEVANT = re.compile(
    rb"gemini|nano-banana|modalit|image_?config|image_?size|aspect_?ratio|candidate_?count|sample_?count"
    rb"|number_?of_?images|generation_?config|generate_?content|/openai|images/generations",
    re.IGNORECASE,
)


@dataclass
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0  # files read
    parsed: int = 0  # files that mention Gemini and were parsed
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    ignored: int = 0  # findings silenced by --ignore or an inline comment


def front_end(language: str) -> Callable[[str], Scan]:
    if language == "python":
        from gemini_doctor.lint.python import scan_python

        return scan_python
    if language == "json":
        from gemini_doctor.lint.jsonfile import scan_json

        return scan_json
    from gemini_doctor.lint.javascript import scan_javascript

    return lambda source: scan_javascript(source, language)


def lint_source(source: str, language: str, path: str = "<source>", ignore: Iterable[str] = ()) -> list[Finding]:
    """The findings in one file's text, with inline ignore comments and `ignore` codes applied."""
    return _findings(front_end(language)(source), source, path, frozenset(ignore))[0]


def _findings(scan: Scan, source: str, path: str, ignore: frozenset[str]) -> tuple[list[Finding], int]:
    from gemini_doctor.lint.rules import find

    hits = find(scan)
    if not hits:
        return [], 0
    lines = source.splitlines()
    kept: list[Finding] = []
    dropped = 0
    for hit in hits:
        node, code = hit.node, hit.diagnosis.error.code
        silenced = ignored_on_line(lines[node.line - 1]) if 0 < node.line <= len(lines) else None
        if code in ignore or (silenced is not None and ("*" in silenced or code in silenced)):
            dropped += 1
            continue
        kept.append(Finding(hit.diagnosis, path, node.line, node.col, node.end_line, node.end_col))
    return kept, dropped


def display_path(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


def collect(paths: Iterable[str]) -> Iterator[Path]:
    """The files to lint: given files as they are (if their language is known), folders walked, junk skipped."""
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from _walk(path)
        elif path.is_file():
            if path.suffix.lower() in LANGUAGES:
                yield path
        elif path.exists():
            continue  # a socket or a device: nothing to lint
        else:
            raise InputError(f"path {given!r} does not exist")


def _walk(folder: Path) -> Iterator[Path]:
    stack = [str(folder)]
    while stack:
        current = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        subfolders = []
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if name not in SKIP_DIRS and not name.endswith(".egg-info"):
                        subfolders.append(entry.path)
                elif entry.is_file() and os.path.splitext(name)[1].lower() in LANGUAGES:
                    yield Path(entry.path)
            except OSError:
                continue
        for sub in reversed(subfolders):
            if not os.path.exists(os.path.join(sub, "pyvenv.cfg")):
                stack.append(sub)


def lint_file(path: Path, label: str, ignore: frozenset[str]) -> tuple[list[Finding], int, str | None, bool]:
    """(findings, ignored count, reason it was skipped or None, whether it was parsed)."""
    from gemini_doctor.inputs import decode

    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return [], 0, f"larger than {MAX_FILE_BYTES // 1048576} MiB", False
        data = path.read_bytes()
    except OSError as exc:
        return [], 0, f"cannot be read ({exc.strerror or exc})", False
    if RELEVANT.search(data) is None:
        return [], 0, None, False
    try:
        source = decode(data, "file")
    except InputError as exc:
        return [], 0, str(exc).removeprefix("file is ").removeprefix("file "), False
    scan = front_end(LANGUAGES[path.suffix.lower()])(source)
    if scan.error:
        return [], 0, scan.error, True
    findings, dropped = _findings(scan, source, label, ignore)
    return findings, dropped, None, True


def lint_paths(paths: Iterable[str], ignore: Iterable[str] = (), cwd: Path | None = None) -> LintResult:
    """Lint files and folders; `ignore` holds catalog codes (GD009) to leave out."""
    base = Path(os.path.abspath(cwd or Path.cwd()))
    codes = frozenset(ignore)
    result = LintResult()
    seen: set[Path] = set()
    for path in collect(paths):
        absolute = Path(os.path.abspath(path))
        if absolute in seen:
            continue
        seen.add(absolute)
        label = display_path(absolute, base)
        findings, dropped, skipped, parsed = lint_file(path, label, codes)
        result.files += 1
        result.parsed += parsed
        result.ignored += dropped
        result.findings.extend(findings)
        if skipped:
            result.skipped.append((label, skipped))
    result.findings.sort(key=Finding.sort_key)
    return result
