"""Image sniffing: the real format and pixel size from bytes, whatever mimeType says."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from gemini_doctor.images import aspect_matches, size_bucket, sniff


def encode(fmt: str, width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt,name", [("PNG", "png"), ("JPEG", "jpeg"), ("WEBP", "webp"), ("GIF", "gif")])
def test_sniff_reads_format_and_size(fmt, name):
    info = sniff(encode(fmt, 1376, 768))
    assert (info.format, info.size) == (name, (1376, 768))


def test_progressive_jpeg_with_exif_before_the_frame():
    buffer = io.BytesIO()
    Image.new("RGB", (848, 1264)).save(buffer, format="JPEG", progressive=True, exif=b"Exif\x00\x00" + b"\x00" * 64)
    assert sniff(buffer.getvalue()).size == (848, 1264)


GARBAGE = [b"", b"not an image", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"\xff\xd8" + b"\x00" * 9]


@pytest.mark.parametrize("data", GARBAGE)
def test_garbage_is_unknown_or_sizeless_never_an_exception(data):
    info = sniff(data)
    assert info.size is None


@pytest.mark.parametrize(
    "size,expected",
    [
        ((1024, 1024), "1K"),
        ((1408, 768), "1K"),
        ((704, 384), "512"),
        ((2816, 1536), "2K"),
        ((5632, 3072), "4K"),
        ((2928, 352), "1K"),
    ],
)
def test_size_bucket_tolerates_the_drift_seen_on_gemini_3(size, expected):
    assert size_bucket(*size) == expected


def test_aspect_matches_within_tolerance():
    assert aspect_matches(1408, 768, "16:9")  # observed drift, 3 % off the table
    assert not aspect_matches(1024, 1024, "16:9")
    assert not aspect_matches(1024, 1024, "banana")
