"""Read an image's real format and pixel size from its bytes: `inlineData.mimeType` is known to lie.

Pure functions over bytes (PNG IHDR, JPEG SOFn, WebP, GIF headers); no imaging library needed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "png" | "jpeg" | "webp" | "gif" | "unknown"
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> tuple[int, int] | None:
        if self.width and self.height:
            return (self.width, self.height)
        return None


def sniff(data: bytes) -> ImageInfo:
    """Format and pixel size from the first bytes; `unknown` (no size) when the bytes are not an image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        if len(data) >= 24 and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return ImageInfo("png", width, height)
        return ImageInfo("png")
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return ImageInfo("gif", width, height)
    return ImageInfo("unknown")


_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(data: bytes) -> ImageInfo:
    pos = 2
    end = len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return ImageInfo("jpeg")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _SOF_MARKERS and pos + 9 <= end:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return ImageInfo("jpeg", width, height)
        if marker == 0xDA or length < 2:  # start of scan before any frame header: give up
            return ImageInfo("jpeg")
        pos += 2 + length
    return ImageInfo("jpeg")


def _webp(data: bytes) -> ImageInfo:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return ImageInfo("webp", width, height)
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return ImageInfo("webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return ImageInfo("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    return ImageInfo("webp")


def ratio_of(text: str) -> float | None:
    """`"16:9"` → 1.777…; None for anything that is not W:H."""
    try:
        left, right = text.split(":")
        return float(left) / float(right)
    except (ValueError, ZeroDivisionError):
        return None


SIZE_BUCKETS = {"512": 512, "1K": 1024, "2K": 2048, "4K": 4096}


def size_bucket(width: int, height: int) -> str:
    """The imageSize tier a decoded image belongs to, by the square root of its area.

    Gemini 3 sizes drift from the documented table (1408×768 for 1376×768), so tiers are compared, not pixels.
    """
    side = (width * height) ** 0.5
    return min(SIZE_BUCKETS, key=lambda name: abs(SIZE_BUCKETS[name] - side) / SIZE_BUCKETS[name])


def aspect_matches(width: int, height: int, ratio: str, tolerance: float = 0.05) -> bool:
    """Whether a decoded image has the asked aspect ratio, within a relative tolerance."""
    wanted = ratio_of(ratio)
    if wanted is None or not height:
        return False
    return abs((width / height) / wanted - 1) <= tolerance
