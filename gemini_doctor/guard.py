"""A google-genai guard: image calls fail loudly, with the cause named, instead of failing alike or in silence.

    from google import genai
    from gemini_doctor.guard import guard, GeminiImageError, QuotaError

    client = guard(genai.Client())
    try:
        response = client.models.generate_content(model="gemini-3-pro-image", contents="a banana", config=config)
    except QuotaError as exc:          # exc.diagnoses[0].slug, exc.retryable, exc.retry_after; exc.__cause__
        ...

`guard(client)` wraps `client.models.generate_content`, `generate_content_stream` and their `client.aio`
counterparts on that client (it returns the same client). On an image call (the config asks for IMAGE or sets
imageConfig, or the model makes images), an API or network error becomes a `GeminiImageError` subclass carrying
`diagnoses` (the original exception is its `__cause__`); a 200 without an image becomes `NoImageError` with the
finish reason; an image whose pixel size does not match the imageConfig asked for becomes `ImageMismatchError`.
Which subclass follows the catalog (`knowledge/families.toml`). It sends no request of its own, and text calls
pass through untouched. Nothing here imports google-genai: the client is read by duck typing.
"""

from __future__ import annotations

import contextlib
import functools
import tomllib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # gemini_doctor.api re-exports this module: it is imported when first used
    from gemini_doctor.api import Diagnosis

ClientT = TypeVar("ClientT")
GUARDED = "_gemini_doctor_guarded"
# Exceptions a call can end in that are the API's or the network's doing; anything else (a bug, a bad argument
# the SDK refused before sending) passes through as it was.
API_MODULES = ("google.genai.errors", "httpx", "httpcore", "aiohttp", "requests", "urllib3", "google.auth")


class GeminiImageError(Exception):
    """An image call failed or came back wrong. `diagnoses` holds the causes, most likely first."""

    def __init__(self, message: str, diagnoses: Sequence[Diagnosis] = ()) -> None:
        super().__init__(message)
        self.diagnoses: tuple[Diagnosis, ...] = tuple(diagnoses)

    @property
    def diagnosis(self) -> Diagnosis | None:
        """The most likely cause."""
        return self.diagnoses[0] if self.diagnoses else None

    @property
    def retryable(self) -> bool:
        """Whether retrying can help (`gemini_doctor.retry.should_retry` on the diagnoses)."""
        from gemini_doctor.retry import should_retry

        return should_retry(self.diagnoses)

    @property
    def retry_after(self) -> float | None:
        """Seconds Google asked to wait (RetryInfo), when retrying can help."""
        return self.diagnosis.retry_after if self.diagnosis else None


class QuotaError(GeminiImageError):
    """A quota is used up: per minute (retry after RetryInfo's delay), per day or for a feature (do not retry)."""


class BillingError(GeminiImageError):
    """Billing is missing, out of credit or capped: only a change of billing helps, never a retry."""


class AuthError(GeminiImageError):
    """The key, the project or the caller's location may not use the API."""


class ModelError(GeminiImageError):
    """The model is misnamed, shut down, or not served on this route or API version."""


class ParameterError(GeminiImageError):
    """The request (or the client's setup) is wrong: fix it; the same call fails the same way."""


class TransientError(GeminiImageError):
    """Google's side failed for now (overloaded, internal error, deadline): retrying with backoff can help."""


class NetworkError(GeminiImageError):
    """No answer from the API: DNS, connection, proxy, TLS or a client timeout."""


class NoImageError(GeminiImageError):
    """An HTTP 200 without the image that was asked for; `finish_reason` (and `block_reason`) say why."""

    finish_reason: str | None = None
    block_reason: str | None = None


class ImageMismatchError(GeminiImageError):
    """An image that is not what imageConfig asked for: `size` is what came back (pixels), `asked` the
    imageConfig sent, `expected` the pixel size the model table gives for it (None where it gives none)."""

    size: tuple[int, int] | None = None
    asked: dict[str, str] | None = None
    expected: tuple[int, int] | None = None


ANSWER_ERRORS = (NoImageError, ImageMismatchError)  # what a 200 can be wrong with: the only errors a 200 raises


# ---------------------------------------------------------------------------------------------- families (data)
@cache
def _families() -> tuple[tuple[type[GeminiImageError], tuple[dict[str, Any], ...]], ...]:
    text = resources.files("gemini_doctor.knowledge").joinpath("families.toml").read_text(encoding="utf-8")
    return tuple((globals()[raw["exception"]], tuple(raw["rule"])) for raw in tomllib.loads(text)["family"])


def _holds(rule: dict[str, Any], fields: dict[str, Any]) -> bool:
    return all(fields.get(name) in allowed for name, allowed in rule.items())


def exception_class(slug: str) -> type[GeminiImageError]:
    """The exception raised for a catalog slug (or code), per knowledge/families.toml; GeminiImageError itself
    for an error type no family takes."""
    from gemini_doctor.knowledge import find_error

    entry = find_error(slug)
    if entry is None:
        return GeminiImageError
    fields = {"slug": entry.slug, "category": entry.category, "grpc": entry.grpc_status, "http": entry.http_status}
    for cls, rules in _families():
        if any(_holds(rule, fields) for rule in rules):
            return cls
    return GeminiImageError


# ---------------------------------------------------------------------------------------------- one call
@dataclass(frozen=True)
class _Call:
    """What an image call asked for: the model and the body the classifier checks the answer against."""

    model: str
    body: dict[str, Any] | None

    @classmethod
    def of(cls, model: object, config: object) -> _Call | None:
        """The call, or None when it is not an image call (it then passes through untouched)."""
        from gemini_doctor.api import request_body
        from gemini_doctor.diagnosis.request import read_request
        from gemini_doctor.knowledge import find_model

        name = str(model)
        body = request_body(config) if config is not None else None
        settings = read_request(body)
        asks_image = "IMAGE" in [str(m).upper() for m in settings.modalities or ()]
        if asks_image or settings.image_size or settings.aspect_ratio or settings.sent_image_config:
            return cls(name, body)
        known = find_model(name)
        makes_images = known.makes_images if known is not None else "image" in name.lower()
        return cls(name, body) if makes_images else None

    def converted(self, error: BaseException) -> GeminiImageError | None:
        """The named error for an API or network failure; None for anything else (it is raised as it was)."""
        from gemini_doctor.api import diagnose

        module = type(error).__module__ or ""
        if not (module.startswith(API_MODULES) or isinstance(error, TimeoutError | ConnectionError)):
            return None
        return _error(diagnose(error, request=self.body, model=self.model), [])

    @contextlib.contextmanager
    def naming(self) -> Iterator[None]:
        """Raise the named error for an API or network failure inside, the original as its `__cause__`."""
        try:
            yield
        except Exception as exc:
            named = self.converted(exc)
            if named is None:
                raise
            raise named from exc

    def check(self, responses: list[Any]) -> None:
        """Raise for an answer without the image asked for, or with one imageConfig did not shape. What the
        request alone is faulted for (a finding `diagnose` lists) does not fail a call that made its image."""
        from gemini_doctor.api import diagnose

        answer = responses[0] if len(responses) == 1 else responses or {"candidates": []}  # an empty stream
        found = diagnose(answer, request=self.body, model=self.model)
        if any(d.severity == "error" and issubclass(exception_class(d.slug), ANSWER_ERRORS) for d in found):
            raise _error(found, responses, self)


def _error(diagnoses: list[Diagnosis], responses: list[Any], call: _Call | None = None) -> GeminiImageError:
    errors = [d for d in diagnoses if d.severity == "error"] or diagnoses
    wrong = [d for d in errors if issubclass(exception_class(d.slug), ANSWER_ERRORS)]
    top = (wrong if call is not None and wrong else errors)[0]  # a 200: what is wrong with the answer
    cls = exception_class(top.slug)
    detail = ""
    facts: dict[str, Any] = {}
    if issubclass(cls, NoImageError):
        facts = _no_image_facts(responses)
        detail = f" (finishReason {facts['finish_reason'] or 'none'})"
    elif issubclass(cls, ImageMismatchError) and call is not None:
        facts = _mismatch_facts(responses, call)
        size = facts["size"]
        detail = f" (asked {facts['asked']}, got {size[0]}x{size[1]})" if size else ""
    fix = f"; first fix: {top.fix[0]}" if top.fix else ""
    ordered = [top, *(d for d in diagnoses if d is not top)]  # the cause that chose the class comes first
    error = cls(f"{top.code} {top.slug} ({top.confidence}): {top.title}{detail}{fix}", ordered)
    for name, value in facts.items():
        setattr(error, name, value)
    return error


def _value(thing: object) -> str | None:
    return None if thing is None else str(getattr(thing, "value", thing))


def _no_image_facts(responses: list[Any]) -> dict[str, Any]:
    finish: str | None = None
    block: str | None = None
    for response in responses:
        for candidate in getattr(response, "candidates", None) or ():
            finish = _value(getattr(candidate, "finish_reason", None)) or finish
        block = _value(getattr(getattr(response, "prompt_feedback", None), "block_reason", None)) or block
    return {"finish_reason": finish, "block_reason": block}


def _last_image(responses: list[Any]) -> bytes | None:
    found = None
    for response in responses:
        for candidate in getattr(response, "candidates", None) or ():
            for part in getattr(getattr(candidate, "content", None), "parts", None) or ():
                blob = getattr(part, "inline_data", None)
                if blob is not None and isinstance(blob.data, bytes) and not getattr(part, "thought", False):
                    found = blob.data
    return found


def _mismatch_facts(responses: list[Any], call: _Call) -> dict[str, Any]:
    from gemini_doctor.diagnosis.request import canonical_size, read_request
    from gemini_doctor.images import sniff
    from gemini_doctor.knowledge import find_model

    settings = read_request(call.body)
    asked = {k: v for k, v in (("aspect_ratio", settings.aspect_ratio), ("image_size", settings.image_size)) if v}
    data = _last_image(responses)
    size = sniff(data).size if data else None
    model = find_model(call.model)
    expected = None
    if model is not None:
        wanted = canonical_size(settings.image_size) if settings.image_size else None
        expected = model.expected_size(wanted or model.default_size, settings.aspect_ratio or "1:1")
    return {"size": size, "asked": asked, "expected": expected}


# ---------------------------------------------------------------------------------------------- the wrappers
def guard(client: ClientT) -> ClientT:
    """Guard a google-genai `Client`'s image calls (sync, async, streaming); returns the same client.

    Opt-in and idempotent; sends nothing of its own; text calls are passed through untouched."""
    models = getattr(client, "models")  # noqa: B009  (duck typing: any client shaped like google-genai's)
    aio_models = getattr(getattr(client, "aio", None), "models", None)
    if getattr(models, GUARDED, False):
        return client
    _wrap(models, "generate_content", _guarded(_checked_one))
    _wrap(models, "generate_content_stream", _guarded(_checked))
    if aio_models is not None:
        _wrap(aio_models, "generate_content", _guarded_async(_checked_one))
        _wrap(aio_models, "generate_content_stream", _guarded_async(_checked_async))
    setattr(models, GUARDED, True)
    return client


def _wrap(target: object, name: str, wrapper: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = getattr(target, name, None)
    if original is not None:
        setattr(target, name, functools.wraps(original)(wrapper(original)))


def _guarded(finish: Callable[[_Call, Any], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The wrapper of a sync call: the call named around the request (a client that sends before the first chunk
    is asked for fails there), then `finish` checks what came back (`_checked_one`) or wraps the stream
    (`_checked`)."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def generate(*, model: str, contents: Any, config: Any = None, **kwargs: Any) -> Any:
            call = _Call.of(model, config)
            if call is None:
                return original(model=model, contents=contents, config=config, **kwargs)
            with call.naming():
                answer = original(model=model, contents=contents, config=config, **kwargs)
            return finish(call, answer)

        return generate

    return wrap


def _guarded_async(finish: Callable[[_Call, Any], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`_guarded` for the async client (`client.aio.models`)."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        async def generate(*, model: str, contents: Any, config: Any = None, **kwargs: Any) -> Any:
            call = _Call.of(model, config)
            if call is None:
                return await original(model=model, contents=contents, config=config, **kwargs)
            with call.naming():
                answer = await original(model=model, contents=contents, config=config, **kwargs)
            return finish(call, answer)

        return generate

    return wrap


def _checked_one(call: _Call, response: Any) -> Any:
    call.check([response])
    return response


def _checked(call: _Call, stream: Any) -> Iterator[Any]:
    chunks: list[Any] = []
    with call.naming():
        for chunk in stream:
            chunks.append(chunk)
            yield chunk
    call.check(chunks)


async def _checked_async(call: _Call, stream: Any) -> AsyncIterator[Any]:
    chunks: list[Any] = []
    with call.naming():
        async for chunk in stream:
            chunks.append(chunk)
            yield chunk
    call.check(chunks)
