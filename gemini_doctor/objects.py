"""What an app holds when a call fails (an exception, a response, a dict), as the text `explain` reads.

The public API (`gemini_doctor.api.diagnose`) classifies an object by writing it out as the paste a user would
make of it (google-genai's exception text, `curl -v` output for an HTTP response, the JSON of a generateContent
answer) and handing that text to the classifier `explain` uses: one reader, one set of rules. Objects are told
apart by duck typing and by the module their class comes from; google-genai, google.api_core, httpx and requests
are never imported here. Bodies are capped, image data is cut to the bytes that hold its header (format and pixel
size), and the text is redacted before it leaves.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from gemini_doctor.images import sniff
from gemini_doctor.redact import redact

MAX_BODY_CHARS = 64 * 1024  # what the signatures search (Evidence.HAYSTACK_LIMIT); images are cut to their header
IMAGE_HEAD_BYTES = 65535  # what the reader decodes of an image (shapes.MAX_IMAGE_BYTES_DECODED), a multiple of 3
IMAGE_HEAD_CHARS = IMAGE_HEAD_BYTES // 3 * 4
HEAD_STEPS = (1023, 8190, IMAGE_HEAD_BYTES)  # most headers (PNG, JPEG without big metadata) fit the first step
INLINE_KEYS = ("inlineData", "inline_data")


def to_text(thing: object) -> str:
    """The text a user would paste for `thing`, redacted: what `gemini-doctor explain` reads for it."""
    return redact(_text(thing))


def _text(thing: object) -> str:
    if isinstance(thing, str):
        return thing
    if isinstance(thing, bytes | bytearray):
        return bytes(thing[:MAX_BODY_CHARS]).decode("utf-8", "replace")
    if isinstance(thing, Mapping | list):
        return json.dumps(jsonable(thing), ensure_ascii=False)
    module = type(thing).__module__ or ""
    if module.startswith("google.genai") and isinstance(thing, BaseException) and hasattr(thing, "details"):
        return _genai_error(thing)
    if module.startswith("google.api_core") and isinstance(thing, BaseException):
        return _api_core_error(thing)
    if is_http_response(thing):
        return http_text(thing)
    if hasattr(thing, "candidates") and hasattr(thing, "model_dump"):
        return json.dumps(jsonable(model_dict(thing)), ensure_ascii=False)
    if isinstance(thing, BaseException):
        return f"{_qualified(type(thing))}: {thing}"
    return str(thing)


def _qualified(cls: type) -> str:
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _genai_error(error: BaseException) -> str:
    """google-genai's APIError as it prints: `429 RESOURCE_EXHAUSTED. {'error': {...}}`, details capped."""
    code, status = getattr(error, "code", None), getattr(error, "status", None)
    details = jsonable(getattr(error, "details", None))
    body = json.dumps(details, ensure_ascii=False) if details is not None else str(getattr(error, "message", ""))
    return f"{code} {status}. {body[:MAX_BODY_CHARS]}"


def _api_core_error(error: BaseException) -> str:
    """google.api_core's exception: its HTTP answer when it kept one, else the Status its fields describe."""
    response = getattr(error, "response", None)
    if response is not None and is_http_response(response):
        return http_text(response)
    code = getattr(error, "code", None)
    grpc_code = getattr(error, "grpc_status_code", None)
    status: dict[str, Any] = {"code": code, "message": str(getattr(error, "message", "") or "")}
    if getattr(grpc_code, "name", None):
        status["status"] = grpc_code.name  # type: ignore[union-attr]
    details = [_detail(d) for d in getattr(error, "details", None) or ()]
    if details:
        status["details"] = details
    head = f"google.api_core.exceptions.{type(error).__name__}: {code or ''} {status['message']}".strip()
    return f"{head}\n{json.dumps({'error': jsonable(status)}, ensure_ascii=False)}"


def _detail(detail: object) -> object:
    """A Status detail: a dict (REST transport) or a protobuf message (gRPC), as proto-JSON."""
    if isinstance(detail, Mapping):
        return detail
    if hasattr(detail, "DESCRIPTOR"):
        from google.protobuf import json_format  # type: ignore[import-untyped]  # present with any gRPC detail

        found = json_format.MessageToDict(detail)
        found["@type"] = f"type.googleapis.com/{detail.DESCRIPTOR.full_name}"
        return found
    return str(detail)


def is_http_response(thing: object) -> bool:
    """An httpx or requests Response (or one shaped like them): a status code, headers and a body."""
    module = type(thing).__module__ or ""
    shaped = hasattr(thing, "status_code") and hasattr(thing, "headers")
    return shaped and (module.startswith(("httpx", "requests")) or hasattr(thing, "content"))


def http_text(response: Any) -> str:
    """The answer as `curl -v` shows it: the request line (URL redacted, no request headers), status, headers,
    body. A body not read yet (a stream) is left out rather than read."""
    lines = []
    request = _request_of(response)
    if request is not None:
        url = str(getattr(request, "url", ""))
        host, _, path = url.partition("://")[2].partition("/")
        lines += [f"> {getattr(request, 'method', 'POST')} /{path} HTTP/1.1", f"> Host: {host}", ">"]
    reason = getattr(response, "reason_phrase", None) or getattr(response, "reason", None) or ""
    lines.append(f"< HTTP/1.1 {response.status_code} {reason}".rstrip())
    lines += [f"< {name}: {value}" for name, value in response.headers.items()]
    lines.append("<")
    return "\n".join(lines) + "\n" + _body(response)


def _request_of(response: Any) -> Any:
    try:
        return response.request  # httpx raises when the response was built without one
    except (AttributeError, RuntimeError):
        return None


def _body(response: Any) -> str:
    try:
        content = response.content
    except Exception:  # httpx.ResponseNotRead and the like: a streamed body nobody read
        return ""
    if not isinstance(content, bytes | bytearray):
        return ""
    text = bytes(content).decode("utf-8", "replace")
    if text.lstrip()[:1] in ("{", "[") and len(text) > 4096:  # an answer: its images cut to their header
        try:
            return json.dumps(jsonable(json.loads(text)), ensure_ascii=False)[:MAX_BODY_CHARS]
        except ValueError:
            pass
    return text[:MAX_BODY_CHARS]


def model_dict(thing: Any) -> Any:
    """A google-genai response object as its REST JSON (camelCase), bytes kept as bytes for `jsonable` to cut."""
    try:
        return thing.model_dump(mode="python", by_alias=True, exclude_none=True, exclude={"sdk_http_response"})
    except TypeError:
        return thing.model_dump()


def jsonable(value: Any) -> Any:
    """Plain JSON values, inline image data cut to its header (bytes base64-encoded), pydantic objects dumped."""
    if isinstance(value, Mapping):
        return {str(k): _inline(v) if k in INLINE_KEYS else jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(image_head(bytes(value))).decode("ascii")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "model_dump"):
        return jsonable(model_dict(value))
    if hasattr(value, "value") and isinstance(value.value, str):  # an enum
        return value.value
    return str(value)


def _inline(blob: Any) -> Any:
    value = jsonable(blob)
    if isinstance(value, dict) and isinstance(value.get("data"), str):
        value["data"] = _b64_head(value["data"])
    return value


def image_head(data: bytes) -> bytes:
    """The shortest of a few prefixes from which the image's format and pixel size read as from the reader's
    64 KB: the classifier needs the header, not the pixels (a 4K answer is megabytes)."""
    head = data[:IMAGE_HEAD_BYTES]
    info = sniff(head)
    return next(head[:n] for n in HEAD_STEPS if sniff(head[:n]) == info)


def _b64_head(text: str) -> str:
    head = text[:IMAGE_HEAD_CHARS].strip()
    head = head[: len(head) - len(head) % 4]
    urlsafe = "-" in head or "_" in head
    try:
        raw = base64.urlsafe_b64decode(head) if urlsafe else base64.b64decode(head)
    except (binascii.Error, ValueError):
        return head
    cut = image_head(raw)
    return (base64.urlsafe_b64encode(cut) if urlsafe else base64.b64encode(cut)).decode("ascii")
