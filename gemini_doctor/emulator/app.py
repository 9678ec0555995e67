"""The emulator's HTTP surface: the Gemini REST API (v1beta and v1) and the three GCP APIs, as one ASGI app.

Model behaviour comes from knowledge/models.toml, account state and faults from a Scenario; answers use the shapes
in shared/research/api-facts.md (google.rpc.Status bodies with details, proto-JSON camelCase, int64 as strings).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import re
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from gemini_doctor.diagnosis.request import IMAGE_CONFIG_FIELDS, VALID_SIZES, canonical_size
from gemini_doctor.emulator.imaging import make_image
from gemini_doctor.emulator.scenarios import Scenario
from gemini_doctor.knowledge import SERVICE, Model, find_model, models

PROJECT_NUMBER = "123456789012"
# Fields of GenerationConfig per API version (proto v1beta / v1, api-facts.md §1.5), camelCase and snake_case.
GENERATION_FIELDS_V1 = {
    "candidateCount",
    "stopSequences",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "seed",
    "responseJsonSchemaOrdered",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "enableEnhancedCivicAnswers",
}
GENERATION_FIELDS_V1BETA = GENERATION_FIELDS_V1 | {
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "responseModalities",
    "speechConfig",
    "thinkingConfig",
    "imageConfig",
    "mediaResolution",
}
IMAGE_FIELDS = {"responseModalities", "imageConfig"}
REQUEST_FIELDS = {
    "contents",
    "tools",
    "toolConfig",
    "safetySettings",
    "systemInstruction",
    "generationConfig",
    "cachedContent",
    "model",
}
MODALITIES = {"TEXT", "IMAGE", "AUDIO"}


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass
class Recorded:
    """One request as the emulator saw it; tests read these to count requests and check where keys went."""

    method: str
    path: str
    query: str
    key_in_header: bool
    key_in_query: bool
    at: float = field(default_factory=time.monotonic)


RECENT_REQUESTS = 1000  # the recorder keeps this many requests whole; the total stays exact whatever the traffic
COUNTED_PATHS = 10_000  # distinct paths counted one by one; more than that (a fuzzer) share one tally
MAX_RECORDED_CHARS = 1024  # of a path or a query, as recorded


@dataclass
class Recorder:
    """The last RECENT_REQUESTS requests, and exact counts: in all, and per path (up to COUNTED_PATHS paths)."""

    recent: deque[Recorded] = field(default_factory=lambda: deque(maxlen=RECENT_REQUESTS))
    total: int = 0
    per_path: Counter[str] = field(default_factory=Counter)
    uncounted: int = 0  # requests to paths beyond COUNTED_PATHS distinct ones
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requests(self) -> list[Recorded]:
        """A snapshot of the recent requests, oldest first (all of them, below RECENT_REQUESTS)."""
        with self.lock:
            return list(self.recent)

    def add(self, entry: Recorded) -> None:
        entry.path, entry.query = entry.path[:MAX_RECORDED_CHARS], entry.query[:MAX_RECORDED_CHARS]
        with self.lock:
            self.recent.append(entry)
            self.total += 1
            if entry.path in self.per_path or len(self.per_path) < COUNTED_PATHS:
                self.per_path[entry.path] += 1
            else:
                self.uncounted += 1

    def count(self, pattern: str = "") -> int:
        """Requests whose path holds `pattern`, since the start (exact unless COUNTED_PATHS was passed)."""
        with self.lock:
            if not pattern:
                return self.total
            return sum(n for path, n in self.per_path.items() if pattern in path)


class ApiError(Exception):
    """An answer in Google's error shape."""

    def __init__(self, code: int, status: str, message: str, details: list[dict] | None = None):
        super().__init__(message)
        self.body = {"error": {"code": code, "message": message, "status": status}}
        if details:
            self.body["error"]["details"] = details
        self.code = code


def _bad_field(name: str, where: str) -> ApiError:
    message = f"Invalid JSON payload received. Unknown name \"{name}\" at '{where}': Cannot find field."
    return ApiError(
        400,
        "INVALID_ARGUMENT",
        message,
        [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": where, "description": message}],
            },
        ],
    )


def _bad_value(where: str, kind: str, value: Any, version: str = "v1beta") -> ApiError:
    """Google's answer to a value of the wrong JSON type (an object where a list goes, a number for an enum)."""
    shown = json.dumps(value)[:80]
    return ApiError(
        400,
        "INVALID_ARGUMENT",
        f"Invalid value at '{where}' (type.googleapis.com/google.ai.generativelanguage.{version}.{kind}), {shown}",
    )


class Emulator:
    """State and behaviour of one emulated world (a scenario)."""

    def __init__(self, scenario: Scenario, latency_ms: int = 0, recorder: Recorder | None = None):
        self.scenario = scenario
        self.latency = latency_ms / 1000
        self.recorder = recorder or Recorder()

    # ---------------------------------------------------------------- model table
    def served(self, model: Model) -> bool:
        return not model.is_shut_down or model.id in self.scenario.serve_retired

    def served_models(self) -> list[Model]:
        return [m for m in models() if self.served(m)]

    @staticmethod
    def model_resource(model: Model) -> dict[str, Any]:
        return {
            "name": f"models/{model.id}",
            "baseModelId": model.id,
            "version": "001",
            "displayName": model.id.replace("-", " ").title(),
            "description": f"Emulated {model.id} ({model.status}); served by gemini-doctor's emulator.",
            "inputTokenLimit": 32768,
            "outputTokenLimit": 32768,
            "supportedGenerationMethods": ["generateContent", "countTokens", "batchGenerateContent"],
            "temperature": 1.0,
            "maxTemperature": 2.0,
            "topP": 0.95,
            "topK": 64,
        }

    def scenario_error(self, model: Model | None) -> ApiError:
        raw = self.scenario.error
        alias = model.aliases[0] if model and model.aliases else (model.id if model else "unknown")
        values = {"{model}": model.id if model else "unknown", "{alias}": alias}

        def fill(value: Any) -> Any:
            if isinstance(value, str):
                for token, replacement in values.items():
                    value = value.replace(token, replacement)
                return value
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            if isinstance(value, list):
                return [fill(v) for v in value]
            return value

        return ApiError(raw["code"], raw["status"], fill(raw["message"]), fill(copy.deepcopy(raw.get("details"))))

    # ---------------------------------------------------------------- Gemini API
    def list_models(self, query: dict[str, str]) -> dict[str, Any]:
        try:
            size = max(1, min(1000, int(query.get("pageSize") or 50)))
            start = int(query.get("pageToken") or 0)
        except ValueError:
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid page token or page size.") from None
        served = self.served_models()
        page = served[start : start + size]
        result: dict[str, Any] = {"models": [self.model_resource(m) for m in page]}
        if start + size < len(served):
            result["nextPageToken"] = str(start + size)
        return result

    def lookup(self, name: str, version: str, method: str = "generateContent") -> Model:
        model = find_model(name)
        if model is not None and model.id == name:
            if self.served(model):
                return model
            raise ApiError(
                404,
                "NOT_FOUND",
                f"This model models/{name} is no longer available to new users. "
                "Please update your code to use a newer model for the latest features and improvements.",
            )
        raise ApiError(
            404,
            "NOT_FOUND",
            f"models/{name} is not found for API version {version}, or is not "
            f"supported for {method}. Call ListModels to see the list of available models and their "
            "supported methods.",
        )

    def generate(self, model: Model, version: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object.")
        for key in body:
            if _camel(key) not in REQUEST_FIELDS:
                raise _bad_field(key, "")
        config = body.get("generationConfig", body.get("generation_config")) or {}
        if not isinstance(config, dict):
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid value at 'generation_config': expected an object.")
        allowed = GENERATION_FIELDS_V1BETA if version == "v1beta" else GENERATION_FIELDS_V1
        if version in model.image_config_versions:
            allowed = allowed | IMAGE_FIELDS
        for key in config:
            if _camel(key) not in allowed:
                raise _bad_field(key, "generation_config")
        contents = body.get("contents")
        if not contents:
            raise ApiError(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified\n")
        if not isinstance(contents, list | dict):
            raise _bad_value("contents", "Content", contents)
        if self.scenario.answer == "error" and self.scenario.error_on == "generate":
            raise self.scenario_error(model)
        image_config = {} if self.scenario.strip_image_config else self._image_config(config, version)
        modalities = self._modalities(config, version)
        count = config.get("candidateCount", config.get("candidate_count"))
        if isinstance(count, int) and count > 1:
            raise ApiError(400, "INVALID_ARGUMENT", f"Multiple candidates is not enabled for models/{model.id}")
        ratio = image_config.get("aspectRatio", image_config.get("aspect_ratio"))
        size = image_config.get("imageSize", image_config.get("image_size"))
        ratio = self._check_ratio(model, ratio)
        size = self._check_size(model, size)
        if self.scenario.answer == "no-image":
            candidate: dict[str, Any] = {"finishReason": self.scenario.finish_reason, "index": 0}
            if self.scenario.finish_message:
                candidate["finishMessage"] = self.scenario.finish_message
            return self._response(model, [candidate], image_tokens=0)
        upper = [str(m).upper() for m in modalities] if modalities is not None else None
        if upper is not None and "IMAGE" not in upper:
            parts = [{"text": "A ripe banana on a wooden table, photographed in soft morning light."}]
            return self._response(model, [self._candidate(parts)], image_tokens=0)
        if upper == ["IMAGE"] and model.requires_text_modality:
            return self._response(
                model, [{"content": {"role": "model"}, "finishReason": "STOP", "index": 0}], image_tokens=0
            )
        return {"__image__": (model, size, ratio, upper)}

    @staticmethod
    def _image_config(config: dict[str, Any], version: str) -> dict[str, Any]:
        image_config = config.get("imageConfig", config.get("image_config"))
        if image_config is not None and not isinstance(image_config, dict):
            raise _bad_value("generation_config.image_config", "ImageConfig", image_config, version)
        for key in image_config or {}:
            if _camel(key) not in IMAGE_CONFIG_FIELDS:
                raise _bad_field(key, "generation_config.image_config")
        return image_config or {}

    @staticmethod
    def _modalities(config: dict[str, Any], version: str) -> list[Any] | None:
        modalities = config.get("responseModalities", config.get("response_modalities"))
        if modalities is not None and not isinstance(modalities, list):
            raise _bad_value("generation_config.response_modalities", "GenerationConfig.Modality", modalities, version)
        for index, value in enumerate(modalities or []):
            if str(value).upper() not in MODALITIES:
                raise ApiError(
                    400,
                    "INVALID_ARGUMENT",
                    f"Invalid value at 'generation_config.response_modalities"
                    f"[{index}]' (type.googleapis.com/google.ai.generativelanguage.{version}."
                    f'GenerationConfig.Modality), "{value}"',
                )
        return modalities

    def _check_ratio(self, model: Model, ratio: Any) -> str | None:
        if ratio is None:
            return None
        ratio = str(ratio)
        if ratio in model.aspect_ratios:
            return ratio
        if any(ratio in other.aspect_ratios for other in models()):  # a ratio some model takes
            raise ApiError(400, "INVALID_ARGUMENT", f"Aspect ratio {ratio} is not supported for this model.")
        allowed = ", ".join(f"'{r}'" for r in model.aspect_ratios[:-1]) + f", or '{model.aspect_ratios[-1]}'"
        message = f"aspect_ratio must be one of {allowed}."
        raise ApiError(
            400,
            "INVALID_ARGUMENT",
            message,
            [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [
                        {"field": "generation_config.image_config.aspect_ratio", "description": message}
                    ],
                },
            ],
        )

    def _check_size(self, model: Model, size: Any) -> str:
        if size is None:
            return model.default_size
        size = str(size)
        canonical = canonical_size(size)
        if canonical and canonical != size:  # the API spells sizes with an uppercase K
            if self.scenario.lowercase_size == "fallback":
                return model.default_size
            raise ApiError(
                400,
                "INVALID_ARGUMENT",
                f"Unsupported image_size '{size}'. Supported values are: {', '.join(model.image_sizes)}.",
            )
        if size in model.image_sizes:
            return size
        if model.unsupported_size == "ignore":
            return model.default_size
        if size in VALID_SIZES:
            raise ApiError(400, "INVALID_ARGUMENT", f"Image size {size} is not supported for this model.")
        raise ApiError(
            400,
            "INVALID_ARGUMENT",
            f"Unsupported image_size '{size}'. Supported values are: {', '.join(model.image_sizes)}.",
        )

    @staticmethod
    def _candidate(parts: list[dict[str, Any]]) -> dict[str, Any]:
        return {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}

    @staticmethod
    def _response(model: Model, candidates: list[dict[str, Any]], image_tokens: int) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "promptTokenCount": 12,
            "candidatesTokenCount": image_tokens + 14,
            "totalTokenCount": image_tokens + 26,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}],
        }
        if image_tokens:
            usage["candidatesTokensDetails"] = [{"modality": "IMAGE", "tokenCount": image_tokens}]
        return {
            "candidates": candidates,
            "usageMetadata": usage,
            "modelVersion": model.id,
            "responseId": secrets.token_urlsafe(12),
        }

    def image_response(self, model: Model, size: str, ratio: str | None, modalities: list[str] | None) -> dict:
        width, height = model.expected_size(size, ratio or "1:1")
        data = make_image(model.output_format, width, height)
        parts: list[dict[str, Any]] = []
        if modalities is None or "TEXT" in modalities:
            parts.append({"text": "Here is the image you asked for."})
        parts.append(
            {"inlineData": {"mimeType": f"image/{model.output_format}", "data": base64.b64encode(data).decode("ascii")}}
        )
        tokens = model.image_tokens.get(size, 1120)
        return self._response(model, [self._candidate(parts)], image_tokens=tokens)

    # ---------------------------------------------------------------- GCP APIs
    def service(self, project: str, service: str) -> dict[str, Any]:
        return {
            "name": f"projects/{PROJECT_NUMBER}/services/{service}",
            "parent": f"projects/{PROJECT_NUMBER}",
            "config": {
                "name": service,
                "title": "Generative Language API" if service == SERVICE else service,
                "documentation": {"summary": "The Gemini API (emulated)."},
            },
            "state": "ENABLED" if self.scenario.api_enabled or service != SERVICE else "DISABLED",
        }

    def quota_infos(self, project: str, service: str) -> list[dict[str, Any]]:
        model = find_model(self.scenario.model) if self.scenario.model else None
        model_ids = [model.id] if model else [m.id for m in self.served_models()]
        infos = []
        for quota in self.scenario.quotas:
            infos.append(
                {
                    "name": f"projects/{project}/locations/global/services/{service}/quotaInfos/{quota.quota_id}",
                    "quotaId": quota.quota_id,
                    "metric": quota.metric,
                    "service": service,
                    "isPrecise": True,
                    "refreshInterval": quota.refresh,
                    "containerType": "PROJECT",
                    "dimensions": ["model"],
                    "metricDisplayName": quota.metric.rsplit("/", 1)[-1],
                    "quotaDisplayName": quota.quota_id,
                    "metricUnit": "1/min/{project}/{model}" if quota.refresh == "minute" else "1/d/{project}/{model}",
                    "quotaIncreaseEligibility": {"isEligible": "FreeTier" not in quota.quota_id},
                    "dimensionsInfos": [
                        {
                            "dimensions": {"model": model_id},
                            "details": {"value": str(quota.value)},
                            "applicableLocations": ["global"],
                        }
                        for model_id in model_ids
                    ],
                }
            )
        return infos

    def billing_info(self, project: str) -> dict[str, Any]:
        enabled = self.scenario.billing_enabled
        return {
            "name": f"projects/{project}/billingInfo",
            "projectId": project,
            "billingAccountName": "billingAccounts/012345-567890-ABCDEF" if enabled else "",
            "billingEnabled": enabled,
        }


GEMINI_PATH = re.compile(r"^/(v1|v1beta)/models(?:/([^:/]+)(?::(\w+))?)?/?$")
SERVICE_PATH = re.compile(r"^/v1/projects/([^/]+)/services/([^/]+)$")
QUOTAS_PATH = re.compile(r"^/v1/projects/([^/]+)/locations/global/services/([^/]+)/quotaInfos(?:/([^/]+))?$")
BILLING_PATH = re.compile(r"^/v1/projects/([^/]+)/billingInfo$")
OPENAI_IMAGES_PATH = re.compile(r"^/(v1|v1beta)/openai/images/generations$")


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


MAX_BODY_BYTES = 20 * 1024 * 1024  # Google's limit on a request with inline data
TOO_LARGE = f"Request payload size exceeds the limit: {MAX_BODY_BYTES} bytes."
INTERNAL_ERROR = {
    "error": {
        "code": 500,
        "message": "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
        "status": "INTERNAL",
    }
}
LOG = logging.getLogger("gemini_doctor.emulator")


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


def create_app(
    scenario: Scenario, latency_ms: int = 0, recorder: Recorder | None = None, chaos: str | None = None
) -> Starlette:
    """The ASGI app for one scenario; `chaos` (a key of CHAOS) breaks generateContent on purpose."""
    if chaos is not None and chaos not in CHAOS:
        raise ValueError(f"unknown chaos {chaos!r}")
    emulator = Emulator(scenario, latency_ms, recorder)

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
        return JSONResponse(await _dispatch(emulator, request, path, query, key))
    except ApiError as error:
        return JSONResponse(error.body, status_code=error.code)


async def _dispatch(
    emulator: Emulator, request: Request, path: str, query: dict[str, str], key: str | None
) -> dict[str, Any]:
    if match := GEMINI_PATH.match(path):
        return await _gemini(emulator, request, match, query, key)
    if OPENAI_IMAGES_PATH.match(path):
        return await _openai_images(emulator, request)
    if request.method == "GET" and (match := SERVICE_PATH.match(path)):
        return emulator.service(*match.groups())
    if request.method == "GET" and (match := QUOTAS_PATH.match(path)):
        project, service, quota_id = match.groups()
        infos = emulator.quota_infos(project, service)
        if quota_id is None:
            return {"quotaInfos": infos}
        for info in infos:
            if info["quotaId"] == quota_id:
                return info
        raise ApiError(404, "NOT_FOUND", f"QuotaInfo {quota_id} not found.")
    if request.method == "GET" and (match := BILLING_PATH.match(path)):
        return emulator.billing_info(match.group(1))
    raise ApiError(404, "NOT_FOUND", f"The requested URL {path} was not found on this server.")


async def _gemini(
    emulator: Emulator, request: Request, match: re.Match[str], query: dict[str, str], key: str | None
) -> dict[str, Any]:
    version, name, method = match.groups()
    if not key:
        raise ApiError(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without "
            "established identity). Please use API Key or other form of API consumer identity "
            "to call this API.",
        )
    if emulator.scenario.answer == "error" and emulator.scenario.error_on == "all":
        raise emulator.scenario_error(find_model(name) if name else None)
    if name is None and method is None and request.method == "GET":
        return emulator.list_models(query)
    if name and method is None and request.method == "GET":
        return emulator.model_resource(emulator.lookup(name, version, "get"))
    if name and method == "generateContent" and request.method == "POST":
        model = emulator.lookup(name, version)
        body = await _json_body(request)
        answer = emulator.generate(model, version, body)
        if "__image__" in answer:
            return await run_in_threadpool(emulator.image_response, *answer["__image__"])
        return answer
    raise ApiError(404, "NOT_FOUND", f"Method not found: {request.method} {match.group(0)}")


async def _openai_images(emulator: Emulator, request: Request) -> dict[str, Any]:
    body = await _json_body(request)
    name = str(body.get("model", "")) if isinstance(body, dict) else ""
    model = find_model(name)
    if model is None or not model.openai_images or not emulator.served(model):
        raise ApiError(
            404,
            "NOT_FOUND",
            f"models/{name} is not found for API version v1main, or is not "
            "supported for predict. Call ListModels to see the list of available models and "
            "their supported methods.",
        )
    width, height = model.expected_size(model.default_size, "1:1")
    data = base64.b64encode(make_image(model.output_format, width, height)).decode("ascii")
    return {"created": int(time.time()), "data": [{"b64_json": data}]}


async def _json_body(request: Request) -> Any:
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
