"""`:streamGenerateContent`: the answer of generateContent cut into chunks, as Server-Sent Events or a JSON array.

With `?alt=sse` (what google-genai and @google/genai ask for) each chunk is one event, `data: {json}` and a blank
line, CRLF-terminated (google-genai's _iter_sse_lines splits on CR, LF or CRLF and strips `data: `). Without it the
chunks come as one JSON array (proto v1beta `streamGenerateContent` over REST; the array form is what the REST
transcoder gives a server-streaming method). Each chunk holds one part; the last carries finishReason and
usageMetadata. An error before the first chunk is the HTTP status with Google's error body (with alt=sse an object,
as for generateContent; without it the body is a one-element array, as on the OpenAI routes: UNCONFIRMED).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from gemini_doctor.emulator.errors import ApiError
from gemini_doctor.emulator.gemini import Emulator
from gemini_doctor.emulator.openai_compat import ListError
from gemini_doctor.emulator.tables import ApiModel


def chunks(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """One response per part; finishReason, finishMessage and usageMetadata on the last only."""
    candidate = answer["candidates"][0]
    parts = (candidate.get("content") or {}).get("parts") or []
    base: dict[str, Any] = {k: answer[k] for k in ("createTime", "modelVersion", "responseId") if k in answer}
    if len(parts) <= 1:
        return [answer]
    result = []
    for index, part in enumerate(parts):
        piece: dict[str, Any] = {"content": {"role": "model", "parts": [part]}, "index": 0}
        chunk: dict[str, Any] = {"candidates": [piece], **base}
        if index == len(parts) - 1:
            piece.update({k: v for k, v in candidate.items() if k not in ("content", "index")})
            chunk["usageMetadata"] = answer["usageMetadata"]
        result.append(chunk)
    return result


async def _sse(pieces: list[dict[str, Any]]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield b"data: " + json.dumps(piece, separators=(",", ":")).encode() + b"\r\n\r\n"


async def rendered(emulator: Emulator, answer: dict[str, Any]) -> dict[str, Any]:
    """A generate answer with its image drawn, off the event loop."""
    if "__image__" in answer:
        return await run_in_threadpool(emulator.image_response, *answer["__image__"])
    return answer


async def stream_answer(
    emulator: Emulator, model: ApiModel, version: str, body: Any, sse: bool, **generate: Any
) -> Response:
    """`generate`: Emulator.generate's where and may_fail (the Vertex routes)."""
    try:
        answer = emulator.generate(model, version, body, **generate)
    except ApiError as error:
        if sse:
            raise
        raise ListError(error) from None
    pieces = chunks(await rendered(emulator, answer))
    if sse:
        return StreamingResponse(_sse(pieces), media_type="text/event-stream")
    text = "[" + ",\r\n".join(json.dumps(piece) for piece in pieces) + "]"
    return Response(text, media_type="application/json")
