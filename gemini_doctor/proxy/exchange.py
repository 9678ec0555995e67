"""One exchange seen by the proxy, summarised as it is recorded: what the app sent (without image data), what came
back (status, error body, finish reason, the image's real format and pixel size), and the timings.

Nothing here keeps a body: requests are summarised once, answers are tapped up to a cap and reduced to what the
classifier needs (images shrunk to the header bytes that give their size), then dropped. A record is redacted once,
at every door it leaves by (the log line, the view's line, the report's scrub); a string cut here is redacted before
the cut (`clip`), so that no cut leaves half a key the door would miss. The path is redacted as it is recorded.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gemini_doctor.images import ImageInfo, sniff
from gemini_doctor.probes.limits import BodyDecoder, DecodingError
from gemini_doctor.redact import clip, redact

TAP_CAP = 8 * 1024 * 1024  # what of an answer is kept for reading: an image's header is at its start
IMAGE_HEAD = 96 * 1024  # base64 characters of each image kept: enough for any PNG/JPEG header
MODEL_IN_PATH = re.compile(r"/models/([^/:?]+)")
_DATA_FIELD = re.compile(r'"(?:data|b64_json)"\s*:\s*"')
_JPEG_BASE64 = "/9j/"  # FF D8 FF: its size is past the quantisation tables, never in the first 48 bytes


@dataclass
class Exchange:
    """What the proxy saw of one request and its answer; safe to log, show and keep."""

    number: int
    started: float
    method: str
    path: str = ""  # redacted, as the other fields, when the exchange is recorded (off the answer's path)
    model: str | None = None
    request: dict[str, Any] | None = None  # the JSON body as it reached Google, image data replaced by their sizes
    request_digest: str = ""
    status: int | None = None
    ttfb_ms: float | None = None
    total_ms: float | None = None
    error_text: str | None = None
    finish_reasons: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # "png 1376x768"
    retry_of: int | None = None  # the exchange this one repeats, when the app resent it after an error
    diagnosis: list[dict[str, Any]] = field(default_factory=list)
    images_in_window: int = 0
    note: str | None = None
    clock: str = field(default_factory=lambda: time.strftime("%H:%M:%S"))

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, [], {})}

    @property
    def cause(self) -> str:
        errors = [d for d in self.diagnosis if d.get("severity") == "error"]
        return errors[0]["slug"] if errors else ("ok" if self.status and self.status < 400 else "")


def summarise_request(raw: bytes) -> dict[str, Any] | None:
    """The JSON body with inline image data replaced by its length: what the app asked for, not its pixels."""
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    return _without_data(body) if isinstance(body, dict) else None


def _without_data(value: Any, depth: int = 0) -> Any:
    if depth > 64:
        return "…"
    if isinstance(value, dict):
        return {
            k: (
                f"<{len(v)} base64 characters>"
                if k in ("data", "b64_json") and isinstance(v, str) and len(v) > 256
                else _without_data(v, depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_without_data(v, depth + 1) for v in value[:64]]
    if isinstance(value, str):  # redacted at the doors; one that is cut here, before the cut
        return value if len(value) <= 2000 else clip(value, 2000)
    return value


def model_of(path: str, request: dict[str, Any] | None) -> str | None:
    found = MODEL_IN_PATH.search(path)
    if found:
        return found.group(1)
    model = (request or {}).get("model")
    return str(model).removeprefix("models/") if model else None


class Tap:
    """A copy of the answer's payload as it streams past, up to TAP_CAP bytes as sent; never more. Kept as it came
    (a list append on the answer's path); decoded and read later, off that path, by `text`."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.content_encoding = "identity"

    def feed(self, payload: bytes) -> None:
        if payload and self.size < TAP_CAP:
            payload = payload[: TAP_CAP - self.size]
            self.chunks.append(payload)
            self.size += len(payload)

    def text(self) -> str:
        """The answer as text (decoded within TAP_CAP), each image's data shrunk to its first bytes (enough for
        its format and size)."""
        decoder = BodyDecoder(self.content_encoding, cap=TAP_CAP)
        try:
            for chunk in self.chunks:
                if not decoder.feed(chunk):
                    break
        except DecodingError:
            pass
        return shrink_images(decoder.body().decode("utf-8", "replace"))


def shrink_images(text: str) -> str:
    """Cut every base64 image to IMAGE_HEAD characters, in one linear pass (no parser walks the pixels)."""
    pieces, position = [], 0
    for start, end in _data_values(text):
        head = text[start : min(end, start + IMAGE_HEAD)]
        pieces += [text[position:start], least_head(head[: len(head) - len(head) % 4]), '"']
        position = end + 1
    pieces.append(text[position:])
    return "".join(pieces)


def _data_values(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of the string value of each `"data":` or `"b64_json":` field, in order, the end at its closing
    quote (or the text's end). The search goes on past each value's end: an image's characters are skipped by
    `str.find` of one quote, at memory speed, and never scanned by the regular expression."""
    position = 0
    while (found := _DATA_FIELD.search(text, position)) is not None:
        end = text.find('"', found.end())
        end = len(text) if end < 0 else end
        yield found.end(), end
        position = end + 1


def least_head(head: str) -> str:
    """The shortest of a few prefixes of a base64 image that tells its format and size (an image's header is at
    its start, and the header is all that is read of it; every character kept is one more the diagnosis scans).
    A prefix that tells a size tells the same one as the whole: PNG's IHDR is at a fixed place, and JPEG's
    segments are walked in order."""
    for length in (64, 1024, 16384):
        if length == 64 and head.startswith(_JPEG_BASE64):
            continue
        if length < len(head) and _sniffed(head[:length]).size is not None:
            return head[:length]
    return head  # kept as it came, up to IMAGE_HEAD: read whole, or not an image whose size can be read


def _sniffed(head: str) -> ImageInfo:
    try:
        return sniff(base64.b64decode(head) if "-" not in head else base64.urlsafe_b64decode(head))
    except ValueError:  # binascii.Error is one
        return ImageInfo("unknown")


def error_excerpt(status: int, text: str) -> str | None:
    return clip(redact(" ".join(text.split())), 600) if status >= 400 and text else None
