"""`gemini-doctor lint`: the parameter traps written into an app's source, found before anything is sent.

Python is read with `ast`, JavaScript/TypeScript with a tolerant tokenizer, JSON with the same tokenizer; each
front-end produces the neutral shape of `nodes.py` and `rules.py` judges it once for all. Each file is read once;
a file that mentions none of the words any rule needs is not parsed at all. No key, no request, no network.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import stat
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


def relevant(lowered: bytes) -> bool:
    """Whether a file (its bytes in lower case) mentions a word some rule needs: else it is not parsed."""
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
    unreadable: list[str] = field(default_factory=list)  # paths among the skipped that could not be read
    ignored: int = 0  # findings silenced by --ignore or an inline comment
    backends: dict[str, str] = field(default_factory=dict)  # parsed file → "vertex-ai" | "gemini-api"


def front_end(language: str) -> Callable[..., Scan]:
    """The reader of a language: (source, source.lower() or None) → Scan."""
    if language == "python":
        from gemini_doctor.lint.python import scan_python

        return scan_python
    if language == "json":
        from gemini_doctor.lint.jsonfile import scan_json

        return lambda source, _lowered=None: scan_json(source)
    from gemini_doctor.lint.javascript import scan_javascript

    return lambda source, lowered=None: scan_javascript(source, language, lowered)


def lint_source(source: str, language: str, path: str = "<source>", ignore: Iterable[str] = ()) -> list[Finding]:
    """The findings in one file's text, with inline ignore comments and `ignore` codes applied."""
    lowered = source.lower()
    scan = front_end(language)(source, lowered)
    scan.vertex = _calls_vertex(source, lowered)
    return _findings(scan, source, lowered, path, frozenset(ignore))[0]


def _findings(scan: Scan, source: str, lowered: str, path: str, ignore: frozenset[str]) -> tuple[list[Finding], int]:
    from gemini_doctor.lint.rules import find

    hits = find(scan)
    if not hits:
        return [], 0
    # Lines are split only where an ignore comment may be: IGNORE_COMMENT matches no text without "doctor".
    lines = LINE_BREAK.split(source) if "doctor" in lowered else []
    kept: list[Finding] = []
    dropped = 0
    for hit in hits:
        node, code = hit.node, hit.diagnosis.error.code
        silenced = ignored_on_line(lines[node.line - 1]) if 0 < node.line <= len(lines) else None
        if code in ignore or (silenced is not None and ("*" in silenced or code in silenced)):
            dropped += 1
            continue
        kept.append(Finding(hit.diagnosis, path, node.line, node.col, node.end_line, node.end_col, hit.edit))
    return kept, dropped


# Kernel pseudo-filesystems: endless, blocking or device files, never source. Never walked, never read.
PSEUDO_ROOTS = ("/proc", "/sys", "/dev")


def _pseudo(real: str) -> bool:
    return any(real == root or real.startswith(root + os.sep) for root in PSEUDO_ROOTS)


def _inside(real: str, roots: tuple[str, ...]) -> bool:
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


@dataclass(frozen=True)
class Skip:
    """A path lint did not read, and why; `unreadable` when reading failed (an I/O error fails the run, as ruff's
    E902 does), not when lint chose to leave it."""

    path: Path | str
    reason: str
    unreadable: bool = False


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _suffix(name: str) -> str:
    """A file name's extension in lower case, as os.path.splitext gives it (a name of dots and an extension, as
    `..py`, has none)."""
    dot = name.rfind(".")
    if dot <= 0 or not name[:dot].strip("."):
        return ""
    return name[dot:].lower()


def collect(paths: Iterable[str]) -> Iterator[tuple[str, str, str] | Skip]:
    """The files to lint as (path, real path, language), and the paths left: given files as they are (if their
    language is known), folders walked, junk skipped. Symbolic links are followed only inside the given folders,
    never into /proc, /sys, /dev."""
    given = [Path(item) for item in paths]
    for path in given:  # every path checked before any is walked: the walk feeds worker processes as it goes
        if not os.path.lexists(path):
            raise InputError(f"path {str(path)!r} does not exist")
        if not path.exists():
            raise InputError(f"path {str(path)!r} is a broken symbolic link")
    roots = tuple(os.path.realpath(path) for path in given if path.is_dir())
    for path in given:
        real = os.path.realpath(path)
        if _pseudo(real):
            yield Skip(path, "on a kernel pseudo-filesystem (/proc, /sys, /dev): not source, not read")
        elif path.is_dir():
            yield from _walk(str(path), real, roots)
        elif path.is_file():
            language = LANGUAGES.get(_suffix(path.name))
            if language is not None:
                yield str(path), real, language
        else:
            yield Skip(path, f"{_kind(path.stat().st_mode)}, not a file: not read")


def _link(path: str, is_folder: bool, roots: tuple[str, ...]) -> Skip | str:
    """Why a symbolic link met in a walk is not followed, or its real path to follow it."""
    real = os.path.realpath(path)
    if _pseudo(real):
        return Skip(Path(path), "a symbolic link into /proc, /sys or /dev: not followed")
    if not _inside(real, roots):
        what = "folder" if is_folder else "file"
        return Skip(
            Path(path), f"a symbolic link to a {what} outside the linted folders: not followed (name it to lint it)"
        )
    return real


def _entry(entry: os.DirEntry, folder_real: str, roots: tuple[str, ...]) -> tuple[str, str, str] | Skip | None:
    """One folder entry: (path, real path, its language, or "" for a folder) to lint or walk, a Skip, or None to
    pass over. The real path is the folder's (`folder_real`, ending with a separator) and the name; only a
    symbolic link costs a realpath."""
    name = entry.name
    link = entry.is_symlink()
    language = LANGUAGES.get(_suffix(name))
    linted = language is not None
    if link and not os.path.exists(entry.path):
        return Skip(Path(entry.path), "a broken symbolic link: cannot be read", unreadable=True) if linted else None
    if entry.is_dir():
        if name in SKIP_DIRS or name.endswith(".egg-info"):
            return None
        real = _link(entry.path, True, roots) if link else folder_real + name
        return real if isinstance(real, Skip) else (entry.path, real, "")
    if language is None:
        return None
    real = _link(entry.path, False, roots) if link else folder_real + name
    if isinstance(real, Skip):
        return real
    if entry.is_file():
        return entry.path, real, language
    return Skip(Path(entry.path), f"{_kind(entry.stat().st_mode)}, not a file: not read")


def _walk(folder: str, real: str, roots: tuple[str, ...]) -> Iterator[tuple[str, str, str] | Skip]:
    stack = [(folder, real)]
    visited: set[str] = set()
    while stack:
        current, real = stack.pop()
        if real in visited:  # a folder symlink back up the tree would loop
            continue
        visited.add(real)
        if _pseudo(real):
            yield Skip(Path(current), "on a kernel pseudo-filesystem (/proc, /sys, /dev): not walked")
            continue
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError as exc:
            yield Skip(Path(current), f"folder cannot be read ({exc.strerror or exc})", unreadable=True)
            continue
        subfolders = []
        inside = real if real.endswith(os.sep) else real + os.sep
        for entry in entries:
            try:
                found = _entry(entry, inside, roots)
            except OSError as exc:
                found = Skip(Path(entry.path), f"cannot be read ({exc.strerror or exc})", unreadable=True)
            if isinstance(found, tuple):
                if found[2]:
                    yield found
                else:
                    subfolders.append((found[0], found[1]))
            elif found is not None:
                yield found
        for sub in reversed(subfolders):
            if not os.path.exists(os.path.join(sub[0], "pyvenv.cfg")):
                stack.append(sub)


def _read_capped(path: str) -> bytes | Skip:
    """The file's bytes, opened without blocking (a FIFO swapped in is refused, not waited on), at most
    MAX_FILE_BYTES + 1 of them."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return Skip(path, f"{_kind(info.st_mode)}, not a file: not read")
        if info.st_size > MAX_FILE_BYTES:
            return Skip(path, f"larger than {MAX_FILE_BYTES // 1048576} MiB")
        # One read of the size fstat gave and one byte more (not a 2 MiB buffer per file); more while it grows. A
        # regular file's read comes back short only at its end: no second read to learn it.
        chunks, size = [], 0
        want = info.st_size + 1
        while size <= MAX_FILE_BYTES and (chunk := os.read(fd, asked := min(want, MAX_FILE_BYTES + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
            if len(chunk) < asked:
                break
            want = MAX_FILE_BYTES + 1 - size
    finally:
        os.close(fd)
    if size > MAX_FILE_BYTES:
        return Skip(path, f"larger than {MAX_FILE_BYTES // 1048576} MiB")
    return b"".join(chunks)


def _read(path: str) -> tuple[bytes, bytes] | Skip | None:
    """The bytes as UTF-8 (UTF-16 files transcoded, so the word filter sees their text) and in lower case, a Skip,
    or None when the file cannot hold a finding."""
    try:
        data = _read_capped(path)
    except OSError as exc:
        return Skip(path, f"cannot be read ({exc.strerror or exc})", unreadable=True)
    if isinstance(data, Skip):
        return data
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:400]:
        from gemini_doctor.inputs import decode

        with contextlib.suppress(InputError):  # binary: skipped as such if it names a rule's word, when parsed
            data = decode(data, "file").encode("utf-8")
    lowered = data.lower()
    return (data, lowered) if relevant(lowered) else None


Job = tuple[str, str, str, frozenset[str]]  # (path, language, label, codes to ignore)
Outcome = tuple[Skip | None, list[Finding], int, str | None, str | None]


def _lint_file(job: Job) -> Outcome:
    """Read one file and lint it if it mentions a word some rule needs: (the Skip if it could not be read,
    findings, ignored count, why it was not parsed, its backend if parsed). Runs in a worker process when there
    are many files, so reading is shared out too."""
    path, language, label, ignore = job
    data = _read(path)
    if data is None:
        return None, [], 0, None, None
    if isinstance(data, Skip):
        return data, [], 0, None, None
    return None, *_lint_bytes(data, language, label, ignore)


def _lint_bytes(
    read: tuple[bytes, bytes], language: str, label: str, ignore: frozenset[str]
) -> tuple[list[Finding], int, str | None, str | None]:
    """(findings, ignored count, reason the file was skipped or None, the backend it calls if it was parsed) for
    one relevant file, read as (its bytes, in lower case); runs in a worker process when there are many."""
    from gemini_doctor.inputs import decode

    data, lowered_bytes = read
    try:
        source = decode(data, "file")
    except InputError as exc:
        return [], 0, str(exc).removeprefix("file is ").removeprefix("file "), None
    # ASCII bytes decode to text of the same length, and their lower case to its lower case.
    ascii_text = len(source) == len(data) and data.isascii()
    lowered = lowered_bytes.decode("ascii") if ascii_text else source.lower()
    backend = "vertex-ai" if _calls_vertex(source, lowered) else "gemini-api"
    try:
        scan = front_end(language)(source, lowered)
        if scan.error:
            return [], 0, scan.error, backend
        scan.vertex = backend == "vertex-ai"
        findings, dropped = _findings(scan, source, lowered, label, ignore)
    except (RecursionError, MemoryError):  # one pathological file must not lose the others' findings
        return [], 0, "nested too deeply to read", backend
    return findings, dropped, None, backend


# A file that calls Vertex AI (google-genai's vertexai=True or its environment switch, the Vertex SDKs, a Vertex
# host): there the Vertex-only imageConfig fields are right and the Developer API's route traps do not apply.
VERTEX_MARK = re.compile(
    r"vertexai\s*[=:]\s*(?:True|true)|aiplatform\.googleapis\.com|GOOGLE_GENAI_USE_VERTEXAI|vertexai\.init\("
    r"|^\s*(?:from|import)\s+(?:vertexai|google\.cloud\.aiplatform)\b|^\s*from\s+google\.cloud\s+import\s+aiplatform\b"
    r"|@google-cloud/vertexai",
    re.MULTILINE,
)


def _calls_vertex(source: str, lowered: str) -> bool:
    """VERTEX_MARK, after a substring test of the lowercased text (`lowered`) that every one of its forms passes
    (the regex is ten times slower)."""
    return ("vertex" in lowered or "aiplatform" in lowered) and bool(VERTEX_MARK.search(source))


LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what the parsers count as line ends (not U+2028 or form feeds)


PARALLEL_FROM = 400  # files; below this, starting worker processes costs more than it saves
CHUNK = 256  # files a worker takes at a time: small enough to start while the walk goes on, and to even out


def _workers(jobs: int | None) -> int:
    if jobs is not None:
        return max(1, jobs)
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return min(available, 8)


def _run(work: Iterator[Job], workers: int) -> list[Outcome]:
    """The outcome of each job, in the jobs' order. Past PARALLEL_FROM files, worker processes take them in chunks
    as the walk yields them: reading and parsing overlap the walk."""
    first = list(itertools.islice(work, PARALLEL_FROM))
    if workers < 2 or len(first) < PARALLEL_FROM:
        return [_lint_file(job) for job in itertools.chain(first, work)]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    if context.get_start_method() == "fork":
        _warm()  # imported once here, not once in each worker
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(_lint_file, itertools.chain(first, work), chunksize=CHUNK))


def _warm() -> None:
    """What linting a file needs loaded: the front-ends, the rules and the model table."""
    from gemini_doctor.knowledge import error_types, models

    for language in ("python", "javascript", "json"):
        front_end(language)
    import gemini_doctor.inputs
    import gemini_doctor.lint.rules  # noqa: F401

    models()
    error_types()


def _jobs(paths: Iterable[str], codes: frozenset[str], base: str, here: str, result: LintResult) -> Iterator[Job]:
    """The files to lint, each once (a symlink or a path named twice is linted once); the paths left are recorded
    in `result` as they are met."""
    seen: set[str] = set()
    labels = _Labels(base, here)
    for item in collect(paths):
        if isinstance(item, Skip):
            label = _label(os.fspath(item.path), base, here)
            if label not in seen:
                seen.add(label)
                _skipped(result, label, item)
            continue
        path, real, language = item
        if real in seen:
            continue
        seen.add(real)
        yield path, language, labels(path), codes


def lint_paths(
    paths: Iterable[str], ignore: Iterable[str] = (), cwd: Path | None = None, jobs: int | None = None
) -> LintResult:
    """Lint files and folders; `ignore` holds catalog codes (GD009) to leave out.

    Each file is read once, in the process that lints it; only files that mention a word some rule needs are
    parsed, in worker processes when there are many (`jobs` of them; default one per CPU, at most 8). The result
    does not depend on `jobs`.
    """
    here = os.getcwd()
    base = os.path.abspath(cwd or here)
    result = LintResult()
    work: list[Job] = []
    outcomes = _run(_recorded(_jobs(paths, frozenset(ignore), base, here, result), work), _workers(jobs))
    result.files = len(work)
    for (_, _, label, _), outcome in zip(work, outcomes, strict=True):
        unread, findings, dropped, skipped, backend = outcome
        if unread is not None:
            _skipped(result, label, unread)
            continue
        result.parsed += backend is not None
        if backend is not None:
            result.backends[label] = backend
        result.ignored += dropped
        result.findings.extend(findings)
        if skipped:
            result.skipped.append((label, skipped))
    result.skipped.sort()
    result.findings.sort(key=Finding.sort_key)
    return result


def _recorded(jobs: Iterator[Job], into: list[Job]) -> Iterator[Job]:
    for job in jobs:
        into.append(job)
        yield job


def _label(path: str, base: str, here: str) -> str:
    """The path as reports show it: relative to `base` when inside it, with forward slashes (`here`: the process's
    working folder, which a relative path is relative to)."""
    absolute = os.path.normpath(os.path.join(here, path))
    if absolute.startswith(base) and absolute[len(base) : len(base) + 1] == os.sep:
        absolute = absolute[len(base) + 1 :]
    return absolute.replace(os.sep, "/")


class _Labels:
    """`_label` of each path, a folder's part worked out once for all the files in it (a walk meets thousands)."""

    def __init__(self, base: str, here: str) -> None:
        self.base, self.here = base, here
        self.own = _label(base, base, here)  # the label of `base` itself (a folder inside it loses that part)
        self.folders: dict[str, str] = {}  # a folder as the paths in it start → its label and "/" ("" for `base`)

    def __call__(self, path: str) -> str:
        head, _, name = path.rpartition(os.sep)
        if not head or head.endswith(os.sep) or name in ("", ".", "..") or (os.altsep and os.altsep in name):
            return _label(path, self.base, self.here)
        prefix = self.folders.get(head)
        if prefix is None:
            folder = _label(head, self.base, self.here)
            # the root ends with "/"; `base` itself gives way to the name
            prefix = folder if folder.endswith("/") else "" if folder == self.own else folder + "/"
            self.folders[head] = prefix
        return prefix + name


def _skipped(result: LintResult, label: str, skip: Skip) -> None:
    result.skipped.append((label, skip.reason))
    if skip.unreadable:
        result.unreadable.append(label)
