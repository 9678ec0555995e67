"""The OpenAI-compatible routes under /v1beta/openai/: chat/completions and images/generations.

What is known of Google's behaviour there, and how sure:
- base URL https://generativelanguage.googleapis.com/v1beta/openai/, the key as `Authorization: Bearer KEY`
  (discuss.ai.google.dev/t/180711; dimetron/pi-go#297, 2026-09-03: "Google's OpenAI-compatible surface does accept a
  Bearer API key", while the native routes answer a Bearer API key 401 UNAUTHENTICATED).
- errors from the model come as a JSON list holding one google.rpc.Status: `[{"error": {"code": 429, ...}}]`
  (n4ze3m/page-assist#406, 2025-02-16, a 429 on chat/completions). The emulator answers every scenario error and
  every model or request error on these routes that way. A request with no key at all is answered as the native
  routes are (403 "unregistered callers", an object): that the OpenAI routes do the same is UNCONFIRMED.
- images/generations is routed to `predict` and serves only older image models; others answer 404 "... not found
  for API version v1main, or is not supported for predict" (discuss.ai.google.dev/t/180711).
- chat/completions for an image model: Google's response shape is UNCONFIRMED. The emulator answers as the
  OpenAI-compatible gateways in front of Gemini do (LiteLLM >= 1.77, Vercel AI Gateway, OpenRouter): the text in
  `message.content`, the image as `message.images[i].image_url.url`, a `data:` URL; at the model's default size,
  since the route has no size or ratio control (docs.laozhang.ai [third-party]).
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any

from gemini_doctor.emulator.errors import ApiError, invalid_argument
from gemini_doctor.emulator.gemini import IMAGE_TEXT, TEXT_ANSWER, Emulator, text_tokens
from gemini_doctor.emulator.imaging import make_image
from gemini_doctor.emulator.tables import ApiModel, api_model

FINISH = {"STOP": "stop", "MAX_TOKENS": "length"}  # other Gemini finish reasons: "content_filter"


class ListError(Exception):
    """An error these routes send as `[{"error": {...}}]`."""

    def __init__(self, error: ApiError):
        super().__init__(error.message)
        self.error = error


def bearer_key(headers: Any, query: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer ") and auth[7:].strip():
        return auth[7:].strip()
    return headers.get("x-goog-api-key") or query.get("key")


def _model(emulator: Emulator, body: Any, method: str) -> ApiModel:
    name = str(body.get("model", "")) if isinstance(body, dict) else ""
    name = name.removeprefix("models/")
    model = api_model(name)
    if model is None or not emulator.served(model) or (method == "predict" and not model.openai_images):
        raise ApiError(
            404,
            "NOT_FOUND",
            f"models/{name} is not found for API version v1main, or is not supported for {method}. Call "
            "ListModels to see the list of available models and their supported methods.",
        )
    return model


def _prompt(body: dict[str, Any]) -> str:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid_argument("messages must be a non-empty list.", [("messages", "must be a non-empty list")])
    texts = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts += [str(p.get("text", "")) for p in content if isinstance(p, dict)]
        else:
            raise invalid_argument("Invalid message content.", [("messages", "each message needs a content")])
    return " ".join(texts)


def chat_completion(emulator: Emulator, body: Any) -> dict[str, Any]:
    """POST /v1beta/openai/chat/completions, in OpenAI's shape; errors raised as ListError."""
    try:
        return _chat(emulator, body)
    except ApiError as error:
        raise ListError(error) from None


def _chat(emulator: Emulator, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid_argument("Invalid JSON payload received. Expected an object.")
    model = _model(emulator, body, "generateContent")
    prompt = _prompt(body)
    if isinstance(body.get("n"), int) and body["n"] > 1:
        raise invalid_argument(f"Multiple candidates is not enabled for models/{model.id}")
    if emulator.fails_generate():
        raise emulator.scenario_error(model)
    message: dict[str, Any] = {"role": "assistant", "content": TEXT_ANSWER}
    finish = "stop"
    completion_tokens = text_tokens(TEXT_ANSWER)
    if model.makes_images and emulator.scenario.answer == "no-image":
        message["content"], finish, completion_tokens = None, "content_filter", 0
    elif model.makes_images:
        width, height = model.pixel_size(model.default_size, "1:1")
        data = base64.b64encode(make_image(model.output_format, width, height)).decode("ascii")
        url = f"data:image/{model.output_format};base64,{data}"
        message["content"] = IMAGE_TEXT
        message["images"] = [{"type": "image_url", "image_url": {"url": url}}]
        completion_tokens = text_tokens(IMAGE_TEXT) + model.image_tokens[model.default_size]
    prompt_tokens = max(1, text_tokens(prompt))
    return {
        "id": f"chatcmpl-{secrets.token_urlsafe(12)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model.id,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def image_generation(emulator: Emulator, body: Any) -> dict[str, Any]:
    """POST /v1beta/openai/images/generations: older image models only, one image at the default size."""
    try:
        if not isinstance(body, dict):
            raise invalid_argument("Invalid JSON payload received. Expected an object.")
        model = _model(emulator, body, "predict")
        if emulator.fails_generate():
            raise emulator.scenario_error(model)
        width, height = model.pixel_size(model.default_size, "1:1")
        data = base64.b64encode(make_image(model.output_format, width, height)).decode("ascii")
    except ApiError as error:
        raise ListError(error) from None
    return {"created": int(time.time()), "data": [{"b64_json": data}]}
