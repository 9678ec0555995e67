"""Real images for the emulator: the model's format (PNG or JPEG) at the pixel size its table gives."""

from __future__ import annotations

import io
from functools import lru_cache


@lru_cache(maxsize=64)
def make_image(fmt: str, width: int, height: int) -> bytes:
    """A one-colour image: small to send, yet a real file every decoder reads."""
    from PIL import Image

    buffer = io.BytesIO()
    image = Image.new("RGB", (width, height), (243, 201, 56))  # banana yellow
    if fmt == "png":
        image.save(buffer, format="PNG", optimize=False, compress_level=6)
    else:
        image.save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()
