"""Reading what users hand over (pasted errors, request bodies, config) and writing reports, safely.

Bad input gets one clear line, never a traceback: `InputError` carries that line. Reports are written
atomically (a temp file in the same folder, then a rename), so a failure leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from gemini_doctor.input_error import InputError

MAX_INPUT_BYTES = 10 * 1024 * 1024  # a 4K image answer pasted whole still fits; anything larger is not an error body


def _size(n: int) -> str:
    return f"{n / 1048576:.1f} MiB" if n >= 1048576 else f"{n} bytes"


def decode(data: bytes, label: str) -> str:
    """Bytes to text: UTF-8 (BOM or not), UTF-16 (PowerShell's `>`, with or without BOM), else Windows-1252 as
    consoles on Windows write it; bytes with NULs in no such pattern are binary and refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode("utf-16")
    sample = data[:400]
    if len(sample) >= 8 and sample[1::2].count(0) >= 0.9 * len(sample[1::2]) and sample[0::2].count(0) == 0:
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode("utf-16-le")
    if b"\x00" in data[:65536]:
        raise InputError(f"{label} is binary (it contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_limited(stream: Any, label: str, limit: int = MAX_INPUT_BYTES) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputError(
            f"{label} is larger than {_size(limit)}: an error body is a few kilobytes; pass only the error "
            "(or the JSON body) instead"
        )
    return data


def read_text(path: str, what: str = "input", limit: int = MAX_INPUT_BYTES) -> tuple[str, str]:
    """Read a file (or `-` for stdin) as text; returns (text, label)."""
    if path == "-":
        return decode(read_limited(sys.stdin.buffer, "standard input", limit), "standard input"), "stdin"
    file = Path(path)
    label = f"{what} file {path!r}"
    try:
        size = file.stat().st_size
        if file.is_dir():
            raise InputError(f"{label} is a directory, not a file")
        if size > limit:
            raise InputError(
                f"{label} is {_size(size)}, larger than the {_size(limit)} limit: an error body is a few "
                "kilobytes; pass only the error (or the JSON body) instead"
            )
        with file.open("rb") as handle:
            data = read_limited(handle, label, limit)
    except FileNotFoundError:
        raise InputError(f"{label} does not exist") from None
    except PermissionError:
        raise InputError(f"{label} cannot be read (permission denied)") from None
    except IsADirectoryError:
        raise InputError(f"{label} is a directory, not a file") from None
    except OSError as exc:
        raise InputError(f"{label} cannot be read ({exc.strerror or exc})") from None
    return decode(data, label), path


def read_json_object(path: str, what: str) -> dict[str, Any]:
    """A JSON object from a file, e.g. the request body the app sends."""
    text, _ = read_text(path, what, limit=1024 * 1024)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{what} file {path!r} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(value, dict):
        raise InputError(f"{what} file {path!r} must hold a JSON object, not {type(value).__name__}")
    return value


def write_atomically(path: str, text: str) -> None:
    """Write `text` to `path` via a temp file and a rename; on failure nothing is left behind."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write {path!r} ({exc.strerror or exc})") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise InputError(f"cannot write {path!r} ({exc.strerror or exc})") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
