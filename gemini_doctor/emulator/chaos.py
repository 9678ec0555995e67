"""Hostile or broken answers to generateContent (`emulate --chaos KIND`), for hardening tests and users' own apps."""

from __future__ import annotations

import asyncio
import base64

from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from gemini_doctor.emulator.errors import ApiError

CHAOS = {
    "non-json": "generateContent answers 200 with a text/plain body",
    "wrong-shape": "generateContent answers 200 with JSON of the wrong shape",
    "bad-image": "generateContent answers 200 with an image part whose bytes are not an image",
    "huge-body": "generateContent answers 200 with a 40 MiB body, far larger than any real answer",
    "html-5xx": "generateContent answers 502 with an HTML page, as a proxy or load balancer does",
    "huge-retry-delay": "generateContent answers 429 with RetryInfo.retryDelay of one day",
    "echo-key": "generateContent answers 400 echoing the API key it received in the message",
    "hang": "generateContent accepts the request and never answers",
    "drip": "generateContent answers 200 one byte every half second",
    "close-mid-body": "generateContent promises a body and closes the connection half-way",
}


def chaos_answer(kind: str, key: str | None) -> Response:
    """A hostile or broken answer to generateContent, for hardening tests and users' own apps."""
    if kind == "non-json":
        return Response("OK", media_type="text/plain")
    if kind == "wrong-shape":
        return JSONResponse({"candidates": "none", "usageMetadata": [], "promptFeedback": 7})
    if kind == "bad-image":
        data = base64.b64encode(b"this is not an image at all").decode("ascii")
        return JSONResponse(
            {
                "candidates": [
                    {
                        "content": {
                            "role": "model",
                            "parts": [{"inlineData": {"mimeType": "image/png", "data": data}}],
                        },
                        "finishReason": "STOP",
                    }
                ]
            }
        )
    if kind == "html-5xx":
        page = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
        return HTMLResponse(page, status_code=502)
    if kind == "huge-retry-delay":
        return JSONResponse(
            ApiError(
                429,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded. Please retry in 86400s.",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                        "violations": [
                            {
                                "quotaMetric": "generativelanguage.googleapis.com/generate_requests_per_model",
                                "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                                "quotaValue": "10",
                            }
                        ],
                    },
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "86400s"},
                ],
            ).body,
            status_code=429,
        )
    if kind == "echo-key":
        return JSONResponse(
            ApiError(
                400, "INVALID_ARGUMENT", f"API key not valid: {key}. Please pass a valid API key (got key={key})."
            ).body,
            status_code=400,
        )
    if kind in STREAMED_CHAOS:
        return _streamed_chaos(kind)
    raise ValueError(f"unknown chaos {kind!r}")


STREAMED_CHAOS = ("huge-body", "drip", "close-mid-body")


def _streamed_chaos(kind: str) -> StreamingResponse:
    """The chaos answers that are streams: too large, too slow, or cut off."""
    if kind == "huge-body":

        async def huge():
            chunk = b" " * (1 << 20)
            yield b'{"candidates": [], "padding": "'
            for _ in range(40):
                yield chunk
            yield b'"}'

        return StreamingResponse(huge(), media_type="application/json")
    if kind == "drip":

        async def drip():
            for byte in b'{"candidates": []}':
                yield bytes([byte])
                await asyncio.sleep(0.5)

        return StreamingResponse(drip(), media_type="application/json")
    if kind == "close-mid-body":

        async def cut():
            yield b'{"candidates": [{"content": '
            raise ConnectionAbortedError("closing mid-body on purpose")

        return StreamingResponse(cut(), media_type="application/json", headers={"content-length": "4096"})
    raise ValueError(f"unknown chaos {kind!r}")
