"""Reading what users hand over (pasted errors, request bodies, config) and writing reports, safely.

Bad input gets one clear line, never a traceback: `InputError` carries that line; nothing here blocks forever (a
named pipe with no writer or reader is an error). Reports replace regular files atomically (a temp file in the same
folder, then a rename), so a failure leaves nothing half-written; devices and pipes are written in place.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import sys
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


def _hint(what: str) -> str:
    if what in ("input", "error", "standard input"):
        return "an error body is a few kilobytes; pass only the error (or the JSON body) instead"
    return f"no {what} file is that large"


def read_limited(stream: Any, label: str, limit: int = MAX_INPUT_BYTES, what: str = "input") -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{label} is larger than {_size(limit)}: {_hint(what)}")
    return data


def read_text(path: str, what: str = "input", limit: int = MAX_INPUT_BYTES) -> tuple[str, str]:
    """Read a file (or `-` for stdin) as text; returns (text, label). A named pipe is read only if it has a writer."""
    if path == "-":
        return decode(read_limited(sys.stdin.buffer, "standard input", limit), "standard input"), "stdin"
    label = f"{what} file {path!r}"
    try:
        mode, size = _mode_and_size(path)
        if stat.S_ISDIR(mode):
            raise InputError(f"{label} is a directory, not a file")
        if size > limit:
            raise InputError(f"{label} is {_size(size)}, larger than the {_size(limit)} limit: {_hint(what)}")
        reader = _read_pipe if stat.S_ISFIFO(mode) else _read_file
        data = reader(path, label, limit, what)
    except FileNotFoundError:
        raise InputError(f"{label} does not exist") from None
    except PermissionError:
        raise InputError(f"{label} cannot be read (permission denied)") from None
    except IsADirectoryError:
        raise InputError(f"{label} is a directory, not a file") from None
    except OSError as exc:
        raise InputError(f"{label} cannot be read ({exc.strerror or exc})") from None
    return decode(data, label), path


def _mode_and_size(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_mode, info.st_size


def _read_file(path: str, label: str, limit: int, what: str) -> bytes:
    with open(path, "rb") as handle:
        return read_limited(handle, label, limit, what)


PIPE_WAIT_S = 2.0  # how long a named pipe with no writer gets for one to connect


def _read_pipe(path: str, label: str, limit: int, what: str) -> bytes:
    """A FIFO opened without blocking: one with no writer (opening it would block forever) is an error."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        first = _first_chunk(fd)
        if first is None:
            raise InputError(
                f"{label} is a named pipe and nothing writes to it (waited {PIPE_WAIT_S:g} s): start the "
                "writer first, or pipe the text into `-`"
            )
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return first + read_limited(handle, label, limit - len(first), what)
    finally:
        os.close(fd)


def _first_chunk(fd: int) -> bytes | None:
    """What a pipe holds now; b"" when a writer is there but has not written; None when no writer came."""
    import selectors

    try:
        chunk = os.read(fd, 65536)
    except BlockingIOError:
        return b""  # a writer holds it open: read it as a stream
    if chunk:
        return chunk
    with selectors.DefaultSelector() as selector:  # end of file: no writer yet; one may be connecting
        selector.register(fd, selectors.EVENT_READ)
        if not selector.select(PIPE_WAIT_S):
            return None
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return b""


def read_json_object(path: str, what: str) -> dict[str, Any]:
    """A JSON object from a file, e.g. the request body the app sends."""
    text, _ = read_text(path, what, limit=1024 * 1024)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{what} file {path!r} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise InputError(f"{what} file {path!r} nests deeper than any request body does") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise InputError(f"{what} file {path!r} is not usable JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InputError(f"{what} file {path!r} must hold a JSON object, not {type(value).__name__}")
    return value


CREDENTIAL_KEYS = {"refresh_token", "client_secret", "private_key", "private_key_id", "access_token", "id_token"}
CREDENTIAL_TYPES = {"service_account", "authorized_user", "external_account", "impersonated_service_account"}


def credential_marker(value: Any) -> str | None:
    """Why a JSON document looks like credentials (an ADC or service-account file), or None."""
    stack, seen = [value], 0
    while stack and seen < 100_000:
        item = stack.pop()
        seen += 1
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, inner in item.items():
                if key in CREDENTIAL_KEYS:
                    return f"a {key!r} key"
                if key == "type" and inner in CREDENTIAL_TYPES:
                    return f'"type": "{inner}"'
                stack.append(inner)
    return None


def refuse_credentials(value: Any, path: str, what: str) -> None:
    """A body that is about to be sent must not be someone's credentials file."""
    marker = credential_marker(value)
    if marker:
        raise InputError(
            f"{what} file {path!r} looks like credentials ({marker}), not a generateContent body: the doctor "
            "does not send it"
        )


def write_atomically(path: str, text: str) -> None:
    """Write `text` to `path`, never replacing what is not a regular file.

    A regular file (or a new path) gets a temp file and a rename, so a failure leaves nothing half-written; a
    symlink is followed, so the link stays; a device such as /dev/null or a named pipe with a reader is written in
    place; a named pipe with no reader, a directory, a socket or a block device is refused.
    """
    target = os.path.realpath(path) if os.path.islink(path) else path
    try:
        mode: int | None = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise InputError(f"cannot write {path!r} ({exc.strerror or exc})") from None
    if mode is None or stat.S_ISREG(mode):
        _replace(Path(target), text, path, mode)
    elif stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        _write_in_place(target, text, path)
    else:
        kind = "a directory" if stat.S_ISDIR(mode) else "not a file, a terminal or a pipe"
        raise InputError(f"cannot write {path!r}: it is {kind}")


def _replace(target: Path, text: str, path: str, mode: int | None) -> None:
    """Temp file in the target's folder, then a rename; the file keeps its permissions (a new one: the umask)."""
    import secrets

    folder = target.parent if str(target.parent) else Path(".")
    temp = folder / f".{target.name}.{secrets.token_hex(6)}.tmp"
    try:
        handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise InputError(f"cannot write {path!r} ({exc.strerror or exc})") from None
    try:
        if mode is not None:
            os.fchmod(handle, stat.S_IMODE(mode))
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise InputError(f"cannot write {path!r} ({exc.strerror or exc})") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _write_in_place(target: str, text: str, path: str) -> None:
    """A character device or a FIFO: opened without blocking (a FIFO with no reader fails at once), then written."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise InputError(f"cannot write {path!r}: it is a named pipe and nothing reads from it") from None
        raise InputError(f"cannot write {path!r} ({exc.strerror or exc})") from None
    try:
        os.set_blocking(fd, True)
        with os.fdopen(fd, "w", encoding="utf-8", closefd=False) as out:
            out.write(text)
    except OSError as exc:
        raise InputError(f"cannot write {path!r} ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
