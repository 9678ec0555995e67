"""Request bodies as Google's front end reads them: capped in size, JSON or Google's 400."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from gemini_doctor.emulator.errors import ApiError

MAX_BODY_BYTES = 20 * 1024 * 1024  # Google's limit on a request with inline data
TOO_LARGE = f"Request payload size exceeds the limit: {MAX_BODY_BYTES} bytes."


async def read_capped(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, read as it streams in and refused past `limit` (a declared length is refused unread)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(400, "INVALID_ARGUMENT", TOO_LARGE)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(400, "INVALID_ARGUMENT", TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request) -> Any:
    raw = await read_capped(request)
    try:
        return json.loads(raw or b"{}")
    except RecursionError:
        raise ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Message nesting too deep.") from None
    except ValueError:  # not JSON, not UTF-8, or an integer too long to convert
        snippet = raw[:40].decode("utf-8", "replace")
        raise ApiError(
            400, "INVALID_ARGUMENT", f"Invalid JSON payload received. Unexpected token.\n{snippet}\n^"
        ) from None
