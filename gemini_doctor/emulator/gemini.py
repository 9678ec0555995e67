"""The emulated world of one scenario: the Gemini API's behaviour (from api.toml) and the GCP account state.

Answers use the shapes in shared/research/api-facts.md: google.rpc.Status errors with details, proto-JSON camelCase,
int64 as strings, default values omitted.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import math
import secrets
import threading
import time
from collections import deque
from typing import Any

from gemini_doctor.emulator.errors import ApiError, invalid_argument
from gemini_doctor.emulator.imaging import make_image
from gemini_doctor.emulator.paging import page
from gemini_doctor.emulator.proto import read_request
from gemini_doctor.emulator.recorder import Recorder
from gemini_doctor.emulator.scenarios import Scenario
from gemini_doctor.emulator.tables import (
    ApiModel,
    api_model,
    api_models,
    paging,
    v1_proto_2025_generation_fields,
    vertex_info,
    vertex_locations,
)

PROJECT_NUMBER = "123456789012"
SERVICE = "generativelanguage.googleapis.com"
VERTEX_SERVICE = "aiplatform.googleapis.com"
SERVICE_TITLES = {SERVICE: "Generative Language API", VERTEX_SERVICE: "Vertex AI API"}
CHARS_PER_TOKEN = 4  # "a token is about 4 characters" (ai.google.dev/gemini-api/docs/tokens): an estimate
INPUT_IMAGE_TOKENS = 258  # per image up to 384 px a side (ai.google.dev/gemini-api/docs/tokens); larger ones tile
IMAGE_TEXT = "Here is the image you asked for."
TEXT_ANSWER = "A ripe banana on a wooden table, photographed in soft morning light."
METHODS = ["generateContent", "countTokens", "batchGenerateContent"]


def text_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def prompt_tokens(request: dict[str, Any]) -> dict[str, int]:
    """Tokens of a request's contents (and system instruction), by modality."""
    counts = {"TEXT": 0, "IMAGE": 0}
    contents = list(request.get("contents") or [])
    if request.get("systemInstruction"):
        contents.append(request["systemInstruction"])
    for content in contents:
        for part in content.get("parts") or []:
            counts["TEXT"] += text_tokens(part.get("text", ""))
            mime = (part.get("inlineData") or part.get("fileData") or {}).get("mimeType", "")
            if mime.startswith("image/"):
                counts["IMAGE"] += INPUT_IMAGE_TOKENS
    return {k: v for k, v in counts.items() if v} or {"TEXT": 1}


def details(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [{"modality": modality, "tokenCount": n} for modality, n in counts.items() if n]


def usage(prompt: dict[str, int], output: dict[str, int]) -> dict[str, Any]:
    """usageMetadata whose parts add up: total = prompt + candidates; each details list sums to its count."""
    prompt_total, output_total = sum(prompt.values()), sum(output.values())
    result: dict[str, Any] = {"promptTokenCount": prompt_total}
    if output_total:
        result["candidatesTokenCount"] = output_total
    result["totalTokenCount"] = prompt_total + output_total
    result["promptTokensDetails"] = details(prompt)
    if output_total:
        result["candidatesTokensDetails"] = details(output)
    return result


class Emulator:
    """State and behaviour of one emulated world (a scenario)."""

    def __init__(
        self,
        scenario: Scenario,
        latency_ms: int = 0,
        recorder: Recorder | None = None,
        per_minute: int | None = None,
        api: str = "gemini",
    ):
        self.scenario = scenario
        self.latency = latency_ms / 1000
        self.recorder = recorder or Recorder()
        self.per_minute = per_minute  # a real per-minute quota: this many images in any 60 s, then the error
        self.api = api  # "gemini" (the Developer API's routes) | "vertex" (Vertex AI's)
        self._made: deque[float] = deque()
        self._lock = threading.Lock()
        self._backends: dict[str, Emulator] = {}

    def backend(self, api: str) -> Emulator:
        """The world the routes of `api` see: the scenario those routes answer as (Scenario.on), its own state."""
        if api == self.api and self.scenario.on(api) is self.scenario:
            return self
        if api not in self._backends:
            scenario = self.scenario.on(api)
            self._backends[api] = Emulator(scenario, 0, self.recorder, self.per_minute, api)
        return self._backends[api]

    # ---------------------------------------------------------------- model table
    def served(self, model: ApiModel) -> bool:
        return model.served or model.id in self.scenario.serve_retired

    def served_models(self) -> list[ApiModel]:
        return [m for m in api_models() if self.served(m)]

    @staticmethod
    def model_resource(model: ApiModel) -> dict[str, Any]:
        return {
            "name": f"models/{model.id}",
            "baseModelId": model.id,
            "version": "001",
            "displayName": model.id.replace("-", " ").title(),
            "description": f"Emulated {model.id} ({model.kind} model); served by gemini-doctor's emulator.",
            "inputTokenLimit": 32768 if model.makes_images else 1048576,
            "outputTokenLimit": 32768 if model.makes_images else 65536,
            "supportedGenerationMethods": list(METHODS),
            "temperature": 1.0,
            "maxTemperature": 2.0,
            "topP": 0.95,
            "topK": 64,
        }

    def scenario_error(self, model: ApiModel | None, where: dict[str, str] | None = None) -> ApiError:
        """The scenario's error; `where` fills {project}, {location}, {resource} on the Vertex routes."""
        raw = self.scenario.error
        alias = model.aliases[0] if model and model.aliases else (model.id if model else "unknown")
        values = {"{model}": model.id if model else "unknown", "{alias}": alias}
        values.update({"{" + k + "}": v for k, v in (where or {}).items()})

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

    def fails_everything(self) -> bool:
        return self.scenario.answer == "error" and self.scenario.error_on == "all"

    def fails_generate(self) -> bool:
        if not (self.scenario.answer == "error" and self.scenario.error_on == "generate"):
            return False
        return self.per_minute is None or not self._room_in_window()

    def _room_in_window(self) -> bool:
        """With a per-minute quota: whether one more image fits in the rolling 60 s window (it is counted)."""
        with self._lock:
            now = time.monotonic()
            while self._made and now - self._made[0] >= 60:
                self._made.popleft()
            if self.per_minute is not None and len(self._made) >= self.per_minute:
                return False
            self._made.append(now)
            return True

    # ---------------------------------------------------------------- Gemini API
    def list_models(self, query: dict[str, str]) -> dict[str, Any]:
        models, token = page(self.served_models(), "models", query, paging("models"))
        result: dict[str, Any] = {"models": [self.model_resource(m) for m in models]}
        if token:
            result["nextPageToken"] = token
        return result

    def lookup(self, name: str, version: str, method: str = "generateContent") -> ApiModel:
        model = api_model(name)
        if model is not None:
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

    def read(self, message: str, body: Any, version: str) -> dict[str, Any]:
        """The body parsed as this version's proto parser would (the scenario may give v1 the 2025 v1 proto)."""
        only = None
        if self.api == "gemini" and version == "v1" and self.scenario.v1_generation_config == "proto-2025-12":
            only = {"GenerationConfig": v1_proto_2025_generation_fields()}
        return read_request(message, body, version, only, self.api)

    def generate(
        self, model: ApiModel, version: str, body: Any, where: dict[str, str] | None = None, may_fail: bool = True
    ) -> dict[str, Any]:
        """A generateContent answer, or {"__image__": ...} for the caller to render off the event loop. `where`
        fills the scenario's error (Vertex's resource names); `may_fail` False: this request escapes it."""
        request = self.read("GenerateContentRequest", body, version)
        if not request.get("contents"):
            raise invalid_argument("* GenerateContentRequest.contents: contents is not specified\n")
        if may_fail and self.fails_generate():
            raise self.scenario_error(model, where)
        config = request.get("generationConfig", {})
        modalities = config.get("responseModalities")
        self._check_modalities(model, modalities)
        if config.get("candidateCount", 1) > 1:
            raise invalid_argument(f"Multiple candidates is not enabled for models/{model.id}")
        prompt = prompt_tokens(request)
        if not model.makes_images:
            return self._response(model, [self._candidate([{"text": TEXT_ANSWER}])], prompt)
        image_config = {} if self.scenario.strip_image_config else config.get("imageConfig", {})
        ratio = self._check_ratio(model, image_config.get("aspectRatio"))
        size = self._check_size(model, image_config.get("imageSize"))
        if self.scenario.answer == "no-image":
            candidate: dict[str, Any] = {"finishReason": self.scenario.finish_reason, "index": 0}
            if self.scenario.finish_message:
                candidate["finishMessage"] = self.scenario.finish_message
            return self._response(model, [candidate], prompt)
        if modalities is not None and "IMAGE" not in modalities:
            return self._response(model, [self._candidate([{"text": TEXT_ANSWER}])], prompt)
        if modalities == ["IMAGE"] and model.requires_text_modality:
            empty = {"content": {"role": "model"}, "finishReason": "STOP", "index": 0}
            return self._response(model, [empty], prompt)
        return {"__image__": (model, size, ratio, modalities, prompt, self._output_format(model, image_config))}

    def _output_format(self, model: ApiModel, image_config: dict[str, Any]) -> str:
        """The model's format, or on Vertex the one imageOutputOptions.mimeType asks for (when Vertex makes it)."""
        mime = (image_config.get("imageOutputOptions") or {}).get("mimeType", "")
        if self.api == "vertex" and mime in vertex_info()["output_mime_types"]:
            return mime.removeprefix("image/")
        return model.output_format

    @staticmethod
    def _check_modalities(model: ApiModel, modalities: list[str] | None) -> None:
        """A modality the model cannot answer in is refused, as Google does (never answered with another)."""
        missing = [m for m in modalities or [] if m not in model.output_modalities and m != "MODALITY_UNSPECIFIED"]
        if missing:
            names = ", ".join(m.lower() for m in missing)
            raise invalid_argument(f"Model does not support the requested response modalities: {names}")

    @staticmethod
    def _check_ratio(model: ApiModel, ratio: str | None) -> str | None:
        if ratio is None or ratio in model.aspect_ratios:
            return ratio
        if any(ratio in other.aspect_ratios for other in api_models()):  # a ratio some model takes
            raise invalid_argument(f"Aspect ratio {ratio} is not supported for this model.")
        allowed = ", ".join(f"'{r}'" for r in model.aspect_ratios[:-1]) + f", or '{model.aspect_ratios[-1]}'"
        message = f"aspect_ratio must be one of {allowed}."
        raise invalid_argument(message, [("generation_config.image_config.aspect_ratio", message)])

    def _check_size(self, model: ApiModel, size: str | None) -> str:
        if size is None:
            return model.default_size
        every = {s for m in api_models() for s in m.image_sizes}
        unsupported = f"Unsupported image_size '{size}'. Supported values are: {', '.join(model.image_sizes)}."
        if size not in every and size.upper() in every:  # the API spells sizes with an uppercase K
            if self.scenario.lowercase_size == "fallback":
                return model.default_size
            raise invalid_argument(unsupported)
        if size in model.image_sizes:
            return size
        if model.unsupported_size == "ignore":
            return model.default_size
        if size in every:
            raise invalid_argument(f"Image size {size} is not supported for this model.")
        raise invalid_argument(unsupported)

    @staticmethod
    def _candidate(parts: list[dict[str, Any]]) -> dict[str, Any]:
        return {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}

    def _response(
        self, model: ApiModel, candidates: list[dict[str, Any]], prompt: dict[str, int], image_tokens: int = 0
    ) -> dict[str, Any]:
        """A GenerateContentResponse; Vertex's also has createTime and usageMetadata.trafficType (the shape of the
        Vertex 200 captured verbatim in the corpus: createTime, modelVersion, responseId)."""
        texts = [p.get("text", "") for c in candidates for p in (c.get("content") or {}).get("parts") or []]
        output = {"TEXT": sum(text_tokens(t) for t in texts), "IMAGE": image_tokens}
        answer: dict[str, Any] = {"candidates": candidates, "usageMetadata": usage(prompt, output)}
        if self.api == "vertex":
            answer["usageMetadata"]["trafficType"] = "ON_DEMAND"
            answer["createTime"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        answer.update({"modelVersion": model.id, "responseId": secrets.token_urlsafe(12)})
        return answer

    def image_response(
        self,
        model: ApiModel,
        size: str,
        ratio: str | None,
        modalities: list[str] | None,
        prompt: dict[str, int],
        fmt: str | None = None,
    ) -> dict[str, Any]:
        fmt = fmt or model.output_format
        width, height = model.pixel_size(size, ratio or "1:1")
        data = make_image(fmt, width, height)
        parts: list[dict[str, Any]] = []
        if modalities is None or "TEXT" in modalities:
            parts.append({"text": IMAGE_TEXT})
        mime = f"image/{fmt}"
        parts.append({"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode("ascii")}})
        tokens = model.image_tokens[size]
        return self._response(model, [self._candidate(parts)], prompt, image_tokens=tokens)

    def count_tokens(self, model: ApiModel, version: str, body: Any) -> dict[str, Any]:
        request = self.read("CountTokensRequest", body, version)
        inner = request.get("generateContentRequest")
        if inner and request.get("contents"):
            raise invalid_argument("contents and generate_content_request cannot both be set.")
        counts = prompt_tokens(inner or request)
        return {"totalTokens": sum(counts.values()), "promptTokensDetails": details(counts)}

    # ---------------------------------------------------------------- GCP APIs
    def service(self, project: str, service: str) -> dict[str, Any]:
        """Service Usage: each API as the scenario its own routes answer as says (Scenario.on)."""
        api = {SERVICE: "gemini", VERTEX_SERVICE: "vertex"}.get(service)
        enabled = api is None or self.scenario.on(api).api_enabled
        return {
            "name": f"projects/{PROJECT_NUMBER}/services/{service}",
            "parent": f"projects/{PROJECT_NUMBER}",
            "config": {
                "name": service,
                "title": SERVICE_TITLES.get(service, service),
                "documentation": {"summary": f"{SERVICE_TITLES.get(service, service)} (emulated)."},
            },
            "state": "ENABLED" if enabled else "DISABLED",
        }

    def quota_infos(self, project: str, service: str) -> list[dict[str, Any]]:
        if service == VERTEX_SERVICE:
            return self._vertex_quota_infos(project)
        model = api_model(self.scenario.model) if self.scenario.model else None
        model_ids = [model.id] if model else [m.id for m in self.served_models() if m.makes_images]
        return [self._quota_info(project, service, quota, model_ids) for quota in self.scenario.on("gemini").quotas]

    def _vertex_quota_infos(self, project: str) -> list[dict[str, Any]]:
        """aiplatform's per-base-model per-minute quotas: dimensions region and base_model, one value for every
        image model where Vertex serves it (the global quota id for global, the regional one elsewhere)."""
        scenario, names = self.scenario.on("vertex"), vertex_info()["quotas"]
        models = [m for m in self.served_models() if m.makes_images]
        result = []
        for quota in scenario.vertex_quotas:
            is_global = quota.quota_id == names["global_quota_id"]
            rows = [
                {
                    "dimensions": {"base_model": m.id, "region": loc},
                    "details": {"value": str(quota.value)},
                    "applicableLocations": [loc],
                }
                for m in models
                for loc in vertex_locations(m.id)
                if (loc == "global") == is_global
            ]
            info = self._quota_info(project, VERTEX_SERVICE, quota, [])
            info.update({"dimensions": ["region", "base_model"], "dimensionsInfos": rows})
            info["metricUnit"] = "1/min/{project}/{region}/{base_model}"
            result.append(info)
        return result

    @staticmethod
    def _quota_info(project: str, service: str, quota: Any, model_ids: list[str]) -> dict[str, Any]:
        return {
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
                {"dimensions": {"model": m}, "details": {"value": str(quota.value)}, "applicableLocations": ["global"]}
                for m in model_ids
            ],
        }

    def list_quota_infos(self, project: str, service: str, query: dict[str, str]) -> dict[str, Any]:
        infos, token = page(self.quota_infos(project, service), "quotaInfos", query, paging("quota_infos"))
        result: dict[str, Any] = {"quotaInfos": infos}
        if token:
            result["nextPageToken"] = token
        return result

    def billing_info(self, project: str) -> dict[str, Any]:
        enabled = self.scenario.billing_enabled
        return {
            "name": f"projects/{project}/billingInfo",
            "projectId": project,
            "billingAccountName": "billingAccounts/012345-567890-ABCDEF" if enabled else "",
            "billingEnabled": enabled,
        }
