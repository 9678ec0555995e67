"""The traps, read from the neutral shape: written once for Python, JavaScript/TypeScript and JSON.

What a request asks for is read by `read_request` and judged by `request_findings` (the same reading `explain
--request` and the `parameters` check use); this module finds the requests in source code, says where each
setting is written, and adds what only source code shows: model names, endpoint URLs, misspelled keys.
Models, sizes and ratios come from models.toml; every finding is a catalog entry.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from gemini_doctor.diagnosis import Diagnosis
from gemini_doctor.diagnosis.request import (
    IMAGE_CONFIG_FIELDS,
    VERTEX_ONLY_FIELDS,
    RequestSettings,
    canonical_size,
    read_request,
    request_findings,
)
from gemini_doctor.findings import model_deprecated
from gemini_doctor.knowledge import (
    Model,
    closest_models,
    is_openai_route,
    live_models,
    live_on,
    live_successor,
    models,
)
from gemini_doctor.levels import Severity
from gemini_doctor.lint.findings import Edit, Safety
from gemini_doctor.lint.nodes import Entry, Lst, Node, Num, Obj, Scan, Str, Sym, literal_text, modality_name, plain

MODALITY_KEYS = ("responseModalities", "response_modalities")
IMAGE_CONFIG_KEYS = ("imageConfig", "image_config")
GENERATION_CONFIG_KEYS = ("generationConfig", "generation_config")
SIZE_KEYS = ("imageSize", "image_size")
RATIO_KEYS = ("aspectRatio", "aspect_ratio")
COUNT_KEYS = ("candidateCount", "candidate_count")
VERSION_KEYS = ("api_version", "apiVersion")
CONFIG_SIGNS = frozenset((*MODALITY_KEYS, *IMAGE_CONFIG_KEYS))
REQUEST_CALLS = frozenset(
    (
        "generate_content",
        "generate_content_stream",
        "generateContent",
        "generateContentStream",
        "getGenerativeModel",
        "get_generative_model",
        "GenerativeModel",
    )
)
# Live API sessions (LiveConnectConfig, live.connect): responseModalities sits at their top level, rightly.
LIVE_CALLS = frozenset(("LiveConnectConfig", "LiveConnectConfigDict", "connect", "BidiGenerateContentSetup"))
CONFIG_CALLS = frozenset(("GenerateContentConfig", "GenerationConfig", "GenerateContentConfigDict"))
IMAGE_CONFIG_CALLS = frozenset(("ImageConfig", "ImageConfigDict"))
# Python objects (calls, dicts) worth reading: any other holds nothing a rule looks at, unless nested in one of these.
INTERESTING_KEYS = frozenset(
    (
        "model",
        "contents",
        "config",
        *GENERATION_CONFIG_KEYS,
        *CONFIG_SIGNS,
        *SIZE_KEYS,
        *RATIO_KEYS,
        *COUNT_KEYS,
        *VERSION_KEYS,
    )
)
# Client constructors: an api_version written in one applies to every call the client makes.
CLIENT_CALLS = frozenset(("Client", "GoogleGenAI", "GoogleGenerativeAI"))
INTERESTING_CALLS = REQUEST_CALLS | CONFIG_CALLS | IMAGE_CONFIG_CALLS | CLIENT_CALLS
# Each rule's fix, next to the rule: (its safety, the literal's new value or None). --fix applies only safe fixes:
# ones that cannot change what the code asks for beyond the trap itself.
FIXES: dict[str, tuple[Safety, Callable[[str], str | None]]] = {
    "image-size-case": (Safety.SAFE, canonical_size),  # "1k" → "1K": the same size, in the spelling the API takes
}
# A name this close to an image model's is a typo of it; text models' names stay below (at most 0.92).
NEAR_MISS = 0.93
# Keys that are misspellings when they come close to these (compared lowercase, without underscores).
NEAR_KEYS = {"imageconfig": "imageConfig", "responsemodalities": "responseModalities"}

_MODEL_NAME = re.compile(r"(?:models/)?(gemini-[a-z0-9][a-z0-9.\-]*)")
# A name the table does not know that still names an image model: "image" as a word of it. Stricter than
# knowledge.is_image_model's "image" anywhere (for names a model list gives): code also holds "gemini-image.png".
_IMAGE_WORD = re.compile(r"(?:^|-)image(?:-|$)")
# The OpenAI-compatible route (knowledge.is_openai_route) as Gemini's, in code that may call any API: a versioned
# /v1beta/openai or /v1/openai, or the images route (an Azure OpenAI /openai/deployments/… URL is not Gemini's).
_GEMINI_OPENAI = re.compile(r"/v1(?:beta)?/openai|/openai/images/generations", re.IGNORECASE)
_V1_ROUTE = re.compile(
    r"generativelanguage\.googleapis\.com/v1(?:/|$)|(?:^|/)v1/models/[^/\s]*:(?:stream)?generatecontent", re.IGNORECASE
)
_REGEX_SIGNS = re.compile(r"[\s^$|()*+\\\[\]]")
_MODEL_IN_URL = re.compile(r"models/(gemini-[A-Za-z0-9.\-]+)")


def read_alone(text: str) -> bool:
    """Whether a rule reads a string literal on its own (not as a key's value): a model name ("gemini-…",
    "models/gemini-…", in a URL too) or a URL ("/" in it); `_model_literals`, `_models` and `_endpoints` pass
    over every other. The front-ends list only these in Scan.strings, and build no `Str` for the rest."""
    return "gemini-" in text or "/" in text


@dataclass(slots=True)
class Hit:
    diagnosis: Diagnosis
    node: Node
    edit: Edit | None = None


@dataclass
class _File:
    scan: Scan
    hits: list[Hit] = field(default_factory=list)
    image_fields: bool = False  # the file asks for images somewhere (IMAGE modality, imageConfig)
    model: Model | None = None  # the one known model the file names, if exactly one
    names_image_model: bool = False
    names_other_gemini: bool = False
    vertex: bool = False  # the file calls Vertex AI, where the Vertex-only imageConfig fields are right
    asks_for_images: set[int] = field(default_factory=set)  # ids of the requests that ask for images
    day: dt.date = field(default_factory=lambda: today())


def find(scan: Scan) -> list[Hit]:
    """Every trap in one file, each with the node it is written at."""
    state = _File(scan, vertex=scan.vertex)
    known: set[str] = set()
    for text in _model_literals(scan):
        kind, model = classify_model(text)
        if model is not None:
            known.add(model.id)
        state.names_image_model |= kind in ("id", "alias", "unknown-image")
        state.names_other_gemini |= kind == "other-gemini"
    if len(known) == 1:
        state.model = next(m for m in models() if m.id in known)
    seen: set[int] = set()
    requests: set[int] = set()
    for obj in scan.objects:
        if _is_request(obj):
            requests.add(id(obj))
            _request(state, obj, None, plain(obj, seen))
    for obj in scan.objects:
        if id(obj) not in seen and _is_generation_config(obj, requests):
            _request(state, None, obj, {"generationConfig": plain(obj, seen)})
    for obj in scan.objects:
        if id(obj) not in seen and _is_image_config(obj):
            wrapper = Obj(obj.line, obj.col, obj.end_line, obj.end_col, [Entry("imageConfig", obj, obj)])
            _request(state, None, wrapper, {"generationConfig": {"imageConfig": plain(obj, seen)}})
    _models(state)
    _endpoints(state)
    unique: dict[tuple, Hit] = {}
    for hit in state.hits:
        unique.setdefault((hit.diagnosis.error.code, hit.node.line, hit.node.col, hit.diagnosis.evidence), hit)
    return list(unique.values())


# what an object is ----------------------------------------------------------------------------------------------
def _is_request(obj: Obj) -> bool:
    if obj.callee_tail in REQUEST_CALLS or (obj.callee or "").endswith("chats.create"):
        return True
    return any(e.key == "contents" or e.key in GENERATION_CONFIG_KEYS for e in obj.entries)


def _is_generation_config(obj: Obj, requests: set[int]) -> bool:
    """A generation config standing alone; `requests`: the ids of the file's objects that are requests."""
    if obj.callee_tail in CONFIG_CALLS or obj.key in GENERATION_CONFIG_KEYS:
        return True
    if obj.key == "config" and obj.parent is not None and id(obj.parent) in requests:
        return True
    return id(obj) not in requests and any(e.key in CONFIG_SIGNS for e in obj.entries)


def _is_image_config(obj: Obj) -> bool:
    return obj.callee_tail in IMAGE_CONFIG_CALLS or obj.key in IMAGE_CONFIG_KEYS


def _obj(node: Node | None) -> Obj | None:
    return node if isinstance(node, Obj) else None


# models ---------------------------------------------------------------------------------------------------------
@cache
def classify_model(text: str) -> tuple[str, Model | None]:
    """("id" | "alias" | "unknown-image" | "other-gemini" | "none", the table's model)."""
    name = text.strip().removeprefix("models/")
    for model in models():
        if model.id == name:
            return "id", model
    for model in models():
        if name in model.aliases:
            return "alias", model
    match = _MODEL_NAME.fullmatch(text.strip())
    if match is None:
        return "none", None
    if _IMAGE_WORD.search(name) or "nano-banana" in name:
        return "unknown-image", None
    names = [m.id for m in models()] + [a for m in models() for a in m.aliases]
    if difflib.get_close_matches(name, names, n=1, cutoff=NEAR_MISS):
        return "unknown-image", None  # a typo of an image model ("gemini-3-pro-imag"), not a text model
    return "other-gemini", None


def _model_literals(scan: Scan):
    for string in scan.strings:
        if string.template:
            continue
        value = string.value
        if value.startswith(("gemini-", "models/gemini-")):
            yield value
        elif "models/gemini-" in value:
            yield from _MODEL_IN_URL.findall(value)


def _model_of(state: _File, request: Obj | None) -> tuple[Model | None, str]:
    """The model a request uses and what kind of name it is: its own `model` literal, else the file's."""
    text = literal_text(request.value("model")) if request is not None else None
    if text is not None:
        kind, model = classify_model(text)
        if kind != "none":
            return model, kind
    if request is not None and request.value("model") is not None:
        return state.model, "variable"
    return state.model, "file"


def _models(state: _File) -> None:
    image_requests = _image_request_models(state)
    for string in state.scan.strings:
        if string.template:
            continue
        value = string.value.strip()
        if value.startswith("gemini-") or (value.startswith("models/gemini-") and _MODEL_IN_URL.fullmatch(value)):
            _model_hit(state, value, string, image_requests)
        elif "models/gemini-" in value:
            for name in _MODEL_IN_URL.findall(value):
                _model_hit(state, name, string, image_requests)


def _image_request_models(state: _File) -> set[int]:
    """Ids of `model` literals of requests that ask for images: there a non-image model is a finding."""
    found = set()
    for obj in state.scan.objects:
        node = obj.value("model") if id(obj) in state.asks_for_images else None
        if isinstance(node, Str):
            found.add(id(node))
    return found


def _model_hit(state: _File, text: str, node: Str, image_requests: set[int]) -> None:
    kind, model = classify_model(text)
    name = text.removeprefix("models/")
    retired = model_deprecated(model, [], today=state.day) if kind == "id" and model is not None else None
    if retired is not None and model is not None:
        state.hits.append(Hit(_retired(retired, model, state.day), node))
    elif kind == "alias" and model is not None:
        target = model if live_on(model, state.day) else live_successor(model, state.day)
        evidence = f"{name} is a name the API uses internally for {model.id} (e.g. in 429 bodies), not a model ID"
        hint = f"Use {target.id}." if target else _current_models_hint(state.day)
        state.hits.append(Hit(Diagnosis.of("wrong-model-name", "likely", [evidence], hints=[hint]), node))
    elif kind == "unknown-image" or (kind == "other-gemini" and id(node) in image_requests):
        state.hits.append(Hit(_unknown_model(name, kind, state.day), node))


def _retired(diagnosis: Diagnosis, model: Model, day: dt.date) -> Diagnosis:
    """findings.model_deprecated as lint reports it: an error once the table says the model is shut down on `day`,
    and the move suggested to the first live successor (or the current models), not to a model itself gone."""
    successor = live_successor(model, day)
    return replace(
        diagnosis,
        severity=Severity.WARNING if live_on(model, day) else Severity.ERROR,
        hints=(f"Use {successor.id}.",) if successor else (_current_models_hint(day),),
    )


def _unknown_model(name: str, kind: str, day: dt.date) -> Diagnosis:
    """A Gemini name the table does not know as an image model; suggestions only among models live on `day`."""
    live = [m.id for m in live_models(day)]
    close = closest_models(name, live)
    what = "an image model" if kind == "unknown-image" else "a model that makes images"
    return Diagnosis.of(
        "wrong-model-name",
        "likely" if close else "possible",
        [f"{name} is not {what} the model table knows (checked {models()[0].checked}; the live model list decides)"],
        severity="warning",
        hints=[f"Closest image models: {', '.join(close)}."] if close else [f"Image models: {', '.join(live)}."],
    )


def _current_models_hint(day: dt.date) -> str:
    current = [m.id for m in live_models(day) if m.status == "ga"]
    return f"Plan the move to a current image model ({', '.join(current)}); check it with `gemini-doctor check`."


_DAY: list = [-1e9, None]  # when the day was last read (time.monotonic()), and the day


def today() -> dt.date:
    """The day lint judges models on: the table's shutdown dates before it are past. Read at most once a second
    (the local date costs a look at the time zone file: a tree of files asks for it once per file)."""
    now = time.monotonic()
    if now - _DAY[0] > 1.0:
        _DAY[:] = [now, dt.date.today()]
    return _DAY[1]


# requests -------------------------------------------------------------------------------------------------------
@dataclass
class _Request:
    """One request (or a config / imageConfig standing alone) being judged, with the nodes each setting sits at."""

    state: _File
    request: Obj | None
    config: Obj | None
    settings: RequestSettings
    model: Model | None
    kind: str
    image: Obj | None = None  # imageConfig inside the config
    top: Obj | None = None  # imageConfig at the top level of the request
    image_context: bool = False

    def judge(self, node: Node | None, **fields) -> None:
        if node is None:
            return
        for diagnosis in _judged(tuple(fields.items()), self.model):
            self.state.hits.append(Hit(diagnosis, node, _edit(diagnosis, node)))

    def add(self, node: Node, evidence: str, hint: str, severity: str = "error") -> None:
        diagnosis = Diagnosis.of("invalid-argument", "likely", [evidence], severity=severity, hints=[hint])
        self.state.hits.append(Hit(diagnosis, node))


# request_findings of one setting for one model, kept: a tree repeats the same few values, and a diagnosis is
# immutable. Keyed by the model's identity (the table's object, held in the value so its id is not reused).
_JUDGED: dict[tuple, tuple[Model | None, tuple[Diagnosis, ...]]] = {}


def _judged(fields: tuple[tuple[str, Any], ...], model: Model | None) -> tuple[Diagnosis, ...]:
    key = (fields, id(model))
    found = _JUDGED.get(key)
    if found is None or found[0] is not model:
        if len(_JUDGED) > 4096:
            _JUDGED.clear()
        found = _JUDGED[key] = (model, tuple(request_findings(RequestSettings(**dict(fields)), model)))
    return found[1]


def _request(state: _File, request: Obj | None, config: Obj | None, body: dict) -> None:
    """One request (or a config / imageConfig standing alone): read it, judge it, place each finding."""
    if request is not None:
        config = _obj(request.value(*GENERATION_CONFIG_KEYS)) or _obj(request.value("config"))
    settings = read_request(body)
    model, kind = _model_of(state, request)
    here = _Request(state, request, config, settings, model, kind)
    here.image = _obj(config.value(*IMAGE_CONFIG_KEYS)) if config else None
    here.top = _obj(request.value(*IMAGE_CONFIG_KEYS)) if request else None
    asks = "IMAGE" in (m.upper() for m in settings.modalities or ()) or settings.sent_image_config
    state.image_fields |= asks
    if asks and request is not None:
        state.asks_for_images.add(id(request))
    here.image_context = asks or kind in ("id", "alias", "unknown-image")
    here.image_context |= kind in ("file", "variable") and state.names_image_model
    _modalities(here)
    _fields(here)
    _size_and_ratio(here)
    if config is not None:
        _misspelled(state.hits, config, "in the generation config")
    _top_level_modalities(here)


def _modalities(here: _Request) -> None:
    """responseModalities without IMAGE, where the request is for images (a text request to a text model is fine)."""
    settings, state, config = here.settings, here.state, here.config
    upper = [m.upper() for m in settings.modalities or ()]
    modalities = config.entry(*MODALITY_KEYS) if config else None
    if not (modalities and settings.modalities is not None and _all_literal(modalities.value)) or "AUDIO" in upper:
        return
    text_only_model = not settings.sent_image_config and (
        here.kind == "other-gemini"
        or (here.kind in ("file", "variable") and state.names_other_gemini and not state.names_image_model)
    )
    if here.image_context and not text_only_model:
        here.judge(modalities.value, modalities=settings.modalities)


def _fields(here: _Request) -> None:
    """Misplaced, unknown, Vertex-only and Imagen fields, each at the key that is wrong; candidateCount > 1."""
    settings, request, config = here.settings, here.request, here.config
    places = [e.node for e in (request.entry(*IMAGE_CONFIG_KEYS) if request and here.top else None,) if e]
    places += [e.node for camel, snake in IMAGE_CONFIG_FIELDS.items() if config and (e := config.entry(camel, snake))]
    for index, note in enumerate(settings.misplaced):
        here.judge(places[index] if index < len(places) else (request or config), misplaced=(note,))
    holders = [o for o in (here.image or here.top, config, request) if o is not None]
    for name in settings.unknown_image_fields:
        if name not in settings.imagen_fields:  # the Imagen finding says more
            here.judge(_key_node(holders, name), unknown_image_fields=(name,))
    for name in settings.vertex_only if not here.state.vertex else ():
        here.judge(_key_node(holders, name), vertex_only=(name,))
    for name in settings.imagen_fields:
        here.judge(_key_node(holders, name), imagen_fields=(name,))
    _loose_vertex_fields(here)
    count = config.value(*COUNT_KEYS) if config else None
    if isinstance(count, Num) and settings.candidate_count and here.image_context and here.kind != "other-gemini":
        here.judge(count, candidate_count=settings.candidate_count)


def _loose_vertex_fields(here: _Request) -> None:
    """personGeneration (and the other imageConfig fields of Vertex AI) written loose in the generation config."""
    config = here.config
    if config is None or (here.request is None and config.key in IMAGE_CONFIG_KEYS):
        return
    for entry in config.entries:
        if entry.key in VERTEX_ONLY_FIELDS:
            only = "" if here.state.vertex else "; and only Vertex AI takes it: the Gemini Developer API answers 400"
            here.add(
                entry.node,
                f"{entry.key} sits directly in the generation config, not inside imageConfig{only}",
                f"Move {entry.key} into imageConfig"
                + ("." if here.state.vertex else ", and send it only to Vertex AI (aiplatform.googleapis.com)."),
            )


def _size_and_ratio(here: _Request) -> None:
    size = _setting(here.image or here.top, here.config, SIZE_KEYS)
    if literal_text(size) is not None:
        here.judge(size, image_size=literal_text(size))
    ratio = _setting(here.image or here.top, here.config, RATIO_KEYS)
    text = literal_text(ratio)
    if text is None or ratio is None:
        return
    if here.model is not None:
        here.judge(ratio, aspect_ratio=text)
    elif text not in all_ratios():
        here.add(
            ratio,
            f"aspectRatio {text!r} is not one any image model in the model table accepts",
            f"Use one of: {', '.join(all_ratios())} (which ones depends on the model).",
        )


def _top_level_modalities(here: _Request) -> None:
    """responseModalities beside `contents` in a generateContent request, outside its config. Not a Live API
    setup (LiveConnectConfig takes it there), not a dict with no `contents` or request call to tell it is one."""
    request = here.request
    if request is None or _in_live_call(request):
        return
    found = request.entry(*MODALITY_KEYS)
    if found is None or here.config is request:
        return
    if request.entry("contents") is None and request.callee_tail not in REQUEST_CALLS:
        return
    here.add(
        found.node,
        f"{found.key} sits at the top level of the request, not inside generationConfig (or config)",
        "Put responseModalities inside generationConfig (REST) or config (google-genai SDKs).",
    )


def _in_live_call(obj: Obj | None) -> bool:
    while obj is not None:
        if obj.callee_tail in LIVE_CALLS:
            return True
        obj = obj.parent
    return False


def _edit(diagnosis: Diagnosis, node: Node) -> Edit | None:
    """The fix of a finding, where its rule has one and the value is a plain literal."""
    fix = FIXES.get(diagnosis.error.slug)
    text = literal_text(node)
    if fix is None or text is None or not isinstance(node, Str):
        return None
    safety, rewrite = fix
    new = rewrite(text)
    if new is None or new == text:
        return None
    return Edit(node.line, node.col, node.end_line, node.end_col, text, new, safety)


def _all_literal(node: Node) -> bool:
    if not isinstance(node, Lst):
        return False
    for item in node.items:
        if isinstance(item, Str) and not item.template:
            continue
        if isinstance(item, Sym) and modality_name(item.name):
            continue
        return False
    return True


def _setting(image: Obj | None, config: Obj | None, keys: tuple[str, str]) -> Node | None:
    """Where read_request takes imageSize / aspectRatio from: imageConfig, else loose in the config."""
    for holder in (image, config):
        if holder is not None:
            found = holder.value(*keys)
            if found is not None:
                return found
    return None


def _key_node(holders: list[Obj], name: str) -> Node | None:
    for holder in holders:
        found = holder.entry(name)
        if found is not None:
            return found.node
    return holders[0] if holders else None


def _misspelled(hits: list[Hit], config: Obj, where: str) -> None:
    for entry in config.entries:
        key = entry.key
        if key in CONFIG_SIGNS or key in GENERATION_CONFIG_KEYS:
            continue
        folded = key.lower().replace("_", "")
        for target, spelled in NEAR_KEYS.items():
            if folded.startswith(target) or (
                abs(len(folded) - len(target)) <= 3 and difflib.SequenceMatcher(None, folded, target).ratio() >= 0.86
            ):
                snake = re.sub(r"(?<!^)([A-Z])", r"_\1", spelled).lower()
                hits.append(
                    Hit(
                        Diagnosis.of(
                            "invalid-argument",
                            "likely",
                            [f"{key!r} {where} is not a field the Gemini API knows: a misspelling of {spelled}?"],
                            hints=[f"Spell it {spelled} (or {snake} in Python and REST)."],
                        ),
                        entry.node,
                    )
                )
                break


@cache
def all_ratios() -> tuple[str, ...]:
    """Every aspect ratio some model in the table accepts, in the table's order."""
    seen: dict[str, None] = {}
    for model in models():
        seen.update(dict.fromkeys(model.aspect_ratios))
    return tuple(seen)


# endpoints ------------------------------------------------------------------------------------------------------
def _endpoints(state: _File) -> None:
    """URLs on the OpenAI-compatible route or on v1, and api_version "v1": traps of the Gemini Developer API, not
    reported in a file that calls Vertex AI unless the URL itself is the Developer API's."""
    image_file = state.image_fields or state.names_image_model
    for string in state.scan.strings:
        value = string.value
        if "/" not in value or _REGEX_SIGNS.search(value):
            continue  # not a URL (a regular expression, a sentence)
        if state.vertex and "generativelanguage" not in value:
            continue
        if is_openai_route(value) and _GEMINI_OPENAI.search(value):
            _openai_route(state, string, image_file)
        elif _V1_ROUTE.search(value) and image_file:
            evidence = (
                f"URL {_short(value)} uses API version v1, whose GenerationConfig lacked responseModalities and "
                "imageConfig, in a file that sends image settings"
            )
            diagnosis = Diagnosis.of(
                "wrong-endpoint", "likely", [evidence], severity="warning", hints=["Use /v1beta/ for image generation."]
            )
            state.hits.append(Hit(diagnosis, string))
    _api_versions(state)


def _openai_route(state: _File, string: Str, image_file: bool) -> None:
    """A URL on the OpenAI-compatible route: a trap where image fields or the images route are in play, unless the
    one model the file names is served there (model table)."""
    value = string.value
    if not (
        "images/generations" in value.lower()
        or state.image_fields
        or (image_file and not value.rstrip("/").endswith("/openai"))
    ):
        return  # a bare /openai/ base URL is only a trap where image fields or routes are in play
    model = state.model
    if model is not None and model.openai_images and not model.is_shut_down:
        return  # the one model this file names is served on that route (model table)
    unserved = model if model is not None and not model.openai_images else None
    served = (
        f"{unserved.id} is not served there (model table)"
        if unserved
        else "it serves only some image models (e.g. not gemini-3-pro-image or gemini-3.1-flash-image)"
    )
    diagnosis = Diagnosis.of(
        "wrong-endpoint",
        "likely",
        [f"URL {_short(value)} is the OpenAI-compatible route: {served}"],
        severity="error" if unserved else "warning",
        hints=["Call the native route: POST /v1beta/models/{model}:generateContent."],
    )
    state.hits.append(Hit(diagnosis, string))


def _api_versions(state: _File) -> None:
    """api_version "v1" where image settings go through it (a Developer API trap: not in a Vertex AI file)."""
    if not (state.image_fields or state.names_image_model) or state.vertex:
        return
    for obj in state.scan.objects:
        found = obj.entry(*VERSION_KEYS)
        if found is not None and literal_text(found.value) == "v1" and _v1_matters(obj):
            state.hits.append(
                Hit(
                    Diagnosis.of(
                        "wrong-endpoint",
                        "likely",
                        [
                            f"{found.key} is 'v1' in a file that sends image settings: v1 lacked responseModalities "
                            "and imageConfig"
                        ],
                        severity="warning",
                        hints=[f'Set {found.key}="v1beta" (or leave it unset) for image generation.'],
                    ),
                    found.value,
                )
            )


def _v1_matters(holder: Obj) -> bool:
    """An api_version in a client's constructor, or in a call that itself sends image settings; an options dict
    shared by other calls (no image settings with it) says nothing about the image calls."""
    obj: Obj | None = holder
    while obj is not None:
        if obj.callee_tail in CLIENT_CALLS or any(e.key in CONFIG_SIGNS for e in obj.entries):
            return True
        config = _obj(obj.value(*GENERATION_CONFIG_KEYS)) or _obj(obj.value("config"))
        if config is not None and any(e.key in CONFIG_SIGNS for e in config.entries):
            return True
        obj = obj.parent
    return False


def _short(url: str, limit: int = 90) -> str:
    """A URL cut for a message, redacted first: a key cut in half would no longer look like one."""
    from gemini_doctor.redact import redact

    url = redact(url)
    return url if len(url) <= limit else url[: limit - 1] + "…"
