"""`lint --fix` / `--diff`: the safe fixes written back, each file atomically, its encoding and line endings kept.

A fix replaces one string literal's value ("1k" → "1K"). It is applied only where the file still holds, at the
finding's place, that literal written plainly between quotes (no prefix, no escape): anything else is left alone.
"""

from __future__ import annotations

import codecs
import difflib
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from gemini_doctor.lint.findings import Edit, Finding, Safety

_LINE_END = re.compile(r"\r\n|\r|\n")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


@dataclass
class FixResult:
    fixed: list[Finding] = field(default_factory=list)  # findings whose fix was applied (or would be, with --diff)
    diffs: list[str] = field(default_factory=list)  # unified diffs, one per changed file
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, why a file's fixes were not written)


def _decode(data: bytes) -> tuple[bytes, str, str] | None:
    """(BOM, codec, text), or None for a file that is neither UTF-8 nor UTF-16 with a BOM: such files are not fixed."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return bom, codec, data[len(bom) :].decode(codec)
            except UnicodeDecodeError:
                return None
    try:
        return b"", "utf-8", data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _offset(starts: list[int], line: int, column: int) -> int:
    return starts[line - 1] + column - 1 if 0 < line <= len(starts) else -1


def apply_edits(text: str, edits: list[tuple[Edit, Finding]]) -> tuple[str, list[Finding]]:
    """The text with every edit that still matches applied (last first, so earlier offsets stay right)."""
    starts = [0] + [match.end() for match in _LINE_END.finditer(text)]
    done: list[Finding] = []
    last = len(text) + 1
    for edit, finding in sorted(edits, key=lambda pair: (pair[0].line, pair[0].col), reverse=True):
        start, end = _offset(starts, edit.line, edit.col), _offset(starts, edit.end_line, edit.end_col)
        literal = text[start:end] if 0 <= start < end <= last else ""
        quote = literal[:1]
        if len(literal) < 2 or quote not in "'\"`" or literal[-1] != quote or literal[1:-1] != edit.old:
            continue  # not written plainly (a prefix, an escape), or the file changed since it was read
        text = text[:start] + quote + edit.new + quote + text[end:]
        last = start
        done.append(finding)
    return text, done[::-1]


def _write(path: Path, data: bytes) -> None:
    """A temp file beside the target, its permissions copied, then a rename: never a half-written file. A symbolic
    link is kept: its target is replaced."""
    target = Path(os.path.realpath(path))
    mode = stat.S_IMODE(os.stat(target).st_mode)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".fix", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def fix_findings(findings: list[Finding], cwd: Path, write: bool) -> FixResult:
    """Apply the safe fixes among `findings` (paths relative to `cwd`): written when `write`, else only diffed."""
    by_file: dict[str, list[tuple[Edit, Finding]]] = {}
    for finding in findings:
        if finding.edit is not None and finding.edit.safety is Safety.SAFE:
            by_file.setdefault(finding.path, []).append((finding.edit, finding))
    result = FixResult()
    for label, edits in sorted(by_file.items()):
        path = cwd / label
        try:
            decoded = _decode(path.read_bytes())
            if decoded is None:
                result.failed.append((label, "neither UTF-8 nor UTF-16 with a byte-order mark: not fixed"))
                continue
            bom, codec, text = decoded
            new, done = apply_edits(text, edits)
            if not done:
                continue
            if write:
                _write(path, bom + new.encode(codec))
        except OSError as exc:
            result.failed.append((label, f"cannot be fixed ({exc.strerror or exc})"))
            continue
        result.fixed.extend(done)
        before, after = text.splitlines(keepends=True), new.splitlines(keepends=True)
        result.diffs.append("".join(difflib.unified_diff(before, after, f"a/{label}", f"b/{label}")))
    return result
