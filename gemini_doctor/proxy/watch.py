"""What the wire proves: each exchange diagnosed with the classifier `explain` uses, plus three facts only the
traffic holds.

1. What reached Google: with `--expect aspect-ratio=16:9` (or the app's own `--request`), an imageConfig field
   missing or changed in the forwarded body is certain: the body is the evidence.
2. The per-minute pattern: images per model over a rolling 60 s window. A 429 after N images in the window is the
   per-minute quota; a 429 with (almost) none in the window is not, whatever the text says.
3. Retries the app sends itself: the same request resent after an error, counted.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from gemini_doctor.diagnosis import Context, Diagnosis, rank
from gemini_doctor.diagnosis.evidence import Evidence, read_http_answer
from gemini_doctor.diagnosis.judges import response
from gemini_doctor.diagnosis.rules import diagnose
from gemini_doctor.diagnosis.shapes import read_document, unwrap
from gemini_doctor.proxy.exchange import Exchange
from gemini_doctor.redact import redact

WINDOW_S = 60.0
FEW_IMAGES = 1  # at most this many images in the window before a 429: not a per-minute limit
RETRY_WINDOW_S = 120.0
MAX_IN_WINDOW = 10_000  # image times kept per model: far above any per-minute quota, and a bound on memory
MAX_ERRORS = 4096  # failed requests remembered for retry detection (memory stays bounded over a long run)
EXPECTABLE = {"aspect-ratio": "aspectRatio", "image-size": "imageSize"}


@dataclass
class Expectation:
    """Settings the app means to send: `--expect aspect-ratio=16:9`, `--expect image-size=2K`, or `--request`."""

    image_config: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, items: list[str], request: dict[str, Any] | None = None) -> Expectation:
        config: dict[str, str] = {}
        if request:
            generation = request.get("generationConfig") or request.get("generation_config") or {}
            image = generation.get("imageConfig") or generation.get("image_config") or {}
            config.update({k: str(v) for k, v in image.items() if k in EXPECTABLE.values()})
        for item in items:
            name, _, value = item.partition("=")
            if name not in EXPECTABLE or not value:
                raise ValueError(f"--expect takes aspect-ratio=W:H or image-size=SIZE, not {item!r}")
            config[EXPECTABLE[name]] = value
        return cls(config)


def digest(method: str, path: str, body: bytes) -> str:
    return hashlib.blake2b(f"{method} {path}".encode() + b"\0" + body, digest_size=12).hexdigest()


class Watcher:
    """Holds the little state that spans exchanges: image times per model, recent errors for retry detection."""

    def __init__(self, expectation: Expectation | None = None, upstream: str | None = None):
        self.expectation = expectation or Expectation()
        self.upstream = upstream
        self.images: dict[str, deque[float]] = {}
        self.errors: dict[str, tuple[int, float]] = {}  # request digest → (exchange number, when it failed)
        self.retries = 0

    def window(self, model: str | None, now: float | None = None) -> int:
        times = self.images.get(model or "?")
        if not times:
            return 0
        now = time.monotonic() if now is None else now
        while times and now - times[0] > WINDOW_S:
            times.popleft()
        if not times:  # a model no longer seen keeps nothing (model names come from the app)
            del self.images[model or "?"]
        return len(times)

    def started(self, exchange: Exchange) -> None:
        previous = self.errors.get(exchange.request_digest)
        if previous and exchange.started - previous[1] <= RETRY_WINDOW_S:
            exchange.retry_of = previous[0]
            self.retries += 1

    def answered(self, exchange: Exchange) -> None:
        """A failed request is remembered for retries, from the moment its status came back."""
        if exchange.status and exchange.status >= 400:
            when = exchange.started + (exchange.ttfb_ms or 0) / 1000
            self.errors.pop(exchange.request_digest, None)  # re-added last: the dict stays oldest first
            self.errors[exchange.request_digest] = (exchange.number, when)
            while len(self.errors) > MAX_ERRORS or when - next(iter(self.errors.values()))[1] > RETRY_WINDOW_S:
                del self.errors[next(iter(self.errors))]

    def finished(self, exchange: Exchange, text: str, url: str) -> list[Diagnosis]:
        """Diagnose one finished exchange and update the windows; returns the ranked diagnoses."""
        return self.judge(exchange, self.read(exchange, text, url))

    def read(self, exchange: Exchange, text: str, url: str) -> Evidence:
        """The answer read (the first half of `finished`, which the proxy runs as a step of its own)."""
        status = exchange.status or 0
        evidence = read_success(status, text, url) or read_http_answer(status, text, url)
        exchange.finish_reasons = list(evidence.finish_reasons)
        exchange.images = [f"{i.info.format} {i.info.width}x{i.info.height}" for i in evidence.final_images]
        return evidence

    def judge(self, exchange: Exchange, evidence: Evidence) -> list[Diagnosis]:
        """The answer judged, the windows updated (at the moment the answer ended, however late this runs)."""
        now = exchange.started + exchange.total_ms / 1000 if exchange.total_ms is not None else time.monotonic()
        exchange.images_in_window = self.window(exchange.model, now)
        context = Context(model=exchange.model, request=exchange.request, base_url=self.upstream)
        if evidence.final_images and (exchange.status or 0) < 400:
            found = response(evidence, context)  # the hot path: an image came back; only its size can be wrong
        elif (exchange.status or 0) >= 400 or evidence.is_response:
            found = diagnose(evidence, context)
        else:
            found = []
        found += self._expectations(exchange)
        if exchange.status == 429:
            found = self._per_minute(found, exchange.images_in_window)
        if exchange.images and not (exchange.status and exchange.status >= 400):
            times = self.images.setdefault(exchange.model or "?", deque(maxlen=MAX_IN_WINDOW))
            times.extend([now] * len(exchange.images))
        return rank(found)

    def _expectations(self, exchange: Exchange) -> list[Diagnosis]:
        expected = self.expectation.image_config
        if not expected or not _asks_for_image(exchange):
            return []
        sent = _image_config(exchange.request)
        found = []
        for name, value in expected.items():
            got = sent.get(name)
            if got is None:
                line = f"the request that reached Google has no generationConfig.imageConfig.{name}; expected {value}"
            elif _same(name, got, value):
                continue
            else:
                line = f"the request that reached Google has imageConfig.{name} {got!r}; expected {value!r}"
            found.append(
                Diagnosis.of(
                    "image-config-stripped",
                    "certain",
                    [line, f"exchange {exchange.number}: {exchange.method} {exchange.path}"],
                    hints=[
                        "The layer between the app and Google (SDK, gateway, relay) drops or rewrites it: pass "
                        "it through that layer's own option, or call Google's generateContent directly."
                    ],
                    score=12,
                )
            )
        return found

    def _per_minute(self, found: list[Diagnosis], images: int) -> list[Diagnosis]:
        if images > FEW_IMAGES:
            line = f"{images} images from this model in the last 60 s before this 429: the per-minute pattern"
            return [Diagnosis.of("ipm-exceeded", "likely", [line], score=9), *found]
        line = f"only {images} image(s) from this model in the last 60 s: not a per-minute limit"
        kept = [d for d in found if d.error.slug != "ipm-exceeded"]
        return [replace(d, evidence=(*d.evidence, line)) for d in kept]


def read_success(status: int, text: str, url: str) -> Evidence | None:
    """A 2xx JSON answer read as `read_http_answer` reads it (the same `read_document`), less its pass of `redact`
    over the whole text, the most of its cost: what a diagnosis quotes of such an answer is redacted here before
    it can be cut (the finish message), the rest at the doors. None when it must be read the full way: an error,
    a body that is not strict JSON (an SSE stream, HTML, text), or an answer with no image, whose words the
    diagnosis of why quotes, cut."""
    stripped = text.strip() if 200 <= status < 300 else ""
    if stripped[:1] not in ("{", "["):
        return None
    try:
        document = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    evidence = Evidence(kind="json")
    read_document(evidence, document)
    evidence = unwrap(evidence)
    if evidence.is_response and not evidence.final_images:
        return None
    if evidence.http_status is None:
        evidence.http_status = status
    evidence.url = redact(url)  # as read_http_answer has it: the upstream base too, not only the path
    if evidence.finish_message:
        evidence.finish_message = redact(evidence.finish_message)
    return evidence


def _asks_for_image(exchange: Exchange) -> bool:
    path = exchange.path
    return ":generateContent" in path or ":streamGenerateContent" in path or "/openai/" in path


def _image_config(request: dict[str, Any] | None) -> dict[str, Any]:
    generation = (request or {}).get("generationConfig") or (request or {}).get("generation_config") or {}
    if not isinstance(generation, dict):
        return {}
    image = generation.get("imageConfig") or generation.get("image_config") or {}
    if not isinstance(image, dict):
        return {}
    return {
        "aspectRatio": image.get("aspectRatio", image.get("aspect_ratio")),
        "imageSize": image.get("imageSize", image.get("image_size")),
    }


def _same(name: str, got: Any, value: str) -> bool:
    """Exactly what the app meant: a relay that rewrites "2K" as "2k" has changed it (Google ignores "2k")."""
    return str(got) == value
