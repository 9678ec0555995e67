"""The emulator's HTTP surface: the Gemini REST API (v1beta and v1), its OpenAI-compatible routes and the three GCP
APIs, as one ASGI app.

Model behaviour comes from the emulator's own tables (api.toml, see tables.py), account state and faults from a
Scenario; the behaviour itself is in gemini.py (native), openai_compat.py (OpenAI routes) and proto.py (parsing).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gemini_doctor.emulator.bodies import MAX_BODY_BYTES, TOO_LARGE, json_body, read_capped
from gemini_doctor.emulator.chaos import CHAOS, STREAMED_CHAOS, chaos_answer
from gemini_doctor.emulator.errors import ApiError
from gemini_doctor.emulator.gemini import PROJECT_NUMBER, Emulator
from gemini_doctor.emulator.openai_compat import ListError, bearer_key, chat_completion, image_generation
from gemini_doctor.emulator.recorder import COUNTED_PATHS, MAX_RECORDED_CHARS, RECENT_REQUESTS, Recorded, Recorder
from gemini_doctor.emulator.streaming import rendered, stream_answer
from gemini_doctor.emulator.tables import api_model
from gemini_doctor.emulator.vertex import VERTEX_PATH, vertex_answer

__all__ = [
    "CHAOS",
    "COUNTED_PATHS",
    "MAX_BODY_BYTES",
    "MAX_RECORDED_CHARS",
    "PROJECT_NUMBER",
    "RECENT_REQUESTS",
    "STREAMED_CHAOS",
    "TOO_LARGE",
    "ApiError",
    "Emulator",
    "Recorded",
    "Recorder",
    "chaos_answer",
    "create_app",
    "read_capped",
]

GEMINI_PATH = re.compile(r"^/(v1|v1beta)/models(?:/([^:/]+)(?::(\w+))?)?/?$")
OPENAI_PATH = re.compile(r"^/v1beta/openai/(chat/completions|images/generations)/?$")
SERVICE_PATH = re.compile(r"^/v1/projects/([^/]+)/services/([^/]+)$")
QUOTAS_PATH = re.compile(r"^/v1/projects/([^/]+)/locations/global/services/([^/]+)/quotaInfos(?:/([^/]+))?$")
BILLING_PATH = re.compile(r"^/v1/projects/([^/]+)/billingInfo$")
UNREGISTERED = (
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other "
    "form of API consumer identity to call this API."
)
BEARER_NOT_OAUTH = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid "
    "authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)

INTERNAL_ERROR = {
    "error": {
        "code": 500,
        "message": "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
        "status": "INTERNAL",
    }
}
LOG = logging.getLogger("gemini_doctor.emulator")


def create_app(
    scenario: Any,
    latency_ms: int = 0,
    recorder: Recorder | None = None,
    chaos: str | None = None,
    per_minute: int | None = None,
) -> Starlette:
    """The ASGI app for one scenario; `chaos` (a key of CHAOS) breaks generateContent on purpose; `per_minute`
    makes a generate-failing scenario a real quota: that many images in any rolling minute, then its error."""
    if chaos is not None and chaos not in CHAOS:
        raise ValueError(f"unknown chaos {chaos!r}")
    emulator = Emulator(scenario, latency_ms, recorder, per_minute)
    for api in ("gemini", "vertex"):  # each API's world made before serving: no two requests race to make one
        emulator.backend(api)

    async def handle(request: Request) -> Response:
        """Every answer, whatever the input: an exception becomes Google's 500 body, never a traceback."""
        try:
            return await _answer(emulator, chaos, request)
        except ClientDisconnect:
            return Response(status_code=499)  # nobody is left to read it
        except Exception as exc:  # a bug in the emulator: said in one line, answered as Google would
            LOG.warning("emulator: %s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
            return JSONResponse(INTERNAL_ERROR, status_code=500)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", handle, methods=methods)])
    app.state.emulator = emulator
    return app


async def _answer(emulator: Emulator, chaos: str | None, request: Request) -> Response:
    path = request.url.path
    query = dict(request.query_params)
    key = request.headers.get("x-goog-api-key") or query.get("key")
    emulator.recorder.add(
        Recorded(request.method, path, request.url.query, "x-goog-api-key" in request.headers, "key" in query)
    )
    if emulator.latency:
        await asyncio.sleep(emulator.latency)
    if chaos and key and request.method == "POST" and path.endswith(":generateContent"):
        if chaos == "hang":
            await asyncio.sleep(3600)
        return chaos_answer(chaos, key)
    try:
        answer = await _dispatch(emulator, request, path, query, key)
    except ListError as wrapped:
        return JSONResponse([wrapped.error.body], status_code=wrapped.error.code)
    except ApiError as error:
        return JSONResponse(error.body, status_code=error.code)
    return answer if isinstance(answer, Response) else JSONResponse(answer)


async def _dispatch(
    emulator: Emulator, request: Request, path: str, query: dict[str, str], key: str | None
) -> dict[str, Any] | Response:
    if match := GEMINI_PATH.match(path):
        _check_key(emulator, request, key)
        return await _gemini(emulator.backend("gemini"), request, match, query)
    if match := VERTEX_PATH.match(path):
        return await vertex_answer(emulator, request, match, query, json_body)
    if match := OPENAI_PATH.match(path):
        return await _openai(emulator.backend("gemini"), request, match.group(1), query)
    if request.method == "GET" and (match := SERVICE_PATH.match(path)):
        return emulator.service(*match.groups())
    if request.method == "GET" and (match := QUOTAS_PATH.match(path)):
        return _quotas(emulator, match.group(1), match.group(2), match.group(3), query)
    if request.method == "GET" and (match := BILLING_PATH.match(path)):
        return emulator.billing_info(match.group(1))
    raise ApiError(404, "NOT_FOUND", f"The requested URL {path} was not found on this server.")


def _check_key(emulator: Emulator, request: Request, key: str | None) -> None:
    """No key: 403 unregistered callers; an API key sent as a Bearer token: 401 (dimetron/pi-go#297)."""
    if not key:
        if request.headers.get("authorization", "").lower().startswith("bearer "):
            raise ApiError(401, "UNAUTHENTICATED", BEARER_NOT_OAUTH)
        raise ApiError(403, "PERMISSION_DENIED", UNREGISTERED)


def _quotas(emulator: Emulator, project: str, service: str, quota_id: str | None, query: dict[str, str]) -> dict:
    if quota_id is None:
        return emulator.list_quota_infos(project, service, query)
    for info in emulator.quota_infos(project, service):
        if info["quotaId"] == quota_id:
            return info
    raise ApiError(404, "NOT_FOUND", f"QuotaInfo {quota_id} not found.")


async def _gemini(
    emulator: Emulator, request: Request, match: re.Match[str], query: dict[str, str]
) -> dict[str, Any] | Response:
    version, name, method = match.groups()
    if emulator.fails_everything():
        raise emulator.scenario_error(api_model(name) if name else None)
    if name is None and method is None and request.method == "GET":
        return emulator.list_models(query)
    if name and method is None and request.method == "GET":
        return emulator.model_resource(emulator.lookup(name, version, "get"))
    if name and request.method == "POST" and method in ("generateContent", "streamGenerateContent", "countTokens"):
        model = emulator.lookup(name, version, method)
        body = await json_body(request)
        if method == "countTokens":
            return emulator.count_tokens(model, version, body)
        if method == "streamGenerateContent":
            return await stream_answer(emulator, model, version, body, sse=query.get("alt") == "sse")
        return await generate(emulator, model, version, body)
    raise ApiError(404, "NOT_FOUND", f"Method not found: {request.method} {match.group(0)}")


async def generate(emulator: Emulator, model: Any, version: str, body: Any) -> dict[str, Any]:
    """A generateContent answer; images are drawn off the event loop."""
    return await rendered(emulator, emulator.generate(model, version, body))


async def _openai(emulator: Emulator, request: Request, route: str, query: dict[str, str]) -> dict[str, Any]:
    if request.method != "POST":
        raise ApiError(404, "NOT_FOUND", f"Method not found: {request.method} {request.url.path}")
    if not bearer_key(request.headers, query):
        raise ApiError(403, "PERMISSION_DENIED", UNREGISTERED)
    if emulator.fails_everything():
        raise ListError(emulator.scenario_error(None))
    try:
        body = await json_body(request)
    except ApiError as error:
        raise ListError(error) from None
    if route == "chat/completions":
        return await run_in_threadpool(chat_completion, emulator, body)
    return await run_in_threadpool(image_generation, emulator, body)
