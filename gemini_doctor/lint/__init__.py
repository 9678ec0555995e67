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
# A file that holds none of these words (compared lowercase) cannot hold any finding: every rule needs one.
# Plain substring tests, a short common part first: a case-insensitive regex over the same bytes is ten times slower.
RELEVANT: dict[bytes, tuple[bytes, ...] | None] = {
    b"gemini": None,
    b"nano-banana": None,
    b"modalit": None,
    b"/openai": None,
    b"image": (
        b"imageconfig",
        b"image_config",
        b"imagesize",
        b"image_size",
        b"numberofimages",
        b"number_of_images",
        b"images/generations",
    ),
    b"aspect": (b"aspectratio", b"aspect_ratio"),
    b"candidate": (b"candidatecount", b"candidate_count"),
    b"sample": (b"samplecount", b"sample_count"),
    b"generat": (b"generationconfig", b"generation_config", b"generatecontent", b"generate_content"),
}


def relevant(data: bytes) -> bool:
    lowered = data.lower()
    for word, specific in RELEVANT.items():
        if word in lowered and (specific is None or any(item in lowered for item in specific)):
            return True
    return False


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
    lines = LINE_BREAK.split(source)
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
    visited: set[str] = set()
    while stack:
        current = stack.pop()
        real = os.path.realpath(current)
        if real in visited:  # a folder symlink back up the tree would loop
            continue
        visited.add(real)
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        subfolders = []
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir():
                    if name not in SKIP_DIRS and not name.endswith(".egg-info"):
                        subfolders.append(entry.path)
                elif entry.is_file() and os.path.splitext(name)[1].lower() in LANGUAGES:
                    yield Path(entry.path)
            except OSError:
                continue
        for sub in reversed(subfolders):
            if not os.path.exists(os.path.join(sub, "pyvenv.cfg")):
                stack.append(sub)


def _read(path: Path) -> tuple[bytes | None, str | None]:
    """(the bytes, or None when the file cannot hold a finding; the reason it was skipped, or None)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None, f"larger than {MAX_FILE_BYTES // 1048576} MiB"
        data = path.read_bytes()
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    return (data if relevant(data) else None), None


def _lint_bytes(job: tuple[bytes, str, str, frozenset[str]]) -> tuple[list[Finding], int, str | None, bool]:
    """(findings, ignored count, reason the file was skipped or None, parsed) for one relevant file; runs in a
    worker process when there are many."""
    from gemini_doctor.inputs import decode

    data, language, label, ignore = job
    try:
        source = decode(data, "file")
    except InputError as exc:
        return [], 0, str(exc).removeprefix("file is ").removeprefix("file "), False
    try:
        scan = front_end(language)(source)
        if scan.error:
            return [], 0, scan.error, True
        scan.vertex = VERTEX_MARK.search(source) is not None
        findings, dropped = _findings(scan, source, label, ignore)
    except (RecursionError, MemoryError):  # one pathological file must not lose the others' findings
        return [], 0, "nested too deeply to read", True
    return findings, dropped, None, True


# Vertex AI takes imageConfig fields the Gemini Developer API rejects: in such a file they are not a trap.
VERTEX_MARK = re.compile(
    r"vertexai\s*[=:]\s*(?:True|true)|aiplatform\.googleapis\.com|GOOGLE_GENAI_USE_VERTEXAI|vertexai\.init\("
)
LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what the parsers count as line ends (not U+2028 or form feeds)


PARALLEL_FROM = 48  # relevant files; below this, starting worker processes costs more than it saves


def _workers(jobs: int | None) -> int:
    if jobs is not None:
        return max(1, jobs)
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return min(available, 8)


def _run(work: list[tuple[bytes, str, str, frozenset[str]]], workers: int) -> Iterable:
    if workers < 2 or len(work) < PARALLEL_FROM:
        return map(_lint_bytes, work)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(_lint_bytes, work, chunksize=max(1, len(work) // (workers * 8))))


def lint_paths(
    paths: Iterable[str], ignore: Iterable[str] = (), cwd: Path | None = None, jobs: int | None = None
) -> LintResult:
    """Lint files and folders; `ignore` holds catalog codes (GD009) to leave out.

    Each file is read once, here; only files that mention a word some rule needs are parsed, in worker processes
    when there are many (`jobs` of them; default one per CPU, at most 8). The result does not depend on `jobs`.
    """
    base = Path(os.path.abspath(cwd or Path.cwd()))
    codes = frozenset(ignore)
    result = LintResult()
    seen: set[str] = set()
    work: list[tuple[bytes, str, str, frozenset[str]]] = []
    for path in collect(paths):
        absolute = os.path.abspath(path)
        real = os.path.realpath(path)
        if real in seen:  # a file reached twice (a symlink, or named twice) is linted once
            continue
        seen.add(real)
        label = display_path(Path(absolute), base)
        result.files += 1
        data, skipped = _read(path)
        if skipped:
            result.skipped.append((label, skipped))
        elif data is not None:
            work.append((data, LANGUAGES[path.suffix.lower()], label, codes))
    for (_, _, label, _), (findings, dropped, skipped, parsed) in zip(work, _run(work, _workers(jobs)), strict=True):
        result.parsed += parsed
        result.ignored += dropped
        result.findings.extend(findings)
        if skipped:
            result.skipped.append((label, skipped))
    result.skipped.sort()
    result.findings.sort(key=Finding.sort_key)
    return result
